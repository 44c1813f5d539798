"""The real Pulumi CLI, as `make e2e` runs it: a local file backend, a passphrase, no update checks, no plugin
downloads, loopback only.

``PULUMI_BIRD_ENGINE`` names the directory that ``make engine`` built (``tools/engine/build.sh --print``): the
pinned ``pulumi``, ``pulumi-language-yaml``, and our own ``pulumi-language-python`` and
``pulumi-resource-pulumi-python``. This Python's ``bin`` (``pulumi-resource-bird``) follows it on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from pulumi_bird.emulator.backend import DEFAULT_NUMBERS
from pulumi_bird.testing import emulator_contents

ENGINE_ENV = "PULUMI_BIRD_ENGINE"
REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-passphrase"
# A whole CLI command: a first run of a Python program starts a language host and a provider host (~2 s each).
COMMAND_TIMEOUT = 300.0

# Engine step ops (the event log's metadata.op) in the double's vocabulary (engine_double ProgramResult.steps).
_STEP_NAMES = {
    "same": "same",
    "create": "create",
    "update": "update",
    "delete": "delete",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "read": "read",
    "import": "import",
    "refresh": "refresh",
}


def engine_bin() -> Path:
    value = os.environ.get(ENGINE_ENV)
    if not value or not (Path(value) / "pulumi").is_file():
        raise RuntimeError(f"{ENGINE_ENV} must name the directory `make engine` builds (run `make e2e`)")
    return Path(value)


@dataclass
class Run:
    """One CLI command: its exit code, its output and the engine's events (``--event-log``)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def steps(self) -> dict[str, str]:
        """URN -> the step the engine took (``create``, ``update``, ``replace``, ``same``, ``delete``, ``read``),
        from the events that report a step's outcome (a preview's planned steps included)."""
        steps: dict[str, str] = {}
        for event in self.events:
            meta = (event.get("resOutputsEvent") or event.get("resourcePreEvent") or {}).get("metadata")
            if not meta or meta.get("type") == "pulumi:pulumi:Stack" or meta["type"].startswith("pulumi:providers:"):
                continue
            steps[meta["urn"]] = _STEP_NAMES.get(meta["op"], meta["op"])
        return steps

    def diagnostics(self, severity: str = "error") -> list[str]:
        return [e["diagnosticEvent"]["message"] for e in self.events
                if "diagnosticEvent" in e and e["diagnosticEvent"].get("severity") == severity]


class Pulumi:
    """The CLI with its own PULUMI_HOME and file backend under ``workdir``."""

    def __init__(self, workdir: Path, extra_env: Optional[Mapping[str, str]] = None) -> None:
        self.bin = engine_bin()
        self.workdir = workdir
        self.events_dir = workdir / "events"
        self.events_dir.mkdir(parents=True, exist_ok=True)
        (workdir / "state").mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BIRD_", "PULUMI_")) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        env.update({
            "PATH": os.pathsep.join([str(self.bin), str(Path(sys.executable).parent), env.get("PATH", "")]),
            "PULUMI_HOME": str(workdir / "home"),
            "PULUMI_BACKEND_URL": (workdir / "state").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
            "PULUMI_DEBUG_COMMANDS": "true",  # the CLI offers --event-log only then (as the Automation API sets it)
            "NO_PROXY": "127.0.0.1,localhost",
        })
        env.update(extra_env or {})
        self.env = env
        self._runs = 0

    def _command(self, args: Iterable[str], cwd: Path, events: bool) -> tuple[list[str], Optional[Path]]:
        command = [str(self.bin / "pulumi"), *args, "--cwd", str(cwd), "--non-interactive"]
        if not events:
            return command, None
        self._runs += 1
        log = self.events_dir / f"{self._runs:03d}.jsonl"
        return [*command, "--event-log", str(log)], log

    def __call__(self, *args: str, cwd: Path, events: bool = False, check: bool = True,
                 timeout: float = COMMAND_TIMEOUT) -> Run:
        command, log = self._command(args, cwd, events)
        done = subprocess.run(command, env=self.env, text=True, capture_output=True, timeout=timeout, check=False)
        run = Run(list(args), done.returncode, done.stdout, done.stderr, read_events(log))
        if check and run.returncode != 0:
            raise AssertionError(f"`pulumi {' '.join(args)}` exited {run.returncode}:\n{run.output}")
        return run

    def start(self, *args: str, cwd: Path) -> "Started":
        """Start a command in the background (for a signal); :func:`finish` collects it. Its output goes to a
        file that :meth:`Started.output_so_far` reads while it runs."""
        command, log = self._command(args, cwd, events=True)
        output = self.events_dir / f"{self._runs:03d}.out"
        with open(output, "w") as sink:
            process = subprocess.Popen(command, env=self.env, text=True, stdout=sink, stderr=subprocess.STDOUT)
        return Started(process, log, output, list(args))

    def stack(self, project: Path, name: str, config: Mapping[str, str], secrets: Iterable[str] = ()) -> "Stack":
        self("stack", "init", name, cwd=project)
        stack = Stack(self, project, name)
        stack.set_config(config, secrets)
        return stack


