"""Run a Pulumi program against the real dynamic-provider host, without the Pulumi CLI.

The program runs in-process under a mock resource monitor (the SDK's ``MockMonitor``,
extended); every dynamic resource it registers is sent to a :class:`~.host.ProviderHost` the way
the engine would: ``Check``, then ``Diff`` against the prior state, then ``Create``, ``Update``,
a replacement, ``Read`` (``get``) or an import. Resources of the prior state that the program no
longer registers are deleted afterwards, in reverse creation order, as ``pulumi up`` does.

The result's :class:`State` is JSON-serializable, so a test can keep it between runs like a
stack file::

    first = run_program("examples/sms", config=cfg)
    again = run_program("examples/sms", config=cfg, state=first.state)
    assert set(again.steps.values()) == {"same"}
    destroy(again.state, config=cfg)

What it does not do: real dependency scheduling (the SDK already registers a resource only after
its inputs resolve), provider resources other than dynamic ones (non-dynamic custom resources
echo their inputs and are not kept in state), ``replaceOnChanges``, aliases, transforms, hooks.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import copy
import json
import os
import runpy
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from google.protobuf import empty_pb2
from pulumi.runtime import rpc
from pulumi.runtime import settings as _settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockCallArgs, MockEngine, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop

from .host import UNKNOWN, ProviderError, ProviderHost, plain, to_struct

__all__ = [
    "DYNAMIC_TYPE_PREFIX",
    "ProgramError",
    "ProgramResult",
    "Registration",
    "ResourceState",
    "State",
    "UNKNOWN",
    "destroy",
    "refresh",
    "registered_inputs",
    "run_program",
]

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
"""Type token prefix of every ``pulumi.dynamic.Resource``."""

_STACK_TYPE = "pulumi:pulumi:Stack"
_STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
# The SDK's default executor would size itself from the CPU count; registrations block a worker
# each while the host works, so allow plenty (the host itself serves four at a time).
_PROGRAM_WORKERS = 32
_STATE_VERSION = 1


class ProgramError(Exception):
    """The program failed to deploy: a check failure, a provider error or an engine rule.

    :ivar resource: name of the resource concerned, if any.
    :ivar urn: its URN, if any.
    :ivar failures: ``(property, reason)`` pairs for a check failure.
    :ivar provider_error: the :class:`~.host.ProviderError` behind it, if any.
    :ivar state: the state as far as the run got (resources created before the failure are in
        it), so a test can still destroy them.
    """

    def __init__(
        self,
        message: str,
        *,
        resource: Optional[str] = None,
        urn: Optional[str] = None,
        failures: Iterable[tuple[str, str]] = (),
        provider_error: Optional[ProviderError] = None,
    ) -> None:
        super().__init__(message)
        self.resource = resource
        self.urn = urn
        self.failures = list(failures)
        self.provider_error = provider_error
        self.state: Optional[State] = None


# --- state -----------------------------------------------------------------------------------


def _encrypt(value: Any) -> dict:
    # Stack files keep secrets as ciphertext under the secret signature. This is base64, not
    # encryption: enough to keep plaintext out of a state a test scans, not to protect it.
    blob = base64.b64encode(json.dumps(value, sort_keys=True).encode()).decode()
    return {_SIG: _SECRET_SIG, "ciphertext": blob}


def _decrypt(value: Any) -> Any:
    return json.loads(base64.b64decode(value["ciphertext"]))


def _is_ciphertext(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_SIG) == _SECRET_SIG and "ciphertext" in value


def _seal(props: Mapping[str, Any], secret: Iterable[str]) -> dict:
    secret = set(secret)
    return {k: _encrypt(v) if k in secret else v for k, v in props.items()}


def _unseal(props: Mapping[str, Any]) -> tuple[dict, set]:
    out, secret = {}, set()
    for key, value in props.items():
        if _is_ciphertext(value):
            out[key] = _decrypt(value)
            secret.add(key)
        else:
            out[key] = value
    return out, secret


@dataclass
class ResourceState:
    """One resource as the engine records it in the stack.

    ``inputs`` are the checked inputs and ``outputs`` what the provider returned, both with
    ``__provider``; ``secret_inputs``/``secret_outputs`` name the top-level properties that are
    secret (plain in memory, ciphertext in :meth:`State.to_json`). ``external`` marks a resource
    read with ``get`` (never deleted); ``pending_delete`` an old copy of a replaced resource that
    still has to be deleted.
    """

    urn: str
    type: str
    name: str
    id: str
    inputs: dict
    outputs: dict
    secret_inputs: set = field(default_factory=set)
    secret_outputs: set = field(default_factory=set)
    external: bool = False
    protect: bool = False
    retain_on_delete: bool = False
    pending_delete: bool = False

    def to_dict(self) -> dict:
        """JSON-ready form, secrets as ciphertext."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "id": self.id,
            "inputs": _seal(self.inputs, self.secret_inputs),
            "outputs": _seal(self.outputs, self.secret_outputs),
            "external": self.external,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "pendingDelete": self.pending_delete,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ResourceState":
        """Inverse of :meth:`to_dict`."""
        inputs, secret_inputs = _unseal(data.get("inputs") or {})
        outputs, secret_outputs = _unseal(data.get("outputs") or {})
        return cls(
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            id=data.get("id", ""),
            inputs=inputs,
            outputs=outputs,
            secret_inputs=secret_inputs,
            secret_outputs=secret_outputs,
            external=bool(data.get("external")),
            protect=bool(data.get("protect")),
            retain_on_delete=bool(data.get("retainOnDelete")),
            pending_delete=bool(data.get("pendingDelete")),
        )


