"""The emulator's command line: start on port 0, print the URL, stay quiet, stop with exit code 0.

``emulator_process`` is also what the HTTP tests of the emulator use to run it as a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator, List, NamedTuple

import pytest
import requests

from pulumi_bird.emulator import DEFAULT_ORGANIZATION_ID, DEFAULT_WORKSPACE_ID

REPO = Path(__file__).resolve().parents[1]
# A key only these tests use, distinct from the emulator's default, to prove --access-key is honoured.
ACCESS_KEY = "cli-test-key-0123456789"
# The stdlib-only emulator starts in well under a second; the margin is for a loaded CI machine.
STARTUP_SECONDS = 15.0
# stop() returns within one poll interval; anything near this bound is a hang.
SHUTDOWN_SECONDS = 10.0
# Every HTTP call in these tests is to loopback: a slow answer is a bug, not the network.
HTTP_TIMEOUT_SECONDS = 10.0


class RunningEmulator(NamedTuple):
    """A started emulator process and a session that authenticates against it."""

    url: str
    session: requests.Session
    process: "subprocess.Popen[str]"


class _Session(requests.Session):
    """A session whose every call has a timeout, so no test can hang on a stuck server."""

    def request(self, method, url, **kwargs):  # type: ignore[no-untyped-def, override]
        kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
        return super().request(method, url, **kwargs)


def api_session(access_key: str = ACCESS_KEY) -> requests.Session:
    """A session that sends the access key and ignores proxy settings from the environment."""
    session = _Session()
    session.trust_env = False
    session.headers["Authorization"] = f"AccessKey {access_key}"
    return session


def _first_line(stream) -> str:  # type: ignore[no-untyped-def]
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=STARTUP_SECONDS).strip()
    except queue.Empty:
        raise AssertionError(f"the emulator printed no URL within {STARTUP_SECONDS} s") from None


def _start(args: List[str]) -> "subprocess.Popen[str]":
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "pulumi_bird.emulator", *args]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(process: "subprocess.Popen[str]", signum: int) -> int:
    if process.poll() is None:
        process.send_signal(signum)
    try:
        return process.wait(timeout=SHUTDOWN_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"the emulator did not stop within {SHUTDOWN_SECONDS} s of signal {signum}") from None


@contextlib.contextmanager
def emulator_process(provision_seconds: float = 0.3, *extra: str) -> Iterator[RunningEmulator]:
    """Run ``python -m pulumi_bird.emulator`` on port 0; on exit send SIGTERM and require exit code 0
    and a stderr that holds nothing but the startup line (no request logging)."""
    args = ["--port", "0", "--access-key", ACCESS_KEY, "--provision-seconds", str(provision_seconds), *extra]
    process = _start(args)
    session = api_session()
    try:
        url = _first_line(process.stdout)
        assert url.startswith("http://127.0.0.1:") and not url.endswith("/"), url
        yield RunningEmulator(url, session, process)
    finally:
        session.close()
        code = _stop(process, signal.SIGTERM)
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert code == 0, stderr
    assert stderr.splitlines() == [f"workspace {DEFAULT_WORKSPACE_ID} organization {DEFAULT_ORGANIZATION_ID}"]


def test_serves_and_stops_on_sigterm() -> None:
    with emulator_process() as emulator:
        response = emulator.session.get(f"{emulator.url}/workspaces/{DEFAULT_WORKSPACE_ID}/connectors")
        assert response.status_code == 200
        assert ACCESS_KEY not in response.text


def test_stops_with_exit_code_zero_on_sigint() -> None:
    process = _start(["--port", "0", "--provision-seconds", "0.1"])
    try:
        assert _first_line(process.stdout).startswith("http://127.0.0.1:")
    finally:
        code = _stop(process, signal.SIGINT)
        process.stdout.close()
        process.stderr.close()
    assert code == 0


def test_custom_ids_are_served_and_announced() -> None:
    workspace, organization = "0b8f7c0e-1111-4222-8333-444455556666", "0b8f7c0e-1111-4222-8333-777788889999"
    process = _start(["--workspace-id", workspace, "--organization-id", organization])
    try:
        url = _first_line(process.stdout)
        session = api_session(access_key="bird-emulator-access-key")  # the default key
        with session:
            assert session.get(f"{url}/workspaces/{workspace}/connectors").status_code == 200
            assert session.get(f"{url}/workspaces/{DEFAULT_WORKSPACE_ID}/connectors").status_code == 404
    finally:
        code = _stop(process, signal.SIGTERM)
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
