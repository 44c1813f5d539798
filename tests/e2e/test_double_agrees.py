"""The double (tests/engine_double) answers to the engine: the same scenarios through both, compared.

Each scenario runs on a fresh emulator per driver. After every command the two must agree on:
- the steps per resource (create, update, replace, same, delete), for previews and updates;
- the stack's outputs and each resource's recorded outputs (ids and Bird's timestamps masked);
- the calls that changed something on the emulator (method and route, ids masked, in order per route).
GETs are compared as the set of routes read, not counted: how often a readiness poll runs depends on timing.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from test_failures import PROGRAMS, VOICE_NUMBER_ID, bird_config
from test_root_program import patch_webhook

from demo import SECRET_KEYS, demo_config
from engine_double import ProgramError, State, destroy, refresh, run_program, secret
from pulumi_bird.api.values import VOICE_TEMPLATE
from pulumi_bird.emulator import BirdEmulator
from pulumi_cli import REPO, Pulumi, Stack, emulator_objects, is_empty, project_copy

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The engine's marker of a secret value in state (sdk/go/common/resource/sig.Secret).
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def mask(value: Any) -> Any:
    """Ids to <id>, Bird's timestamps and the pickled provider dropped, secrets to <secret>."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == _SECRET_SIG:
            return "<secret>"
        return {k: mask(v) for k, v in value.items() if not k.startswith("__") and not k.endswith(("At", "_at"))}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return _UUID.sub("<id>", value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON numbers: the engine's state writes 600.0 as 600
    return value


def route(path: str) -> str:
    return _UUID.sub("<id>", path.split("?", 1)[0])


def calls(emulator: BirdEmulator) -> tuple[list[tuple[str, str]], set[str]]:
    """(the changing calls in order, per route; the set of routes read)."""
    changes = sorted((r.method, route(r.path)) for r in emulator.requests if r.method != "GET")
    reads = {route(r.path) for r in emulator.requests if r.method == "GET"}
    return changes, reads


def by_name(steps: dict[str, str]) -> dict[str, str]:
    return {urn.rsplit("::", 1)[1]: op for urn, op in steps.items()}


class Outcome:
    def __init__(self, steps: Optional[dict[str, str]], outputs: dict[str, Any], resources: dict[str, Any],
                 emulator: BirdEmulator, error: str = "") -> None:
        self.steps = steps
        self.outputs = mask(outputs)
        self.resources = mask(resources)
        self.calls = calls(emulator)
        self.error = error


class CliDriver:
    def __init__(self, cli: Pulumi, project: Path, emulator: BirdEmulator, config: dict[str, str],
                 secrets: set[str]) -> None:
        self.emulator = emulator
        self.stack: Stack = cli.stack(project_copy(project, cli.workdir / project.name), "dev", config, secrets)

    def _outcome(self, run: Any, steps: bool = True) -> Outcome:
        exported = self.stack.export()["deployment"].get("resources") or []
        resources = {r["urn"].rsplit("::", 1)[1]: r.get("outputs", {}) for r in exported
                     if r["type"].startswith("pulumi-python:dynamic/")}
        outputs = self.stack.outputs() if run.returncode == 0 else {}
        return Outcome(by_name(run.steps()) if steps else None, outputs, resources, self.emulator,
                       "" if run.returncode == 0 else run.output)

    def preview(self, config: dict[str, str]) -> Outcome:
        self.stack.set_config(config)
        return self._outcome(self.stack.preview(check=False))

    def up(self, config: dict[str, str]) -> Outcome:
        self.stack.set_config(config)
        return self._outcome(self.stack.up("--skip-preview", check=False))

    def refresh(self) -> Outcome:
        return self._outcome(self.stack.refresh(check=False), steps=False)

    def destroy(self, run_program: bool = False) -> Outcome:
        return self._outcome(self.stack.destroy(*(["--run-program"] if run_program else []), check=False))


class DoubleDriver:
    def __init__(self, project: Path, emulator: BirdEmulator, config: dict[str, str], secrets: set[str]) -> None:
        self.project = str(project)
        self.emulator = emulator
        self.secrets = secrets
        self.config = dict(config)
        self.state: Optional[State] = None

    def _stack_config(self) -> dict[str, Any]:
        return {k: secret(v) if k in self.secrets else v for k, v in self.config.items()}

    def _resources(self, state: Optional[State]) -> dict[str, Any]:
        """Recorded outputs, those the state marks secret shown as the engine's state shows them."""
        return {r.name: {k: {"4dabf18193072939515e22adb298388d": _SECRET_SIG} if k in r.secret_outputs else v
                         for k, v in r.outputs.items()}
                for r in (state.resources if state else [])}

    def _run(self, action: Callable[[], Any], steps_of: Callable[[Any], Optional[dict[str, str]]]) -> Outcome:
        try:
            result = action()
        except ProgramError as exc:
            self.state = exc.state if exc.state is not None else self.state
            return Outcome(None, {}, self._resources(self.state), self.emulator, str(exc))
        return Outcome(steps_of(result), self._outputs(), self._resources(self.state), self.emulator)

    def _outputs(self) -> dict[str, Any]:
        return dict(self.state.outputs) if self.state else {}

    def preview(self, config: dict[str, str]) -> Outcome:
        self.config.update(config)
        return self._run(lambda: run_program(self.project, config=self._stack_config(), state=self.state,
                                             preview=True),
                         lambda result: by_name(result.steps))

    def up(self, config: dict[str, str]) -> Outcome:
        self.config.update(config)

        def act() -> Any:
            result = run_program(self.project, config=self._stack_config(), state=self.state, skip_preview=True)
            self.state = result.state
            return result
        return self._run(act, lambda result: by_name(result.steps))

    def refresh(self) -> Outcome:
        def act() -> Any:
            assert self.state is not None
            self.state = refresh(self.state)
        return self._run(act, lambda _: None)

    def destroy(self, run_program: bool = False) -> Outcome:
        def act() -> Any:
            assert self.state is not None
            before = {r.name for r in self.state.resources}
            self.state = destroy(self.state, config=self._stack_config(), project=self.project,
                                 run_program=run_program)
            return before
        return self._run(act, lambda names: dict.fromkeys(names, "delete"))


def compare(name: str, engine: Outcome, double: Outcome, reads: bool = True) -> None:
    assert bool(engine.error) == bool(double.error), f"{name}: engine error {engine.error!r}, double {double.error!r}"
    if engine.steps is not None and double.steps is not None:
        assert engine.steps == double.steps, f"{name}: steps"
    assert engine.outputs == double.outputs, f"{name}: stack outputs"
    assert engine.resources == double.resources, f"{name}: recorded outputs {engine.resources} != {double.resources}"
    assert Counter(engine.calls[0]) == Counter(double.calls[0]), f"{name}: changing calls"
    if reads:
        assert engine.calls[1] == double.calls[1], f"{name}: routes read"


def agree(twins: tuple[BirdEmulator, BirdEmulator], engine: CliDriver, double: DoubleDriver) -> Callable[..., Any]:
    """``both(name, act, error=)``: ``act`` on each driver, compared; ``error``: text both failures must hold."""

    def both(name: str, act: Callable[[Any], Outcome], *, error: Optional[str] = None,
             reads: bool = True) -> tuple[Outcome, Outcome]:
        for emu in twins:
            emu.clear_requests()
        seen = act(engine), act(double)
        compare(name, *seen, reads=reads)
        if error is not None:
            assert error in seen[0].error and error in seen[1].error, f"{name}: {seen[0].error} / {seen[1].error}"
        return seen

    return both


@pytest.fixture
def twins(tmp_path: Path):
    """Two emulators, one for the engine and one for the double."""
    with BirdEmulator(provision_seconds=1.0) as for_engine, BirdEmulator(provision_seconds=1.0) as for_double:
        yield for_engine, for_double
        assert is_empty(for_engine) and is_empty(for_double)


def test_lifecycle_of_the_root_program(cli: Pulumi, twins) -> None:
    for_engine, for_double = twins
    engine = CliDriver(cli, REPO, for_engine, demo_config(for_engine), set(SECRET_KEYS))
    double = DoubleDriver(REPO, for_double, demo_config(for_double), set(SECRET_KEYS))

    both = agree(twins, engine, double)
    try:
        both("preview", lambda d: d.preview({}))
        both("up", lambda d: d.up({}))
        both("no-op up", lambda d: d.up({}))
        both("in-place update", lambda d: d.up({"webhookUrl": "https://hooks.example.com/bird/renamed"}))
        both("replacement", lambda d: d.up({"smsMessageType": "promotional"}))
        both("refresh without changes", lambda d: d.refresh())
        for emu in twins:
            hook = emulator_objects(emu)["webhooks"][0]["id"]
            patch_webhook(emu, hook, url="https://elsewhere.example.com/hook")
        both("refresh of a change made in Bird", lambda d: d.refresh())
        both("up after the drift", lambda d: d.up({}))
        both("a check failure", lambda d: d.preview({"smsMessageType": "loud"}), error="channel_message_type")
        both("destroy", lambda d: d.destroy())
    finally:
        engine.destroy()
        if double.state is not None:
            destroy(double.state)


def test_a_rotated_access_key_on_destroy(cli: Pulumi, twins) -> None:
    for_engine, for_double = twins
    engine = CliDriver(cli, REPO, for_engine, demo_config(for_engine), set(SECRET_KEYS))
    double = DoubleDriver(REPO, for_double, demo_config(for_double), set(SECRET_KEYS))
    both = agree(twins, engine, double)
    both("up", lambda d: d.up({}))
    for emu in twins:
        emu.access_key = "the-rotated-key"
    both("config set", lambda d: d.preview({"bird:accessKey": "the-rotated-key"}))
    both("destroy with the stored key", lambda d: d.destroy(), error="Bird refused the access key")
    # A known difference (README, "Testing your own programs"): `destroy --run-program` runs the program, so its
    # invokes (get_phone_number: a numbers listing) reach Bird; the double's destroy(run_program=True) takes
    # today's config without running the program. Steps, state and every change agree.
    both("destroy --run-program", lambda d: d.destroy(run_program=True), reads=False)


def test_an_adopted_channel_renamed_in_bird(cli: Pulumi, twins) -> None:
    def adoptable(emu: BirdEmulator) -> dict[str, str]:
        made = emu.backend.create_connector(emu.workspace_id, {
            "name": "made in the dashboard", "connectorTemplateRef": VOICE_TEMPLATE,
            "arguments": {"phoneNumberId": VOICE_NUMBER_ID}})
        return {**bird_config(emu), "phoneNumberId": VOICE_NUMBER_ID, "name": "made in the dashboard",
                "connectorId": made["id"]}

    for_engine, for_double = twins
    engine = CliDriver(cli, PROGRAMS / "adopted", for_engine, adoptable(for_engine), {"bird:accessKey"})
    double = DoubleDriver(PROGRAMS / "adopted", for_double, adoptable(for_double), {"bird:accessKey"})
    both = agree(twins, engine, double)
    try:
        both("adopting up", lambda d: d.up({}))
        for emu in twins:
            (held,) = emulator_objects(emu)["connectors"]
            emu.backend._find_connector(emu.workspace_id, held["id"]).name = "renamed in the dashboard"
        both("refresh of the rename", lambda d: d.refresh())
        both("an up that would replace what adopt_id names", lambda d: d.up({}), error="adopt_id still names it")
        both("the new name declared", lambda d: d.up({"name": "renamed in the dashboard"}))
    finally:
        both("destroy", lambda d: d.destroy())