@dataclass
class Started:
    process: subprocess.Popen[str]
    log: Optional[Path]
    output: Path
    args: list[str]

    def output_so_far(self) -> str:
        return self.output.read_text(errors="replace")

    def events_so_far(self) -> list[dict[str, Any]]:
        return read_events(self.log)


def finish(started: Started, timeout: float = COMMAND_TIMEOUT) -> Run:
    started.process.wait(timeout=timeout)
    return Run(started.args, started.process.returncode, started.output_so_far(), "", read_events(started.log))


def read_events(log: Optional[Path]) -> list[dict[str, Any]]:
    """The engine's events; a line still being written (the command runs) is left for the next read."""
    if log is None or not log.is_file():
        return []
    events = []
    for line in log.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return events


@dataclass
class Stack:
    cli: Pulumi
    project: Path
    name: str

    def __call__(self, *args: str, **kwargs: Any) -> Run:
        return self.cli(*args, "--stack", self.name, cwd=self.project, **kwargs)

    def set_config(self, config: Mapping[str, str], secrets: Iterable[str] = ()) -> None:
        secret = set(secrets)
        for key, value in config.items():
            self("config", "set", *(["--secret"] if key in secret else []), key, value)

    def up(self, *extra: str, check: bool = True) -> Run:
        return self("up", "--yes", *extra, events=True, check=check)

    def preview(self, *extra: str, check: bool = True) -> Run:
        return self("preview", *extra, events=True, check=check)

    def refresh(self, *extra: str, check: bool = True) -> Run:
        return self("refresh", "--yes", *extra, events=True, check=check)

    def destroy(self, *extra: str, check: bool = True) -> Run:
        return self("destroy", "--yes", *extra, events=True, check=check)

    def outputs(self) -> dict[str, Any]:
        return json.loads(self("stack", "output", "--json", "--show-secrets").stdout)

    def export(self) -> dict[str, Any]:
        return json.loads(self("stack", "export").stdout)

    def remove(self) -> None:
        self("stack", "rm", "--yes", "--force")


def project_copy(source: Path, into: Path, program: Optional[Path] = None) -> Path:
    """``source``'s Pulumi.yaml in a directory of its own, so stack files stay out of the repository: the program
    directory it names (its ``main``) is linked, not copied, so the program run is the repository's own."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "Pulumi.yaml", into / "Pulumi.yaml")
    main = program or _main_of(source)
    if main is not None:
        link = into / main.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(main, target_is_directory=True)
    else:
        for entry in source.iterdir():
            if entry.name != "Pulumi.yaml" and not entry.name.startswith(("Pulumi.", ".")):
                (into / entry.name).symlink_to(entry)
    return into


def _main_of(source: Path) -> Optional[Path]:
    for line in (source / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("main:"):
            return (source / line.split(":", 1)[1].strip()).resolve()
    return None


# The config of the examples/channels stack in every language (YAML, TypeScript) on the emulator.
SECRET_KEYS = {"bird:accessKey", "webhookSigningKey"}


def example_config(emulator) -> dict[str, str]:
    return {"bird:accessKey": emulator.access_key, "bird:apiUrl": emulator.url,
            "bird:workspaceId": emulator.workspace_id, "bird:organizationId": emulator.organization_id,
            "smsNumber": DEFAULT_NUMBERS[0][0], "voiceNumber": DEFAULT_NUMBERS[1][0],
            "webhookSigningKey": "e2e-" + "k" * 40}


def channels_stack_lifecycle(stack: Stack, emulator: Any) -> None:
    """The examples/channels stack in any language: preview, up (the project's own plugin, each object in Bird as
    the outputs name it), a no-op up, a refresh without changes, destroy; the emulator is empty after."""
    try:
        planned = stack.preview()
        assert sorted(planned.steps().values()) == ["create"] * 3
        made = stack.up()
        assert "warning: using pulumi-resource-bird from $PATH" not in made.output  # the project's own plugin
        outputs = stack.outputs()
        held = emulator_objects(emulator)
        assert sorted(c["id"] for c in held["connectors"]) == sorted([outputs["smsConnectorId"],
                                                                      outputs["voiceConnectorId"]])
        assert [w["id"] for w in held["webhooks"]] == [outputs["webhookSubscriptionId"]]
        assert held["webhooks"][0]["eventFilters"] == [{"key": "channelId", "value": outputs["smsChannelId"]}]
        assert set(stack.up("--expect-no-changes").steps().values()) == {"same"}
        stack.refresh("--expect-no-changes")
        stack.destroy()
    finally:
        stack.destroy(check=False)
        stack.remove()
    assert is_empty(emulator)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` (an observable fact, not a delay) every 50 ms for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def interrupt(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)


# What the emulator holds in its workspace (connectors, webhooks): the toolkit's own reading of it.
emulator_objects = emulator_contents


def is_empty(emulator: Any) -> bool:
    return not any(emulator_objects(emulator).values())
