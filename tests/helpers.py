"""What several test modules share (test modules never import each other): a hand-moved clock, the constants of
the client tests, a running emulator process, and every registered resource with inputs that pass check."""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator, List, NamedTuple

import requests

import pulumi_bird
from pulumi_bird.api.readiness import FIRST_POLL_DELAY, poll_interval
from pulumi_bird.api.values import is_uuid
from pulumi_bird.emulator import DEFAULT_ORGANIZATION_ID, DEFAULT_WORKSPACE_ID


class FakeClock:
    """A monotonic clock the test moves by hand (``now``); ``sleep`` moves it and records the sleep."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


# --- the client tests (against ``responses``) -------------------------------------------------------------------

API = "https://api.bird.test"
KEY = "sk-live-very-secret-key-0001"
WS = "11111111-2222-4333-8444-555555555555"
ORG = "99999999-8888-4777-8666-555555555555"
CID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
CONNECTORS = f"{API}/workspaces/{WS}/connectors"


# --- the emulator as a process ----------------------------------------------------------------------------------

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


def first_line(stream) -> str:  # type: ignore[no-untyped-def]
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=STARTUP_SECONDS).strip()
    except queue.Empty:
        raise AssertionError(f"the emulator printed no URL within {STARTUP_SECONDS} s") from None


def start_process(args: List[str]) -> "subprocess.Popen[str]":
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "pulumi_bird.emulator", *args]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_process(process: "subprocess.Popen[str]", signum: int) -> int:
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
    process = start_process(args)
    session = api_session()
    try:
        url = first_line(process.stdout)
        assert url.startswith("http://127.0.0.1:") and not url.endswith("/"), url
        yield RunningEmulator(url, session, process)
    finally:
        session.close()
        code = stop_process(process, signal.SIGTERM)
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert code == 0, stderr
    assert stderr.splitlines() == [f"workspace {DEFAULT_WORKSPACE_ID} organization {DEFAULT_ORGANIZATION_ID}"]


# --- every registered resource ----------------------------------------------------------------------------------


def resource_modules() -> list[Any]:
    """The module of every resource in :data:`pulumi_bird.RESOURCES`."""
    return [importlib.import_module(f"pulumi_bird.{module}") for module in pulumi_bird.RESOURCES.values()]


def resource_classes() -> list[Any]:
    """Every resource class in :data:`pulumi_bird.RESOURCES`."""
    return [getattr(module, name) for module, name in zip(resource_modules(), pulumi_bird.RESOURCES)]


def example_inputs(cls: Any) -> dict[str, Any]:
    """The smallest inputs of ``cls`` that pass check, from its schema's examples; ids and URLs fresh, so that
    two objects made from them never collide on Bird."""
    inputs = cls.bird_provider.schema.example()
    for name, value in inputs.items():
        if is_uuid(value):
            inputs[name] = str(uuid.uuid4())
        elif isinstance(value, str) and value.startswith("https://"):
            inputs[name] = f"{value.rstrip('/')}/{uuid.uuid4()}"
    return inputs


def poll_schedule(until: float) -> list[float]:
    """The seconds after the POST at which an unhindered readiness waiter polls, up to the first poll at or
    after ``until`` (a channel active after ``until`` seconds is seen at the last one)."""
    times = [FIRST_POLL_DELAY]
    while times[-1] < until:
        times.append(times[-1] + poll_interval(times[-1]))
    return times
