"""Drive the Pulumi SDK's real dynamic-provider host the way the engine does.

``pulumi.dynamic`` resources are not run inside the program: the engine starts a separate
process (``python -u -m pulumi.dynamic``), reads the port it prints, and calls it over gRPC
(``Configure`` once, then ``Check``/``Diff``/``Create``/``Read``/``Update``/``Delete`` per
resource). The provider object travels as a dill pickle in the ``__provider`` input.

:class:`ProviderHost` does the same, so tests exercise exactly what ``pulumi up`` runs: the
pickling, the host's (de)serialization, unknowns during preview, secrets stripped before the
provider sees them, and the host's four-worker thread pool.

Properties are plain dicts. A value equal to :data:`pulumi.runtime.rpc.UNKNOWN` (or a
``pulumi.output.Unknown`` instance) travels as an unknown; unknowns in responses come back as
:data:`pulumi.runtime.rpc.UNKNOWN`, so results can be compared with ``==``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import subprocess
import sys
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import grpc
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .errors import ProviderError
from .values import Secret

__all__ = [
    "CheckResult",
    "CreateResult",
    "DiffResult",
    "HostStartError",
    "ProviderError",
    "ProviderHost",
    "ReadResult",
    "UNKNOWN",
    "decode_provider",
    "make_urn",
    "parse_urn",
    "shim_command",
]

UNKNOWN: str = rpc.UNKNOWN
"""The wire value of an unknown property (what the engine sends during preview)."""

PROVIDER_KEY = "__provider"
# The package of Python dynamic providers (pkg/resource/deploy/target.go pythonDynamicProviderPackage).
DYNAMIC_PACKAGE = "pulumi-python"

# No deadline on provider calls, as the engine sets none (provider_plugin.go passes customTimeouts
# only as the request's `timeout` field, which the Python host ignores): a create may wait for
# provisioning up to its own ready_timeout. A caller may still pass `timeout=` to bound a test.
DEFAULT_CALL_TIMEOUT: Optional[float] = None
# Starting Python, importing grpc and pulumi and binding a port takes ~1 s; allow for a slow CI box.
DEFAULT_START_TIMEOUT = 30.0
# How long stop() waits after SIGTERM before SIGKILL, and after SIGKILL before giving up.
_STOP_GRACE = 5.0

_DIFF_CHANGES = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
    provider_pb2.DiffResponse.DIFF_NONE: "none",
    provider_pb2.DiffResponse.DIFF_SOME: "some",
}


class HostStartError(RuntimeError):
    """The provider host process did not start or did not print its port in time."""


@dataclass
class CheckResult:
    """Result of ``Check``: the checked inputs and one ``(property, reason)`` per failure."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DiffResult:
    """Result of ``Diff``.

    ``changes`` is ``"none"``, ``"some"`` or ``"unknown"`` (the provider returned
    ``changes=None``; the engine then compares old and new inputs itself).
    """

    changes: str
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    stables: list[str] = field(default_factory=list)


@dataclass
class CreateResult:
    """Result of ``Create``: the new id and the outputs (including ``__provider``)."""

    id: str
    outs: dict[str, Any]


@dataclass
class ReadResult:
    """Result of ``Read``. An empty ``id`` means the resource is gone.

    ``inputs`` is ``None`` unless the provider returned inputs to use for later diffs;
    ``has_properties`` is false when the response carried no properties at all (the only case in
    which the engine's ReadStep fails).
    """

    id: str
    outs: dict[str, Any]
    inputs: Optional[dict[str, Any]] = None
    has_properties: bool = True