@dataclass
class State:
    """A stack's state: resources in creation order, plus the stack's exports."""

    resources: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    secret_outputs: set = field(default_factory=set)
    project: str = "test"
    stack: str = "dev"

    def get(self, urn: str) -> Optional[ResourceState]:
        """The live resource with this URN, or ``None``."""
        for res in self.resources:
            if res.urn == urn and not res.pending_delete:
                return res
        return None

    def find(self, name: str, type_: Optional[str] = None) -> ResourceState:
        """The live resource with this logical name (and type); ``KeyError`` if none or ambiguous."""
        hits = [
            r
            for r in self.resources
            if r.name == name and not r.pending_delete and (type_ is None or r.type == type_)
        ]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} resources named {name!r} in state")
        return hits[0]

    def to_json(self, **kwargs: Any) -> str:
        """Serialize like a stack file (secrets as ciphertext); ``kwargs`` go to ``json.dumps``."""
        data = {
            "version": _STATE_VERSION,
            "project": self.project,
            "stack": self.stack,
            "outputs": _seal(self.outputs, self.secret_outputs),
            "resources": [r.to_dict() for r in self.resources],
        }
        return json.dumps(data, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> "State":
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        if data.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported state version {data.get('version')!r}")
        outputs, secret_outputs = _unseal(data.get("outputs") or {})
        return cls(
            resources=[ResourceState.from_dict(r) for r in data.get("resources", [])],
            outputs=outputs,
            secret_outputs=secret_outputs,
            project=data.get("project", "test"),
            stack=data.get("stack", "dev"),
        )

    def copy(self) -> "State":
        """A deep copy."""
        return copy.deepcopy(self)


@dataclass
class Registration:
    """A resource registration as the program made it (before any provider call).

    ``inputs`` are plain values (secrets unwrapped, their names in ``secret_inputs``; unknowns as
    :data:`~.host.UNKNOWN`) and include the dill-pickled ``__provider`` of dynamic resources.
    ``import_id`` is set by ``ResourceOptions(import_=...)``, ``resource_id`` by
    ``ResourceOptions(id=...)`` (a ``get``).
    """

    type: str
    name: str
    urn: str
    inputs: dict
    import_id: Optional[str] = None
    resource_id: Optional[str] = None
    custom: bool = True
    secret_inputs: set = field(default_factory=set)
    parent: str = ""


@dataclass
class ProgramResult:
    """What a run produced.

    :ivar outputs: the stack's exports (``pulumi.export``), secrets unwrapped, integral numbers
        as ``int`` (as ``pulumi stack output --json`` shows them).
    :ivar secret_outputs: names of exports that are secret.
    :ivar resources: URN -> :class:`ResourceState` (planned states on a preview).
    :ivar state: the new state (on a preview: the prior state, unchanged).
    :ivar steps: URN -> ``"create"``, ``"update"``, ``"replace"``, ``"same"``, ``"read"``,
        ``"import"`` or ``"delete"``.
    """

    outputs: dict
    secret_outputs: set
    resources: dict
    state: State
    steps: dict

    def resource(self, name: str) -> ResourceState:
        """The resource with this logical name; ``KeyError`` if none or several."""
        hits = [r for r in self.resources.values() if r.name == name]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} resources named {name!r}")
        return hits[0]


# --- running a program -----------------------------------------------------------------------


def _normalize_config(config: Optional[Mapping[str, Any]], project: str) -> dict[str, str]:
    """Namespace bare keys with the project and render values as the CLI does (strings)."""
    result = {}
    for key, value in (config or {}).items():
        if ":" not in key:
            key = f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise ProgramError(f"config {key!r} is encrypted (secure:); pass it in plain via config=")
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            value = json.dumps(value)
        elif not isinstance(value, str):
            value = str(value)
        result[key] = value
    return result


@dataclass
class _Program:
    run: Callable[[], Any]
    project: str
    directory: Optional[str] = None  # where the entry point lives: cwd of program and host
    root: Optional[str] = None  # where Pulumi.yaml lives
    config: dict = field(default_factory=dict)


