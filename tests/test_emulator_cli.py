"""The emulator's command line: start on port 0, print the URL, stay quiet, stop with exit code 0.

``emulator_process`` is also what the HTTP tests of the emulator use to run it as a subprocess.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from helpers import (
    ACCESS_KEY,
    REPO,
    STARTUP_SECONDS,
    api_session,
    emulator_process,
    first_line,
    start_process,
    stop_process,
)
from pulumi_bird.emulator import DEFAULT_ORGANIZATION_ID, DEFAULT_WORKSPACE_ID


def test_serves_and_stops_on_sigterm() -> None:
    with emulator_process() as emulator:
        response = emulator.session.get(f"{emulator.url}/workspaces/{DEFAULT_WORKSPACE_ID}/connectors")
        assert response.status_code == 200
        assert ACCESS_KEY not in response.text


def test_stops_with_exit_code_zero_on_sigint() -> None:
    process = start_process(["--port", "0", "--provision-seconds", "0.1"])
    try:
        assert first_line(process.stdout).startswith("http://127.0.0.1:")
    finally:
        code = stop_process(process, signal.SIGINT)
        process.stdout.close()
        process.stderr.close()
    assert code == 0


def test_custom_ids_are_served_and_announced() -> None:
    workspace, organization = "0b8f7c0e-1111-4222-8333-444455556666", "0b8f7c0e-1111-4222-8333-777788889999"
    process = start_process(["--workspace-id", workspace, "--organization-id", organization])
    try:
        url = first_line(process.stdout)
        session = api_session(access_key="bird-emulator-access-key")  # the default key
        with session:
            assert session.get(f"{url}/workspaces/{workspace}/connectors").status_code == 200
            assert session.get(f"{url}/workspaces/{DEFAULT_WORKSPACE_ID}/connectors").status_code == 404
    finally:
        code = stop_process(process, signal.SIGTERM)
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert code == 0
    assert f"workspace {workspace} organization {organization}" in stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com"])
def test_refuses_a_non_loopback_host_without_allow_remote(host: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pulumi_bird.emulator", "--host", host],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert completed.returncode == 2
    assert "--allow-remote" in completed.stderr
    assert completed.stdout == ""


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])
def test_the_python_api_refuses_a_non_loopback_host_unless_asked(host: str) -> None:
    from pulumi_bird.emulator import BirdEmulator

    with pytest.raises(ValueError, match="not a loopback address; pass allow_remote=True"):
        BirdEmulator(host=host)
    assert BirdEmulator(host=host, allow_remote=True).host == host  # asked: allowed (not started here)
    assert BirdEmulator(host="::1").host == "::1" and BirdEmulator(host="localhost").host == "localhost"


def test_importing_the_emulator_pulls_in_no_heavy_dependency() -> None:
    code = (
        "import sys, pulumi_bird.emulator, pulumi_bird.emulator.__main__; "
        "print(sorted(m for m in ('pulumi', 'requests', 'pydantic') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=STARTUP_SECONDS
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_help_names_the_default_key_and_ids_and_the_rate_limit_options() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pulumi_bird.emulator", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert completed.returncode == 0, completed.stderr
    for expected in (
        "bird-emulator-access-key",
        DEFAULT_WORKSPACE_ID,
        DEFAULT_ORGANIZATION_ID,
        "--rate-limits",
        "--get-rate",
        "--post-rate",
        "--provision-reads",
        "/_emulator/rate-stats",
    ):
        assert expected in completed.stdout, expected