def make_urn(type_: str, name: str, stack: str = "dev", project: str = "test") -> str:
    """Build a resource URN the way the engine does for a top-level resource."""
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def parse_urn(urn: str) -> tuple[str, str]:
    """Return ``(type, name)`` of a URN; the type is the last segment of a parent chain."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return parts[2].split("$")[-1], "::".join(parts[3:])


# --- property conversion -------------------------------------------------------------------


def _to_value(value: Any, *, keep_secrets: bool, path: str) -> Any:
    """Turn a plain Python value into something ``Struct.update`` accepts."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise TypeError(f"{path}: {value!r} cannot be sent as a property value")
        return value
    if isinstance(value, Mapping):
        if rpc.is_rpc_secret(value):
            inner = _to_value(value["value"], keep_secrets=keep_secrets, path=path)
            return rpc.wrap_rpc_secret(inner) if keep_secrets else inner
        return {
            str(k): _to_value(v, keep_secrets=keep_secrets, path=f"{path}.{k}")
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [
            _to_value(v, keep_secrets=keep_secrets, path=f"{path}[{i}]")
            for i, v in enumerate(value)
        ]
    raise TypeError(f"{path}: {type(value).__name__} cannot be sent as a property value")


def to_struct(props: Optional[Mapping[str, Any]], *, keep_secrets: bool = False) -> struct_pb2.Struct:
    """Serialize a plain dict into a property ``Struct``.

    Unknowns become the unknown sentinel. Secrets (``rpc.wrap_rpc_secret`` dicts) are unwrapped
    unless ``keep_secrets``: the dynamic host answers ``acceptSecrets=False`` to ``Configure``, so
    the engine strips secrets before calling it.
    """
    struct = struct_pb2.Struct()
    if props:
        struct.update(
            {str(k): _to_value(v, keep_secrets=keep_secrets, path=str(k)) for k, v in props.items()}
        )
    return struct


def plain(value: Any) -> Any:
    """Replace ``pulumi.output.Unknown`` instances by :data:`UNKNOWN`, recursively; unwrap secrets."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        if rpc.is_rpc_secret(value):
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Deserialize a property ``Struct`` keeping unknowns (as :data:`UNKNOWN`), secrets unwrapped."""
    result = rpc.deserialize_properties(struct, keep_unknowns=True)
    return plain(result) if isinstance(result, dict) else {}


# --- the engine's way of starting the host ----------------------------------------------------


def shim_command(cwd: str, env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command and environment the ``pulumi-resource-pulumi-python`` shim would exec.

    The engine does not run ``python -m pulumi.dynamic`` itself: it runs that shell script
    (pulumi/pulumi sdk/python/dist/pulumi-resource-pulumi-python) in the project's main directory
    with the runtime options as ``PULUMI_RUNTIME_*``. This mirrors the script line by line:

    - no ``PULUMI_RUNTIME_VIRTUALENV``: the ``uv`` toolchain means ``.venv``; ``poetry`` asks
      ``poetry env info --path``;
    - a virtualenv (trailing slash dropped) relative to the script's ``$PWD`` (``cwd``: the *main*
      directory, not the project root; pulumi/pulumi#7061) must hold ``bin/python``, which runs
      with the virtualenv's ``bin`` first on ``PATH`` and ``PYTHONHOME`` unset;
    - otherwise ``PULUMI_PYTHON_CMD``, else ``python3`` from ``PATH``.

    :raises HostStartError: with the script's own explanation when the virtualenv is missing.
    """
    env = dict(env)
    venv = env.get("PULUMI_RUNTIME_VIRTUALENV", "")
    if not venv:
        toolchain = env.get("PULUMI_RUNTIME_TOOLCHAIN", "")
        if toolchain == "uv":
            venv = ".venv"
        elif toolchain == "poetry":
            done = subprocess.run(
                ["poetry", "env", "info", "--path"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
            )
            venv = done.stdout.strip()
    if not venv:
        python = env.get("PULUMI_PYTHON_CMD") or "python3"
        return [python, "-u", "-m", "pulumi.dynamic"], env
    venv = venv.rstrip("/") if venv != "/" else venv
    if not venv.startswith("/"):
        venv = f"{cwd}/{venv}"
    python = f"{venv}/bin/python"
    if os.path.isfile(python):
        env["PATH"] = f"{venv}/bin" + (f":{env['PATH']}" if env.get("PATH") else ":")
        env.pop("PYTHONHOME", None)
        return [python, "-u", "-m", "pulumi.dynamic"], env
    problem = "doesn't appear to be a virtual environment" if os.path.isdir(venv) else "doesn't exist"
    raise HostStartError(
        f'The \'virtualenv\' option in Pulumi.yaml is set to "{venv}", but "{venv}" {problem}. '
        f"The engine starts the dynamic provider host in {cwd} and resolves the option from there "
        f"(pulumi/pulumi#7061); create it with `python3 -m venv {venv}` and install the program's "
        "requirements into it, or point the option at an existing virtualenv."
    )


# --- the host --------------------------------------------------------------------------------


class _HostOutput:
    """Collects the host's output on reader threads; the first stdout line is the port."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stderr: list[str] = []
        self.stdout: list[str] = []
        self.port: Optional[int] = None
        self.port_ready = threading.Event()

    def read_stdout(self, stream: Any) -> None:
        with stream:
            self._read_stdout(stream)

    def _read_stdout(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if self.port is None:
                try:
                    self.port = int(line.strip())
                    self.port_ready.set()
                    continue
                except ValueError:
                    pass
            with self.lock:
                self.stdout.append(line)
        self.port_ready.set()  # EOF: wake the waiter so it can report the failure

    def read_stderr(self, stream: Any) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                with self.lock:
                    self.stderr.append(raw.decode("utf-8", "replace"))

    def text(self) -> str:
        with self.lock:
            return "".join(self.stderr) + "".join(self.stdout)


def _reap(proc: subprocess.Popen, channel_box: list) -> None:
    """Stop a host process, then close its channel; runs once (at stop, collection or exit)."""
    # Process first: closing a channel to a live server waits ~0.2 s for a graceful goaway.
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=_STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=_STOP_GRACE)
    while channel_box:
        with contextlib.suppress(Exception):
            channel_box.pop().close()


class ProviderHost:
    """A running ``python -m pulumi.dynamic`` process, called over gRPC as the engine does.

    Use as a context manager (or call :meth:`start` and :meth:`stop`)::

        with ProviderHost(config={"bird:accessKey": "k"}, env={"PYTHONPATH": tests_dir}) as host:
            checked = host.check(urn, inputs)
            created = host.create(urn, checked.inputs)

    :param config: stack configuration sent with ``Configure`` (keys like ``"bird:apiUrl"``).
    :param env: environment overrides for the host process, merged over ``os.environ``.
        ``PULUMI_PROJECT``/``PULUMI_STACK`` default to ``project``/``stack``. Modules holding
        provider classes must be importable by the host (dill pickles them by reference).
    :param cwd: working directory of the host process (the engine uses the project's main directory).
    :param shim: start the host the way the engine does, through the logic of the
        ``pulumi-resource-pulumi-python`` shim (:func:`shim_command`: the runtime's virtualenv
        resolved from ``cwd``, else ``PULUMI_PYTHON_CMD`` or ``python3``) instead of this
        interpreter; :meth:`for_project` sets it up for a Pulumi.yaml.
    :param timeout: default per-call gRPC deadline, seconds; ``None`` (the default) sets none, as
        the engine sets none.
    :param start_timeout: how long to wait for the port line, seconds.

    All operation methods are thread-safe; the host itself serves at most four calls at once.
    The process is stopped by :meth:`stop`, when the object is garbage-collected, and at
    interpreter exit, whichever comes first. A stopped host cannot be restarted.
    """

    def __init__(
        self,
        config: Optional[Mapping[str, Any]] = None,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None,
        *,
        project: str = "test",
        stack: str = "dev",
        shim: bool = False,
        timeout: Optional[float] = DEFAULT_CALL_TIMEOUT,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        self.shim = shim
        self.argv: Optional[list[str]] = None  # the command that started the process
        self.config: dict[str, Any] = dict(config or {})
        self.env: dict[str, str] = dict(env or {})
        self.cwd = cwd
        self.project = project
        self.stack = stack
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.port: Optional[int] = None
        self._proc: Optional[subprocess.Popen] = None
        self._channel_box: list = []
        self._stub: Optional[provider_pb2_grpc.ResourceProviderStub] = None
        self._finalizer: Optional[weakref.finalize] = None
        self._io = _HostOutput()
        self._readers: list[threading.Thread] = []

    @classmethod
    def for_project(
        cls,
        project: Any,
        config: Optional[Mapping[str, Any]] = None,
        env: Optional[Mapping[str, str]] = None,
        *,
        stack: str = "dev",
        **kwargs: Any,
    ) -> "ProviderHost":
        """A host launched as the engine launches one for ``project`` (a directory holding
        Pulumi.yaml, or a loaded :class:`~.project.Project`): in its main directory, with
        ``PULUMI_RUNTIME_*``, ``PULUMI_PROJECT`` and ``PULUMI_CONFIG`` set, through the shim's logic.
        ``env`` is the environment the CLI would run in (merged over ``os.environ``)."""
        from .project import Project, load_project

        loaded = project if isinstance(project, Project) else load_project(project)
        cwd, additions = loaded.provider_launch(config or {})
        return cls(
            config=config,
            env={**(env or {}), **additions},
            cwd=cwd,
            project=loaded.name,
            stack=stack,
            shim=True,
            **kwargs,
        )

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> "ProviderHost":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> Optional[int]:
        """Process id of the host, or ``None`` before :meth:`start`."""
        return self._proc.pid if self._proc else None

    def is_running(self) -> bool:
        """Whether the host process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "ProviderHost":
        """Start the host, wait for its port, connect and send ``Configure``. Idempotent."""
        if self._proc is not None:
            if not self.is_running():
                raise HostStartError(f"provider host exited with {self._proc.returncode}")
            return self
        env = dict(os.environ)
        if self.shim:
            # provider_plugin.go NewProvider: PULUMI_PROJECT (and the runtime options) only.
            env.update(self.env)
            argv, env = shim_command(self.cwd or os.getcwd(), env)
        else:
            env["PULUMI_PROJECT"] = self.project
            env["PULUMI_STACK"] = self.stack
            env.update(self.env)
            # `-u` as in the engine's pulumi-resource-pulumi-python shim: the host writes its port
            # without flushing, so a buffered stdout would never deliver it.
            argv = [sys.executable, "-u", "-m", "pulumi.dynamic"]
        self.argv = argv
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=self.cwd,
            )
        except OSError as exn:
            raise HostStartError(f"could not run {argv[0]!r} to start the provider host: {exn}") from None
        self._proc = proc
        self._finalizer = weakref.finalize(self, _reap, self._proc, self._channel_box)
        # The readers must not hold `self`, or an unstopped host could never be collected.
        self._readers = [
            threading.Thread(
                target=read, args=(stream,), name=f"provider-host-{self.pid}-{tag}", daemon=True
            )
            for read, stream, tag in (
                (self._io.read_stdout, self._proc.stdout, "out"),
                (self._io.read_stderr, self._proc.stderr, "err"),
            )
        ]
        for reader in self._readers:
            reader.start()
        try:
            self._connect()
        except BaseException:
            self.stop()
            raise
        return self

    def _connect(self) -> None:
        assert self._proc is not None
        if not self._io.port_ready.wait(self.start_timeout) or self._io.port is None:
            if self._io.port_ready.is_set():
                # stdout closed without a port: the process is exiting; let it finish.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=_STOP_GRACE)
            if self._proc.poll() is None:
                reason = f"did not print its port within {self.start_timeout:g} s"
            else:
                # Let the stderr reader drain what the dying process wrote.
                self._readers[1].join(timeout=_STOP_GRACE)
                reason = f"exited with code {self._proc.returncode}"
            raise HostStartError(f"provider host {reason}; output:\n{self.stderr_text()}")
        self.port = self._io.port
        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_GRPC_CHANNEL_OPTIONS)
        self._channel_box.append(channel)
        try:
            grpc.channel_ready_future(channel).result(timeout=self.start_timeout)
        except grpc.FutureTimeoutError:
            raise HostStartError(
                f"provider host on port {self.port} did not accept a connection; output:\n"
                f"{self.stderr_text()}"
            ) from None
        self._stub = provider_pb2_grpc.ResourceProviderStub(channel)
        self.configure(self.config)

    def stop(self) -> None:
        """Close the channel and stop the process (terminate, bounded wait, kill). Idempotent."""
        self._stub = None
        if self._finalizer is not None:
            self._finalizer()  # runs _reap once
        for reader in self._readers:
            reader.join(timeout=_STOP_GRACE)

    def stderr_text(self) -> str:
        """Everything the host wrote to stderr so far, followed by its stdout after the port line."""
        return self._io.text()

    # -- calls -----------------------------------------------------------------------------

    def _call(self, operation: str, request: Any, urn: Optional[str], timeout: Optional[float]) -> Any:
        stub = self._stub
        if stub is None:
            raise ProviderError(operation, "provider host is not running", urn=urn)
        try:
            return getattr(stub, operation)(request, timeout=timeout or self.timeout or None)
        except grpc.RpcError as exn:
            code = exn.code() if hasattr(exn, "code") else None
            details = exn.details() if hasattr(exn, "details") else str(exn)
            if code == grpc.StatusCode.UNAVAILABLE and not self.is_running():
                details = f"{details}\nhost output:\n{self.stderr_text()}"
            raise ProviderError(operation, details or str(code), code=code, urn=urn) from None

    def configure(self, config: Mapping[str, Any], *, timeout: Optional[float] = None) -> None:
        """Send ``Configure`` with ``config`` (done by :meth:`start` with the constructor's config).

        As the engine configures a dynamic provider: the *whole* stack config with its namespaces
        (pkg/resource/deploy/target.go GetPackageConfig keeps ``bird:accessKey`` as is for
        ``pulumi-python``); values set with ``--secret`` (:class:`~.project.Secret`) travel as
        secrets in ``args`` (provider_plugin.go Configure marshals them with KeepSecrets), and the
        deprecated ``variables`` map is keyed ``pulumi-python:config:<key>``, secrets removed.
        """
        variables, args = {}, {}
        for key, value in config.items():
            is_secret = isinstance(value, Secret)
            inner = value.value if is_secret else value
            wire = inner if isinstance(inner, str) else json.dumps(plain(inner))
            variables[f"{DYNAMIC_PACKAGE}:config:{key}"] = wire
            args[key] = rpc.wrap_rpc_secret(inner) if is_secret else inner
        # provider_plugin.go Configure: the default provider's type and URN come with the request.
        provider_type = f"pulumi:providers:{DYNAMIC_PACKAGE}"
        request = provider_pb2.ConfigureRequest(
            variables=variables,
            args=to_struct(args, keep_secrets=True),
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
            type=provider_type,
            name="default",
            urn=make_urn(provider_type, "default", stack=self.stack, project=self.project),
        )
        self._call("Configure", request, None, timeout)

    def _send(
        self, operation: str, message: Any, urn: str, timeout: Optional[float], **fields: Any
    ) -> Any:
        """Build ``message`` with the URN's name and type (and the deadline, if it has one)."""
        type_, name = parse_urn(urn)
        seconds = timeout or self.timeout
        if seconds and "timeout" in message.DESCRIPTOR.fields_by_name:
            # provider_plugin.go: the resource's customTimeouts travel as `timeout` (0 when unset).
            fields["timeout"] = seconds
        return self._call(operation, message(urn=urn, name=name, type=type_, **fields), urn, seconds)

    def check(
        self,
        urn: str,
        news: Mapping[str, Any],
        olds: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
    ) -> CheckResult:
        """``Check(olds, news)``; ``olds`` are the prior inputs (empty for a new resource)."""
        response = self._send(
            "Check",
            provider_pb2.CheckRequest,
            urn,
            timeout,
            olds=to_struct(olds),
            news=to_struct(news),
            randomSeed=os.urandom(32),
        )
        return CheckResult(
            inputs=from_struct(response.inputs),
            failures=[(f.property, f.reason) for f in response.failures],
        )

    def diff(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Optional[Mapping[str, Any]] = None,
        ignore_changes: tuple[str, ...] = (),
        timeout: Optional[float] = None,
    ) -> DiffResult:
        """``Diff``: ``olds`` are the prior *outputs* (the engine sends those), ``news`` the
        checked inputs, ``old_inputs`` the prior inputs (default: ``olds``)."""
        response = self._send(
            "Diff",
            provider_pb2.DiffRequest,
            urn,
            timeout,
            id=id,
            olds=to_struct(olds),
            news=to_struct(news),
            old_inputs=to_struct(old_inputs if old_inputs is not None else olds),
            ignoreChanges=list(ignore_changes),
        )
        return DiffResult(
            changes=_DIFF_CHANGES.get(response.changes, "unknown"),
            replaces=list(response.replaces),
            delete_before_replace=bool(response.deleteBeforeReplace),
            stables=list(response.stables),
        )

    def create(
        self, urn: str, inputs: Mapping[str, Any], *, timeout: Optional[float] = None
    ) -> CreateResult:
        """``Create`` with the checked inputs; returns the id and outputs."""
        response = self._send(
            "Create", provider_pb2.CreateRequest, urn, timeout, properties=to_struct(inputs)
        )
        return CreateResult(id=response.id, outs=from_struct(response.properties))

    def read(
        self,
        urn: str,
        id: str,
        properties: Optional[Mapping[str, Any]] = None,
        inputs: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
    ) -> ReadResult:
        """``Read``. The engine sends: on refresh the old outputs as ``properties`` and the old
        inputs; on ``get()`` the registered properties as both; on an import the id alone
        (``inputs=None`` leaves the field unset, as provider_plugin.go Read does for nil inputs)."""
        fields: dict = {"id": id, "properties": to_struct(properties)}
        if inputs is not None:
            fields["inputs"] = to_struct(inputs)
        response = self._send("Read", provider_pb2.ReadRequest, urn, timeout, **fields)
        return ReadResult(
            id=response.id,
            outs=from_struct(response.properties),
            inputs=from_struct(response.inputs) if response.HasField("inputs") else None,
            has_properties=response.HasField("properties"),
        )

    def update(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> dict[str, Any]:
        """``Update``: ``olds`` are the prior outputs, ``news`` the checked inputs; returns outputs."""
        response = self._send(
            "Update",
            provider_pb2.UpdateRequest,
            urn,
            timeout,
            id=id,
            olds=to_struct(olds),
            news=to_struct(news),
            old_inputs=to_struct(old_inputs if old_inputs is not None else olds),
        )
        return from_struct(response.properties)

    def delete(
        self,
        urn: str,
        id: str,
        properties: Mapping[str, Any],
        *,
        old_inputs: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """``Delete`` with the prior outputs as ``properties``."""
        self._send(
            "Delete",
            provider_pb2.DeleteRequest,
            urn,
            timeout,
            id=id,
            properties=to_struct(properties),
            old_inputs=to_struct(old_inputs if old_inputs is not None else properties),
        )


def decode_provider(inputs: Mapping[str, Any]) -> Any:
    """Unpickle the ``__provider`` input of a dynamic resource (for assertions in tests)."""
    import dill

    return dill.loads(base64.b64decode(plain(inputs[PROVIDER_KEY])))
