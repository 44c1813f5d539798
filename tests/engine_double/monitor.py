"""The program side: a Pulumi program run in-process under a mock resource monitor.

The program runs as the Python language host runs it (``run_in_stack``), against the SDK's
``MockMonitor`` extended so that every ``RegisterResource`` and ``ReadResource`` goes to a handler:
the engine double of :mod:`.engine`, or the recorder behind :func:`registered_inputs`.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional

from google.protobuf import empty_pb2
from pulumi.runtime import rpc
from pulumi.runtime import settings as _settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockCallArgs, MockEngine, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack

from .errors import ProgramError
from .host import plain, to_struct
from .project import stack_config
from .state import ProgramResult, State
from .transforms import _Transforms

__all__ = ["Registration", "registered_inputs"]

STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
# The SDK's default executor would size itself from the CPU count; registrations block a worker
# each while the host works, so allow plenty (the host itself serves four at a time).
_PROGRAM_WORKERS = 32


@dataclass
class Registration:
    """A resource registration as the program made it (before any provider call).

    ``inputs`` are plain values (secrets unwrapped, their names in ``secret_inputs``; unknowns as
    :data:`~.host.UNKNOWN`) and include the dill-pickled ``__provider`` of dynamic resources.
    ``import_id`` is set by ``ResourceOptions(import_=...)``, ``resource_id`` by
    ``ResourceOptions(id=...)`` (a ``get``). ``dependencies`` and ``property_dependencies`` (input
    name -> URNs) are the edges the SDK reported.
    """

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    import_id: Optional[str] = None
    resource_id: Optional[str] = None
    custom: bool = True
    secret_inputs: set[str] = field(default_factory=set)
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


class _WarningsEngine(MockEngine):
    """The engine's log service: the program's warnings (``pulumi.log.warn``) are kept on the monitor, for the
    result's ``warnings``, as the CLI prints them among its diagnostics."""

    def __init__(self, monitor: MockMonitor) -> None:
        super().__init__(None)
        self.monitor = monitor

    def Log(self, request: Any) -> None:
        from pulumi.runtime.proto import engine_pb2

        if request.severity == engine_pb2.WARNING:
            warnings = getattr(self.monitor, "warnings", None)
            if isinstance(warnings, list) and request.message not in warnings:
                warnings.append(request.message)
        super().Log(request)


def _execute(
    program: Callable[[], Any],
    monitor: MockMonitor,
    *,
    project: str,
    stack: str,
    preview: bool,
    config: Mapping[str, str],
    secret_keys: Iterable[str] = (),
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
                engine=_WarningsEngine(monitor),
                dry_run=preview,
                organization="organization",
                root_directory=root_directory,
            )
        )
        _settings.ROOT.set(None)
        # The language host hands the program the stack config and the names of its secret keys.
        set_all_config(dict(config), sorted(secret_keys))
        _run_in_stack(program, monitor)

    outcome: list[BaseException] = []

    def thread_main(context: contextvars.Context) -> None:
        try:
            context.run(run)
        except BaseException as exn:
            outcome.append(exn)

    # No deadline here, as the engine sets none on a program or on provider calls.
    worker = threading.Thread(
        target=thread_main, args=(contextvars.copy_context(),), name="pulumi-program-main", daemon=True
    )
    worker.start()
    worker.join()
    if outcome:
        raise outcome[0]


def _run_in_stack(program: Callable[[], Any], monitor: MockMonitor) -> None:
    """``run_in_stack(program)`` on a new event loop, everything it started closed afterwards."""
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
        close_loops = getattr(monitor, "close_thread_loops", None)
        if close_loops is not None:
            close_loops()


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
        self.warnings: list[str] = []  # what the program logged as warnings
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._loops_lock = threading.Lock()
        self.transforms = _Transforms()

    def _thread_loop(self) -> None:
        """An event loop for this worker thread (deserializing resource references needs one), kept so
        that :meth:`close_thread_loops` closes it: left to the garbage collector, an unclosed loop may be
        finalized after its self-pipe sockets and print ``Invalid file descriptor: -1`` from
        ``BaseEventLoop.__del__``."""
        try:
            asyncio.get_event_loop()
        except RuntimeError:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            with self._loops_lock:
                self._loops.append(loop)

    def close_thread_loops(self) -> None:
        """Close the loops :meth:`_thread_loop` made, once their threads are done, and the transforms' channels."""
        self.transforms.close()
        with self._loops_lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            if not loop.is_closed() and not loop.is_running():
                loop.close()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack out of a child's type chain; MockMonitor does not.
        if parent and parent.split("::")[2].split("$")[-1] == STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def _registration(self, request: Any, struct: Any, **extra: Any) -> Registration:
        self._thread_loop()
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
        if request.type == STACK_TYPE:
            self.stack_urn = self.make_urn(request.parent, request.type, request.name)
            return resource_pb2.RegisterResourceResponse(urn=self.stack_urn)
        request = self.transforms.apply(request, self.make_urn(request.parent, request.type, request.name))
        reg = self._registration(
            request,
            request.object,
            import_id=request.importId or None,
            custom=bool(request.custom),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
        )
        id_, obj = self._answer(reg, self._handler.register(reg, request))
        return resource_pb2.RegisterResourceResponse(urn=reg.urn, id=id_, object=obj)

    def ReadResource(self, request):
        reg = self._registration(request, request.properties, resource_id=request.id)
        _, obj = self._answer(reg, self._handler.read(reg, request))
        return resource_pb2.ReadResourceResponse(urn=reg.urn, properties=obj)

    def RegisterStackTransform(self, request):
        # source_eval.go RegisterStackTransform: the engine keeps the callback and runs it on every later
        # registration (the stock MockMonitor only records it).
        self.transforms.register_stack(request)
        return empty_pb2.Empty()

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
        if reg.type == STACK_REFERENCE_TYPE:
            refs = self.stack_references or {}
            name = reg.resource_id or ""
            if name in refs:
                return name, _stack_reference_state(name, refs), set()
            return name, {"name": name, "outputs": {}}, set()
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
    values, secret_keys = stack_config(None, stack, config, project_name=project)
    _execute(
        program,
        _Monitor(recorder),
        project=project,
        stack=stack,
        preview=preview,
        config=values,
        secret_keys=secret_keys,
    )
    return dict(recorder.registrations)