def _load_program(
    program: Union[Callable[[], Any], str, os.PathLike], project: Optional[str], stack: str
) -> _Program:
    if callable(program):
        return _Program(run=program, project=project or "test")
    import yaml

    directory = os.path.abspath(os.fspath(program))
    manifest = os.path.join(directory, "Pulumi.yaml")
    if not os.path.isfile(manifest):
        raise ProgramError(f"{directory} has no Pulumi.yaml")
    with open(manifest) as f:
        meta = yaml.safe_load(f) or {}
    name = project or meta.get("name")
    if not name:
        raise ProgramError(f"{manifest} has no name")
    main = os.path.join(directory, meta.get("main") or ".")
    path = os.path.join(main, "__main__.py") if os.path.isdir(main) else main
    if not os.path.isfile(path):
        raise ProgramError(f"program entry point {path} does not exist")
    stack_config: dict = {}
    stack_file = os.path.join(directory, f"Pulumi.{stack}.yaml")
    if os.path.isfile(stack_file):
        with open(stack_file) as f:
            stack_config = (yaml.safe_load(f) or {}).get("config") or {}
    program_dir = os.path.dirname(path)

    def run() -> None:
        # As the Python language host does: the program directory is the working directory and
        # on sys.path, and the entry point runs as __main__.
        old_cwd, old_path = os.getcwd(), list(sys.path)
        before = set(sys.modules)
        os.chdir(program_dir)
        sys.path.insert(0, program_dir)
        try:
            runpy.run_path(path, run_name="__main__")
        finally:
            os.chdir(old_cwd)
            sys.path[:] = old_path
            # Forget the program's own modules so the next run imports them afresh.
            for mod in set(sys.modules) - before:
                file = getattr(sys.modules[mod], "__file__", None) or ""
                if os.path.abspath(file).startswith(program_dir + os.sep):
                    del sys.modules[mod]

    return _Program(
        run=run, project=name, directory=program_dir, root=directory, config=stack_config
    )


def _execute(
    program: Callable[[], Any],
    monitor: MockMonitor,
    *,
    project: str,
    stack: str,
    preview: bool,
    config: Mapping[str, str],
    root_directory: Optional[str] = None,
) -> None:
    """Run ``program`` as the language host does (``run_in_stack``) against ``monitor``.

    Everything runs in a copy of the current context, on a thread of its own with its own event
    loop: the SDK keeps its settings, root resource and config in context variables, so nothing
    leaks into the caller or the next run, and a caller inside an event loop works too.
    """

    def run() -> None:
        _settings.configure(
            _settings.Settings(
                project=project,
                stack=stack,
                monitor=monitor,
                engine=MockEngine(None),
                dry_run=preview,
                organization="organization",
                root_directory=root_directory,
            )
        )
        _settings.ROOT.set(None)
        set_all_config(dict(config), [])
        loop = asyncio.new_event_loop()
        executor = ThreadPoolExecutor(max_workers=_PROGRAM_WORKERS, thread_name_prefix="pulumi-program")
        loop.set_default_executor(executor)
        loop.set_exception_handler(_quiet_unobserved)
        try:
            loop.run_until_complete(run_in_stack(program))
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
                with suppress(BaseException):
                    loop.run_until_complete(task)
            executor.shutdown(wait=True)
            loop.close()

    outcome: list[BaseException] = []

    def thread_main(context: contextvars.Context) -> None:
        try:
            context.run(run)
        except BaseException as exn:  # noqa: BLE001 - re-raised in the caller's thread
            outcome.append(exn)

    # No deadline here: every provider call under it has one (the host's per-call timeout).
    worker = threading.Thread(
        target=thread_main, args=(contextvars.copy_context(),), name="pulumi-program-main", daemon=True
    )
    worker.start()
    worker.join()
    if outcome:
        raise outcome[0]


