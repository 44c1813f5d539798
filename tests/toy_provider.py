"""A tiny dynamic provider for testing the harness (engine_double.host and .runner).

The provider runs inside the SDK's provider-host *process*, so it keeps its "cloud" in files:
``<stateDir>/<id>.json`` per resource and ``<stateDir>/calls.log``, one line per call, which the
tests read back. ``stateDir`` comes from the stack config ``toy:stateDir`` (sent with Configure).

Rules of the toy API:
- ``name`` (required string) cannot change: a change replaces the resource; with
  ``exclusive=True`` the replacement deletes first.
- ``size`` must be an integer from 1 to 10; ``color`` defaults to "blue". Both update in place.
- ``name == "explode"`` makes create fail, ``color == "explode"`` update; ``sleep`` (seconds) makes it slow; ``secret`` is
  accepted and echoed.
- ``wait_for`` (a list of call-log lines, e.g. ``["begin q", "check r"]``) holds a create, after it logs ``begin``,
  until each line is in the log: tests synchronise steps on what the engine did, not on time.
- ``serial`` is computed at create (a counter), ``revision`` at create/update.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any, Optional

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

TYPE = "pulumi-python:dynamic/toy:Toy"

# How long a create waits for its ``wait_for`` lines, and how often it reads the log meanwhile. The bound only
# ends a test whose engine never does what it waits for; a passing test waits for the lines, not for this.
WAIT_FOR_BOUND_SECONDS = 30.0
WAIT_FOR_POLL_SECONDS = 0.01


def _is_unknown(value: Any) -> bool:
    # The host deserializes with keep_unknowns=True: unknowns arrive as Unknown instances.
    return isinstance(value, Unknown) or value == pulumi.runtime.rpc.UNKNOWN


class ToyProvider(ResourceProvider):
    """Toy CRUD over JSON files; nothing live is held on the (pickled) instance."""

    state_dir: Optional[str] = None

    def configure(self, req: ConfigureRequest) -> None:
        self.state_dir = req.config.get("toy:stateDir")
        self.token = req.config.get("toy:token")

    # -- helpers ------------------------------------------------------------------------------
    def _dir(self) -> str:
        if not self.state_dir:
            raise RuntimeError("toy:stateDir is not configured")
        return self.state_dir

    def _log(self, *words: Any) -> None:
        line = " ".join(str(w) for w in words) + "\n"
        fd = os.open(os.path.join(self._dir(), "calls.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def _path(self, id_: str) -> str:
        return os.path.join(self._dir(), f"{id_}.json")

    def _save(self, id_: str, outs: dict) -> None:
        with open(self._path(id_), "w") as f:
            json.dump(outs, f)

    @staticmethod
    def _public(props: dict) -> dict:
        return {k: v for k, v in props.items() if not k.startswith("__")}

    # -- lifecycle ----------------------------------------------------------------------------
    def check(self, olds: dict, news: dict) -> CheckResult:
        unknown = sorted(k for k, v in news.items() if _is_unknown(v))
        self._log("check", news.get("name") if "name" not in unknown else "?", "unknown=" + ",".join(unknown),
                  "types=" + ",".join(type(news[k]).__name__ for k in unknown))
        failures = []
        name = news.get("name")
        if name is None:
            failures.append(CheckFailure("name", "name is required"))
        elif not _is_unknown(name) and not isinstance(name, str):
            failures.append(CheckFailure("name", "name must be a string"))
        size = news.get("size", 1)
        if not _is_unknown(size) and not (isinstance(size, (int, float)) and size == int(size) and 1 <= size <= 10):
            failures.append(CheckFailure("size", f"size must be an integer from 1 to 10, got {size!r}"))
        inputs = dict(news)
        inputs.setdefault("color", "blue")
        return CheckResult(inputs, failures)

    def diff(self, id_: str, olds: dict, news: dict) -> DiffResult:
        unknown = sorted(k for k, v in news.items() if _is_unknown(v))
        self._log("diff", id_, "unknown=" + ",".join(unknown))
        replaces = [k for k in ("name",) if olds.get(k) != news.get(k)]
        changed = [k for k in ("size", "color", "secret") if olds.get(k) != news.get(k)]
        return DiffResult(
            changes=bool(replaces or changed),
            replaces=replaces,
            delete_before_replace=bool(news.get("exclusive")),
        )

    def _wait_for(self, lines: list) -> None:
        deadline = time.monotonic() + WAIT_FOR_BOUND_SECONDS
        while True:
            logged = calls(self._dir())
            missing = [want for want in lines if not any(line == want or line.startswith(want + " ") for line in logged)]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"toy create waited {WAIT_FOR_BOUND_SECONDS:g} s for {missing} in the call log")
            time.sleep(WAIT_FOR_POLL_SECONDS)  # a bounded poll of the log, not a guess at how long steps take

    def create(self, props: dict) -> CreateResult:
        if props.get("sleep") or props.get("wait_for"):
            self._log("begin", props.get("name"))  # a slow or held create notes its start (tests see overlaps)
        if props.get("wait_for"):
            self._wait_for(props["wait_for"])
        if props.get("sleep"):
            time.sleep(props["sleep"])  # a deliberately slow call, the case under test (a call its deadline cuts)
        if props.get("name") == "explode":
            raise RuntimeError("toy create refused: name 'explode'")
        id_ = uuid.uuid4().hex[:12]
        # Output the host must capture (tests scan it, e.g. for leaked secrets).
        print(f"toy stderr: creating {props.get('name')}", file=sys.stderr)
        print(f"toy stdout: creating {props.get('name')}")
        serial = len([f for f in os.listdir(self._dir()) if f.endswith(".json")]) + 1
        outs = {**self._public(props), "serial": serial, "revision": 1}
        self._save(id_, outs)
        self._log("create", id_, props.get("name"))
        return CreateResult(id_, outs)

    def read(self, id_: str, props: dict) -> ReadResult:
        self._log("read", id_)
        try:
            with open(self._path(id_)) as f:
                outs = json.load(f)
        except FileNotFoundError:
            # An empty id means "gone". outs must be a dict: the host adds __provider to it.
            return ReadResult("", {})
        inputs = {k: outs[k] for k in ("name", "size", "color") if k in outs}
        if "secret" in outs:
            inputs["secret"] = outs["secret"]
        return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict, news: dict) -> UpdateResult:
        if news.get("color") == "explode":
            raise RuntimeError("toy update refused: color 'explode'")
        with open(self._path(id_)) as f:
            current = json.load(f)
        outs = {**self._public(news), "serial": current["serial"], "revision": current["revision"] + 1}
        self._save(id_, outs)
        self._log("update", id_, news.get("name"))
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict) -> None:
        if props.get("sleep"):
            time.sleep(props["sleep"])  # a deliberately slow delete, which logs when it is done
        self._log("delete", id_, props.get("name"))
        try:
            os.remove(self._path(id_))
        except FileNotFoundError:
            pass


class Toy(Resource, module="toy", name="Toy"):
    """A toy resource: ``name`` replaces, ``size``/``color`` update, ``serial``/``revision`` are computed."""

    name: pulumi.Output[str]
    size: pulumi.Output[float]
    color: pulumi.Output[str]
    serial: pulumi.Output[float]
    revision: pulumi.Output[float]

    def __init__(
        self,
        resource_name: str,
        name: pulumi.Input[str] = None,
        size: pulumi.Input[int] = None,
        color: pulumi.Input[str] = None,
        exclusive: Optional[bool] = None,
        secret: pulumi.Input[str] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        sleep: Optional[float] = None,
        wait_for: Optional[list] = None,
    ) -> None:
        props = {
            "sleep": sleep,
            "wait_for": wait_for,
            "name": name,
            "size": size,
            "color": color,
            "exclusive": exclusive,
            "secret": secret,
            "serial": None,
            "revision": None,
        }
        super().__init__(ToyProvider(), resource_name, props, opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> "Toy":
        """Look up an existing toy by id (a Read, no create)."""
        return Toy(resource_name, opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id)))


class EchoProvider(ResourceProvider):
    """No check/diff/update of its own: the host answers DIFF_UNKNOWN and the engine decides."""

    def create(self, props: dict) -> CreateResult:
        return CreateResult(uuid.uuid4().hex[:8], {"value": props.get("value")})


class Echo(Resource, module="toy", name="Echo"):
    """A resource on :class:`EchoProvider`."""

    value: pulumi.Output[str]

    def __init__(self, resource_name: str, value: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(EchoProvider(), resource_name, {"value": value}, opts)


def calls(state_dir: str) -> list[str]:
    """The provider's call log, one entry per call."""
    try:
        with open(os.path.join(state_dir, "calls.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def stored(state_dir: str) -> dict[str, dict]:
    """The toy "cloud": id -> stored outputs."""
    result = {}
    for entry in os.listdir(state_dir):
        if entry.endswith(".json"):
            with open(os.path.join(state_dir, entry)) as f:
                result[entry[: -len(".json")]] = json.load(f)
    return result