def _quiet_unobserved(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    # A failed registration fails every output future of the resource; nobody awaits most of
    # them. The language host silences asyncio for the same reason; the error itself is raised.
    if "never retrieved" in str(context.get("message", "")):
        return
    loop.default_exception_handler(context)


class _NoMocks(Mocks):
    def call(self, args: MockCallArgs):
        raise ProgramError(f"function invokes are not supported by the runner: {args.token}")

    def new_resource(self, args: MockResourceArgs):
        raise AssertionError("unreachable: registrations are handled by the monitor")


class _Monitor(MockMonitor):
    """MockMonitor that hands registrations to a handler and captures the stack's exports.

    The stock MockMonitor turns both ``importId`` (RegisterResource) and ``id`` (ReadResource)
    into ``MockResourceArgs.resource_id`` and drops the exports (the stack registered by
    ``set_mocks`` finishes before the program runs); this one keeps them apart.
    """

    def __init__(self, handler: "_Handler") -> None:
        super().__init__(_NoMocks())
        self._handler = handler
        self.stack_urn: Optional[str] = None
        self.exports: dict = {}
        self.secret_exports: set = set()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack out of a child's type chain; MockMonitor does not.
        if parent and parent.split("::")[2].split("$")[-1] == _STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def _registration(self, request: Any, struct: Any, **extra: Any) -> Registration:
        # Ensure this worker thread has an event loop: deserializing resource references needs one.
        _ensure_event_loop()
        raw = rpc.deserialize_properties(struct, keep_unknowns=True)
        return Registration(
            type=request.type,
            name=request.name,
            urn=self.make_urn(request.parent, request.type, request.name),
            inputs=plain(raw),
            secret_inputs={k for k, v in raw.items() if rpc.is_rpc_secret(v)},
            parent=request.parent,
            **extra,
        )

    def _answer(self, reg: Registration, answer: tuple[str, dict, set]) -> tuple[str, Any]:
        """Record the handler's ``(id, outputs, secret names)``; return the id and the wire object."""
        id_, outputs, secret = answer
        self.resources[reg.urn] = MockMonitor.ResourceRegistration(reg.urn, id_, outputs)
        wrapped = {k: rpc.wrap_rpc_secret(v) if k in secret else v for k, v in outputs.items()}
        return id_, to_struct(wrapped, keep_secrets=True)

    def RegisterResource(self, request):
        if request.type == _STACK_TYPE:
            self.stack_urn = self.make_urn(request.parent, request.type, request.name)
            return resource_pb2.RegisterResourceResponse(urn=self.stack_urn)
        reg = self._registration(
            request,
            request.object,
            import_id=request.importId or None,
            custom=bool(request.custom),
        )
        id_, obj = self._answer(reg, self._handler.register(reg, request))
        return resource_pb2.RegisterResourceResponse(urn=reg.urn, id=id_, object=obj)

    def ReadResource(self, request):
        reg = self._registration(request, request.properties, resource_id=request.id)
        _, obj = self._answer(reg, self._handler.read(reg, request))
        return resource_pb2.ReadResourceResponse(urn=reg.urn, properties=obj)

    def RegisterResourceOutputs(self, request):
        # The root stack registers its exports here once the program is done (Stack._finish).
        if self.stack_urn is not None and request.urn == self.stack_urn:
            raw = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
            self.secret_exports = {k for k, v in raw.items() if rpc.is_rpc_secret(v)}
            self.exports = _json_numbers(plain(raw))
        return empty_pb2.Empty()


def _json_numbers(value: Any) -> Any:
    """Integral floats -> int, as ``pulumi stack output --json`` shows them (gRPC has only doubles)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


class _Handler:
    """Decides what the engine would do with each registration (subclassed per use)."""

    def register(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        raise NotImplementedError

    def read(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        raise NotImplementedError


def _stack_reference_outputs(
    name: str, refs: Optional[Mapping[str, Any]]
) -> tuple[dict, set]:
    if refs is None or name not in refs:
        known = ", ".join(sorted(refs or {})) or "none"
        raise ProgramError(
            f"StackReference {name!r} is not in stack_references (known: {known})", resource=name
        )
    ref = refs[name]
    if isinstance(ref, (ProgramResult, State)):
        return dict(ref.outputs), set(ref.secret_outputs)
    return dict(ref), set()


def _stack_reference_state(name: str, refs: Optional[Mapping[str, Any]]) -> dict:
    outputs, secret = _stack_reference_outputs(name, refs)
    return {
        "name": name,
        "outputs": {k: rpc.wrap_rpc_secret(v) if k in secret else v for k, v in outputs.items()},
        "secretOutputNames": sorted(secret),
    }


class _Recorder(_Handler):
    def __init__(self, stack_references: Optional[Mapping[str, Any]]) -> None:
        self.lock = threading.Lock()
        self.registrations: dict[str, Registration] = {}
        self.stack_references = stack_references

    def _record(self, reg: Registration) -> None:
        with self.lock:
            self.registrations[reg.name] = reg

    def register(self, reg, request):
        self._record(reg)
        id_ = reg.import_id or (f"{reg.name}_id" if reg.custom else "")
        return id_, reg.inputs, reg.secret_inputs

    def read(self, reg, request):
        self._record(reg)
        if reg.type == _STACK_REFERENCE_TYPE:
            refs = self.stack_references or {}
            if reg.resource_id in refs:
                return reg.resource_id, _stack_reference_state(reg.resource_id, refs), set()
            return reg.resource_id, {"name": reg.resource_id, "outputs": {}}, set()
        return reg.resource_id or "", reg.inputs, reg.secret_inputs


def registered_inputs(
    program: Callable[[], Any],
    *,
    config: Optional[Mapping[str, Any]] = None,
    project: str = "test",
    stack: str = "dev",
    preview: bool = False,
    stack_references: Optional[Mapping[str, Any]] = None,
) -> dict[str, Registration]:
    """Run ``program`` under a recording mock monitor and return its registrations by name.

    No provider is called: custom resources get the id ``"<name>_id"`` (or their import/get id)
    and echo their inputs as outputs. Use it to obtain the real inputs of real resource objects,
    ``__provider`` included::

        inputs = registered_inputs(lambda: Toy("a", name="x"))["a"].inputs

    If two resources share a name, the later registration wins.
    """
    recorder = _Recorder(stack_references)
    _execute(
        program,
        _Monitor(recorder),
        project=project,
        stack=stack,
        preview=preview,
        config=_normalize_config(config, project),
    )
    return dict(recorder.registrations)


def _engine_diff(old_inputs: Mapping[str, Any], news: Mapping[str, Any]) -> str:
    # DIFF_UNKNOWN: the engine compares old and new inputs itself.
    return "none" if dict(old_inputs) == dict(news) else "some"


def _provider_failed(what: str, name: str, urn: str, exn: ProviderError) -> ProgramError:
    """A ProgramError for a failed provider call: the provider's own last line, then its text."""
    return ProgramError(
        f"{what} failed: {exn.summary}\nprovider host said:\n{exn.message}",
        resource=name,
        urn=urn,
        provider_error=exn,
    )


def _delete_resource(host: ProviderHost, res: ResourceState) -> None:
    if res.external or res.retain_on_delete:
        return  # read-only or retained: the engine only drops it from the state
    if res.protect:
        raise ProgramError(
            f"resource '{res.name}' ({res.urn}) is protected and cannot be deleted",
            resource=res.name,
            urn=res.urn,
        )
    try:
        host.delete(res.urn, res.id, res.outputs, old_inputs=res.inputs)
    except ProviderError as exn:
        what = f"delete of resource '{res.name}' (id {res.id})"
        raise _provider_failed(what, res.name, res.urn, exn) from exn


class _Deployment(_Handler):
    """The engine's step generation and execution for one ``up`` or ``preview``."""

    def __init__(
        self,
        host: ProviderHost,
        prior: State,
        *,
        preview: bool,
        stack_references: Optional[Mapping[str, Any]],
    ) -> None:
        self.host = host
        self.preview = preview
        self.stack_references = stack_references
        self.prior_list = [r for r in prior.resources]
        self.prior = {r.urn: r for r in prior.resources if not r.pending_delete}
        self.lock = threading.Lock()
        self.new: dict[str, ResourceState] = {}
        self.planned: dict[str, ResourceState] = {}
        self.steps: dict[str, str] = {}
        self.seen: set[str] = set()
        self.replaced: list[ResourceState] = []  # old copies to delete after the program
        self.deleted_early: set[int] = set()  # id() of old copies deleted before replacement
        self.error: Optional[BaseException] = None

    # -- helpers ----------------------------------------------------------------------------

    def _fail(
        self, message: str, reg: Registration, exn: Optional[ProviderError] = None
    ) -> ProgramError:
        return ProgramError(message, resource=reg.name, urn=reg.urn, provider_error=exn)

    def _call(
        self, what: str, reg: Registration, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return fn(*args, **kwargs)
        except ProviderError as exn:
            what = f"{what} of resource '{reg.name}' ({reg.type})"
            raise _provider_failed(what, reg.name, reg.urn, exn) from exn

    def _claim(self, reg: Registration) -> None:
        with self.lock:
            if reg.urn in self.seen:
                raise self._fail(f"duplicate resource URN {reg.urn!r}", reg)
            self.seen.add(reg.urn)

    def _record(self, res: ResourceState, step: str) -> None:
        with self.lock:
            self.steps[res.urn] = step
            self.planned[res.urn] = res
            if not self.preview:
                self.new[res.urn] = res

    def _guard(self, fn: Callable[..., tuple], reg: Registration, request: Any) -> tuple:
        try:
            return fn(reg, request)
        except BaseException as exn:
            with self.lock:
                if self.error is None:
                    self.error = exn
            raise

    # -- registrations ----------------------------------------------------------------------

    def register(self, reg, request):
        return self._guard(self._register, reg, request)

    def read(self, reg, request):
        return self._guard(self._read, reg, request)

    def _register(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        self._claim(reg)
        if not reg.type.startswith(DYNAMIC_TYPE_PREFIX):
            # Components have no provider; other providers' resources are out of scope: echo.
            if not reg.custom:
                return "", {}, set()
            id_ = reg.import_id or ("" if self.preview else f"{reg.name}_id")
            return id_, reg.inputs, reg.secret_inputs

        old = self.prior.get(reg.urn)
        if old is not None and old.external:
            old = None  # a resource once read with get is now managed: the engine creates it
        news = dict(reg.inputs)
        if old is not None:
            for key in request.ignoreChanges:
                if key in old.inputs:
                    news[key] = old.inputs[key]
                else:
                    news.pop(key, None)
        checked = self._call(
            "check", reg, self.host.check, reg.urn, news, olds=old.inputs if old else None
        )
        if checked.failures:
            lines = "\n".join(f"  {prop}: {reason}" for prop, reason in checked.failures)
            raise ProgramError(
                f"resource '{reg.name}' ({reg.type}) failed check:\n{lines}",
                resource=reg.name,
                urn=reg.urn,
                failures=checked.failures,
            )
        inputs = checked.inputs
        secret_in = set(reg.secret_inputs) & set(inputs)
        # The engine marks an output secret when the input of the same name was secret.
        secret_out = secret_in | set(request.additionalSecretOutputs)
        protect = bool(request.protect) if request.HasField("protect") else False
        retain = bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False

        def state(id_: str, outputs: dict, extra_secret: Iterable[str] = ()) -> ResourceState:
            return ResourceState(
                urn=reg.urn,
                type=reg.type,
                name=reg.name,
                id=id_,
                inputs=inputs,
                outputs=outputs,
                secret_inputs=secret_in,
                secret_outputs=(secret_out | set(extra_secret)) & set(outputs),
                protect=protect,
                retain_on_delete=retain,
            )

        if reg.import_id and old is None:
            res = self._import(reg, inputs, state)
            self._record(res, "import")
            return res.id, res.outputs, res.secret_outputs

        if old is None:
            if self.preview:
                res = state("", inputs)  # computed outputs stay unknown
            else:
                created = self._call("create", reg, self.host.create, reg.urn, inputs)
                res = state(created.id, created.outs)
            self._record(res, "create")
            return res.id, res.outputs, res.secret_outputs

        diff = self._call(
            "diff",
            reg,
            self.host.diff,
            reg.urn,
            old.id,
            old.outputs,
            inputs,
            old_inputs=old.inputs,
            ignore_changes=tuple(request.ignoreChanges),
        )
        changes = diff.changes if diff.changes != "unknown" else _engine_diff(old.inputs, inputs)
        if diff.replaces:
            if old.protect:
                raise self._fail(
                    f"resource '{reg.name}' is protected and its change to "
                    f"{', '.join(diff.replaces)} requires a replacement",
                    reg,
                )
            if self.preview:
                res = state("", inputs)
            else:
                if diff.delete_before_replace or request.deleteBeforeReplace:
                    _delete_resource(self.host, old)
                    with self.lock:
                        self.deleted_early.add(id(old))
                    created = self._call("create", reg, self.host.create, reg.urn, inputs)
                else:
                    created = self._call("create", reg, self.host.create, reg.urn, inputs)
                    with self.lock:
                        self.replaced.append(old)
                res = state(created.id, created.outs)
            self._record(res, "replace")
        elif changes == "none":
            res = state(old.id, old.outputs, old.secret_outputs)
            self._record(res, "same")
        else:
            if self.preview:
                res = state(old.id, inputs)
            else:
                outs = self._call(
                    "update",
                    reg,
                    self.host.update,
                    reg.urn,
                    old.id,
                    old.outputs,
                    inputs,
                    old_inputs=old.inputs,
                )
                res = state(old.id, outs)
            self._record(res, "update")
        return res.id, res.outputs, res.secret_outputs

    def _import(
        self, reg: Registration, inputs: dict, state: Callable[..., ResourceState]
    ) -> ResourceState:
        if self.preview:
            return state(reg.import_id, inputs)
        found = self._call("import (read)", reg, self.host.read, reg.urn, reg.import_id, None, inputs)
        if not found.id:
            raise self._fail(
                f"cannot import resource '{reg.name}' ({reg.type}): id {reg.import_id!r} does not exist",
                reg,
            )
        old_inputs = found.inputs if found.inputs is not None else found.outs
        diff = self._call(
            "import (diff)",
            reg,
            self.host.diff,
            reg.urn,
            found.id,
            found.outs,
            inputs,
            old_inputs=old_inputs,
        )
        changes = diff.changes if diff.changes != "unknown" else _engine_diff(old_inputs, inputs)
        if changes != "none" or diff.replaces:
            detail = f" (replaces: {', '.join(diff.replaces)})" if diff.replaces else ""
            raise self._fail(
                f"inputs to import resource '{reg.name}' do not match the existing resource "
                f"{reg.import_id!r}{detail}; make the program's inputs match what exists",
                reg,
            )
        return state(found.id, found.outs)

    def _read(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        if reg.type == _STACK_REFERENCE_TYPE:
            name = reg.resource_id or ""
            return name, _stack_reference_state(name, self.stack_references), set()
        self._claim(reg)
        if not reg.type.startswith(DYNAMIC_TYPE_PREFIX):
            return reg.resource_id or "", reg.inputs, reg.secret_inputs
        if self.preview:
            # No provider calls in a preview: the read resource's properties stay unknown.
            res = ResourceState(
                reg.urn, reg.type, reg.name, reg.resource_id or "", reg.inputs, {}, external=True
            )
            self._record(res, "read")
            return res.id, {}, set()
        found = self._call("read", reg, self.host.read, reg.urn, reg.resource_id or "", None, reg.inputs)
        if not found.id:
            raise self._fail(
                f"resource '{reg.name}' ({reg.type}) with id {reg.resource_id!r} was not found", reg
            )
        res = ResourceState(
            urn=reg.urn,
            type=reg.type,
            name=reg.name,
            id=found.id,
            inputs=found.inputs if found.inputs is not None else reg.inputs,
            outputs=found.outs,
            secret_inputs=set(reg.secret_inputs),
            secret_outputs=set(reg.secret_inputs) & set(found.outs),
            external=True,
        )
        self._record(res, "read")
        return res.id, res.outputs, res.secret_outputs

    # -- after the program ------------------------------------------------------------------

    def leftovers(self) -> list[ResourceState]:
        """Prior resources to delete: unregistered ones, replaced copies, earlier pending deletes."""
        replaced = {id(r) for r in self.replaced}
        return [
            r
            for r in self.prior_list
            if id(r) not in self.deleted_early
            and (r.pending_delete or id(r) in replaced or r.urn not in self.seen)
        ]

    def snapshot(self, deleted: Iterable[ResourceState] = ()) -> State:
        """The stack now: this run's resources in order, then prior ones not superseded
        (untouched after a failure, or awaiting deletion), minus ``deleted``."""
        gone = {id(r) for r in deleted} | self.deleted_early
        with self.lock:
            fresh = list(self.new.values())
            replaced = {id(r) for r in self.replaced}
        keep = []
        for old in self.prior_list:
            if id(old) in gone:
                continue
            if old.pending_delete or id(old) in replaced:
                keep.append(_as_pending(old))  # an old copy that still exists
            elif old.urn not in self.new:
                keep.append(old)
        return State(resources=fresh + keep)


def _as_pending(res: ResourceState) -> ResourceState:
    clone = copy.copy(res)
    clone.pending_delete = True
    return clone


def _default_host_env(directory: Optional[str]) -> dict[str, str]:
    # The engine runs the host in the program's environment; give it this process's import path
    # (plus the program directory) so dill can import provider classes by reference.
    paths = [directory] if directory else []
    paths += [p for p in sys.path if p and os.path.isdir(p) and p not in paths]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def run_program(
    program: Union[Callable[[], Any], str, os.PathLike],
    *,
    config: Optional[Mapping[str, Any]] = None,
    host: Optional[ProviderHost] = None,
    state: Optional[State] = None,
    preview: bool = False,
    stack_references: Optional[Mapping[str, Any]] = None,
    project: Optional[str] = None,
    stack: str = "dev",
    host_env: Optional[Mapping[str, str]] = None,
) -> ProgramResult:
    """Run a Pulumi program like ``pulumi up`` (or ``pulumi preview`` with ``preview=True``).

    :param program: a callable, or a directory holding ``Pulumi.yaml`` (its ``name`` is the
        project, ``main`` the entry point; ``Pulumi.<stack>.yaml`` supplies config).
    :param config: stack config (``{"bird:accessKey": ...}``; bare keys get the project
        namespace); wins over the stack file. Visible through ``pulumi.Config`` and sent to the
        host's ``Configure``.
    :param host: a running :class:`~.host.ProviderHost` to use (it keeps the config it was
        started with); by default one is started with ``config`` and stopped at the end.
    :param state: the prior state (from an earlier run's ``result.state``).
    :param preview: only ``Check`` and ``Diff``; new resources' computed outputs stay unknown,
        nothing is created, updated, deleted or read.
    :param stack_references: ``pulumi.StackReference(name)`` -> that stack's outputs: a dict, a
        :class:`ProgramResult` or a :class:`State` (the latter two keep secrets secret).
    :param host_env: environment for a host started here (default: ``PYTHONPATH`` = this
        process's ``sys.path``).
    :raises ProgramError: check failures, provider errors, failed imports or gets, and any
        exception of the program itself (as ``__cause__``); its ``state`` holds what was deployed
        before the failure, so a test can still destroy it.
    """
    loaded = _load_program(program, project, stack)
    merged = {
        **_normalize_config(loaded.config, loaded.project),
        **_normalize_config(config, loaded.project),
    }
    prior = state.copy() if state is not None else State(project=loaded.project, stack=stack)
    owned = host is None
    if host is None:
        host = ProviderHost(
            config=merged,
            env=host_env if host_env is not None else _default_host_env(loaded.directory),
            cwd=loaded.directory,
            project=loaded.project,
            stack=stack,
        ).start()
    else:
        host.start()
    try:
        deployment = _Deployment(host, prior, preview=preview, stack_references=stack_references)
        monitor = _Monitor(deployment)
        try:
            _execute(
                loaded.run,
                monitor,
                project=loaded.project,
                stack=stack,
                preview=preview,
                config=merged,
                root_directory=loaded.root,
            )
        except Exception as exn:
            # The first failed registration explains the run better than what the SDK re-raised.
            error = deployment.error if isinstance(deployment.error, Exception) else exn
            if not isinstance(error, ProgramError):
                cause = error
                error = ProgramError(f"the program raised {type(cause).__name__}: {cause}")
                error.__cause__ = cause
            if preview:
                error.state = prior
            else:
                error.state = _finish_state(deployment.snapshot(), prior, monitor)
            raise error from error.__cause__

        leftovers = deployment.leftovers()
        steps = dict(deployment.steps)
        for res in leftovers:
            if res.urn not in steps and not res.pending_delete:
                steps[res.urn] = "delete"
        if preview:
            return ProgramResult(
                outputs=dict(monitor.exports),
                secret_outputs=set(monitor.secret_exports),
                resources=dict(deployment.planned),
                state=prior,
                steps=steps,
            )
        deleted: list[ResourceState] = []
        for res in reversed(leftovers):
            try:
                _delete_resource(host, res)
            except ProgramError as exn:
                exn.state = _finish_state(deployment.snapshot(deleted), prior, monitor)
                raise
            deleted.append(res)
        final = _finish_state(deployment.snapshot(deleted), prior, monitor)
        return ProgramResult(
            outputs=dict(monitor.exports),
            secret_outputs=set(monitor.secret_exports),
            resources={r.urn: r for r in final.resources if not r.pending_delete},
            state=final,
            steps=steps,
        )
    finally:
        if owned:
            host.stop()


def _finish_state(state: State, prior: State, monitor: _Monitor) -> State:
    state.project, state.stack = prior.project, prior.stack
    state.outputs = dict(monitor.exports)
    state.secret_outputs = set(monitor.secret_exports)
    return state


def _state_host(
    state: State,
    host: Optional[ProviderHost],
    config: Optional[Mapping[str, Any]],
    host_env: Optional[Mapping[str, str]],
) -> tuple[ProviderHost, bool]:
    if host is not None:
        return host.start(), False
    started = ProviderHost(
        config=_normalize_config(config, state.project),
        env=host_env if host_env is not None else _default_host_env(None),
        project=state.project,
        stack=state.stack,
    ).start()
    return started, True


def destroy(
    state: State,
    *,
    host: Optional[ProviderHost] = None,
    config: Optional[Mapping[str, Any]] = None,
    host_env: Optional[Mapping[str, str]] = None,
) -> State:
    """Delete every resource of ``state`` in reverse creation order, like ``pulumi destroy``.

    Resources read with ``get`` and ``retainOnDelete`` ones are only dropped; a protected one
    stops the destroy. Returns the empty state; on failure, :class:`ProgramError` carries the
    resources still left in ``.state``.
    """
    host, owned = _state_host(state, host, config, host_env)
    try:
        remaining = list(state.resources)
        for res in reversed(list(state.resources)):
            try:
                _delete_resource(host, res)
            except ProgramError as exn:
                exn.state = State(resources=remaining, project=state.project, stack=state.stack)
                raise
            remaining.remove(res)
        return State(project=state.project, stack=state.stack)
    finally:
        if owned:
            host.stop()


def refresh(
    state: State,
    *,
    host: Optional[ProviderHost] = None,
    config: Optional[Mapping[str, Any]] = None,
    host_env: Optional[Mapping[str, str]] = None,
) -> State:
    """Read every resource back, like ``pulumi refresh``, and return the refreshed state.

    A resource whose read returns an empty id is gone and leaves the state; inputs returned by
    the provider's ``read`` replace the stored inputs.
    """
    host, owned = _state_host(state, host, config, host_env)
    try:
        refreshed = []
        for res in state.resources:
            try:
                found = host.read(res.urn, res.id, res.outputs, res.inputs)
            except ProviderError as exn:
                what = f"refresh of resource '{res.name}' (id {res.id})"
                raise _provider_failed(what, res.name, res.urn, exn) from exn
            if not found.id:
                continue
            new = copy.deepcopy(res)
            new.id = found.id
            new.outputs = found.outs
            new.secret_outputs = set(res.secret_outputs) & set(found.outs)
            if found.inputs is not None:
                new.inputs = found.inputs
                new.secret_inputs = set(res.secret_inputs) & set(found.inputs)
            refreshed.append(new)
        return State(
            resources=refreshed,
            outputs=dict(state.outputs),
            secret_outputs=set(state.secret_outputs),
            project=state.project,
            stack=state.stack,
        )
    finally:
        if owned:
            host.stop()

