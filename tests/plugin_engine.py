"""Drive ``pulumi-resource-bird`` as the Pulumi engine drives a resource plugin.

The engine starts the executable with its address, reads the port from the first line of stdout and calls
``pulumirpc.ResourceProvider`` over gRPC. Each request below is shaped as in pulumi/pulumi
``sdk/go/common/resource/plugin/provider_plugin.go`` (the engine's side of the plugin protocol):

- ``CheckConfig``: ``news`` = the provider's inputs, keys without namespace, marshalled *without* secrets
  (``provider.CheckConfig``: MarshalProperties with no KeepSecrets);
- ``Configure``: ``args`` = the checked inputs with secrets kept, ``variables`` keyed ``bird:config:<key>`` with
  secrets removed and non-strings as JSON, ``acceptSecrets``/``acceptResources``, ``sends_old_inputs*``, and the
  provider's ``type``/``name``/``urn`` (``provider.Configure``);
- ``Check``: ``olds`` (empty, never nil, on create), ``news``, ``randomSeed``; ``Diff``: ``olds`` = old outputs,
  ``old_inputs``, ``news`` = checked inputs, ``ignoreChanges``; ``Create``: ``properties``, ``timeout``,
  ``preview``; ``Read``: ``properties`` and ``inputs`` (left unset for an import: ``provider.Read`` marshals
  inputs only when non-nil); ``Update``: ``olds``, ``news``, ``old_inputs``; ``Delete``: ``properties``,
  ``old_inputs`` (``provider.Check``/``Diff``/``Create``/``Read``/``Update``/``Delete``). Since the plugin answers
  ``acceptSecrets``, secrets travel wrapped in every resource request.

Properties are plain dicts; a secret is ``rpc.wrap_rpc_secret(value)`` in both directions, so tests can see which
outputs come back secret. :func:`plain` unwraps.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Mapping, Optional

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from engine_double.host import make_urn, plain, to_struct

PACKAGE = "bird"
PROVIDER_TYPE = f"pulumi:providers:{PACKAGE}"
# The engine's own deadlines are longer; a minute keeps a hung test short and covers a create's readiness wait.
CALL_TIMEOUT = 60.0
START_TIMEOUT = 30.0
UNKNOWN = rpc.UNKNOWN
# What Diff answers: DIFF.DIFF_SOME / DIFF_NONE, and each property's KIND (UPDATE, UPDATE_REPLACE, ...).
DIFF = provider_pb2.DiffResponse
KIND = provider_pb2.PropertyDiff


def plugin_command() -> list[str]:
    """The installed executable, as the engine finds it (beside this interpreter in the package's environment)."""
    exe = Path(sys.executable).parent / "pulumi-resource-bird"
    if not exe.exists():
        raise RuntimeError(f"{exe} is missing: install the package (pip install -e .) to get the console script")
    return [str(exe)]


def secret(value: Any) -> dict[str, Any]:
    return rpc.wrap_rpc_secret(value)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and rpc.is_rpc_secret(value)


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A property struct as a dict; secrets stay wrapped (``is_secret``), unknowns are :data:`UNKNOWN`."""
    from pulumi.output import Unknown

    def unknowns(value: Any) -> Any:
        if isinstance(value, Unknown):
            return UNKNOWN
        if isinstance(value, dict):
            return {k: unknowns(v) for k, v in value.items()}
        return [unknowns(v) for v in value] if isinstance(value, list) else value

    result = unknowns(rpc.deserialize_properties(struct, keep_unknowns=True))
    return result if isinstance(result, dict) else {}


class Plugin:
    """One ``pulumi-resource-bird`` process (the engine runs one per provider instance)."""

    def __init__(self, env: Optional[Mapping[str, str]] = None, *, name: str = "default",
                 command: Optional[list[str]] = None) -> None:
        self.command = command or plugin_command()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("BIRD_")}
        self.env = {**clean, **(env or {})}
        self.name = name
        self.proc: Optional[subprocess.Popen] = None
        self.stderr: list[str] = []
        self.stdout: list[str] = []
        self._channel: Optional[grpc.Channel] = None
        self.stub: Any = None

    def __enter__(self) -> "Plugin":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> "Plugin":
        # provider_plugin.go NewProvider -> plugin.go execPlugin: the engine's address is the first argument.
        self.proc = subprocess.Popen(self.command + ["127.0.0.1:1", "--logtostderr", "-v=9"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env)
        port: list[int] = []
        got_port = threading.Event()

        def read_stdout() -> None:
            assert self.proc and self.proc.stdout
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace")
                if not port and line.strip().isdigit():
                    port.append(int(line))
                    got_port.set()
                else:
                    self.stdout.append(line)
            got_port.set()

        def read_stderr() -> None:
            assert self.proc and self.proc.stderr
            for raw in iter(self.proc.stderr.readline, b""):
                self.stderr.append(raw.decode("utf-8", "replace"))

        for target in (read_stdout, read_stderr):
            threading.Thread(target=target, daemon=True).start()
        if not got_port.wait(START_TIMEOUT) or not port:
            self.stop()
            raise RuntimeError(f"pulumi-resource-bird printed no port; stderr:\n{''.join(self.stderr)}")
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port[0]}")
        grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        return self

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=10)

    # -- provider -------------------------------------------------------------------------------------------

    @property
    def provider_urn(self) -> str:
        return make_urn(PROVIDER_TYPE, self.name)

    def get_schema(self) -> dict[str, Any]:
        return json.loads(self.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=CALL_TIMEOUT).schema)

    def check_config(self, inputs: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        request = provider_pb2.CheckRequest(urn=self.provider_urn, name=self.name, type=PROVIDER_TYPE,
                                            olds=to_struct({}), news=to_struct(inputs, keep_secrets=False))
        response = self.stub.CheckConfig(request, timeout=CALL_TIMEOUT)
        return from_struct(response.inputs), [(f.property, f.reason) for f in response.failures]

    def configure(self, inputs: Mapping[str, Any]) -> Any:
        """CheckConfig, then Configure with its inputs, as the engine configures a provider; raises on failures."""
        checked, failures = self.check_config(inputs)
        if failures:
            raise AssertionError(f"CheckConfig failed: {failures}")
        variables = {}
        for key, value in checked.items():
            bare = plain(value)
            variables[f"{PACKAGE}:config:{key}"] = bare if isinstance(bare, str) else json.dumps(bare)
        request = provider_pb2.ConfigureRequest(
            variables=variables, args=to_struct(checked, keep_secrets=True), acceptSecrets=True, acceptResources=True,
            sends_old_inputs=True, sends_old_inputs_to_delete=True, type=PROVIDER_TYPE, name=self.name,
            urn=self.provider_urn)
        return self.stub.Configure(request, timeout=CALL_TIMEOUT)

    # -- resources ------------------------------------------------------------------------------------------

    @staticmethod
    def urn(type_name: str, name: str) -> str:
        return make_urn(f"{PACKAGE}:index:{type_name}", name)

    @staticmethod
    def _named(urn: str) -> dict[str, str]:
        parts = urn.split("::")
        return {"urn": urn, "name": parts[-1], "type": parts[-2]}

    def check(self, urn: str, news: Mapping[str, Any], olds: Optional[Mapping[str, Any]] = None):
        response = self.stub.Check(provider_pb2.CheckRequest(
            **self._named(urn), olds=to_struct(olds or {}, keep_secrets=True), news=to_struct(news, keep_secrets=True),
            randomSeed=os.urandom(32)), timeout=CALL_TIMEOUT)
        return from_struct(response.inputs), [(f.property, f.reason) for f in response.failures]

    def diff(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any],
             old_inputs: Optional[Mapping[str, Any]] = None, ignore_changes: tuple[str, ...] = ()) -> Any:
        return self.stub.Diff(provider_pb2.DiffRequest(
            **self._named(urn), id=id_, olds=to_struct(olds, keep_secrets=True),
            old_inputs=to_struct(old_inputs if old_inputs is not None else olds, keep_secrets=True),
            news=to_struct(news, keep_secrets=True), ignoreChanges=list(ignore_changes)), timeout=CALL_TIMEOUT)

    def create(self, urn: str, properties: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self.stub.Create(provider_pb2.CreateRequest(
            **self._named(urn), properties=to_struct(properties, keep_secrets=True), timeout=CALL_TIMEOUT,
            preview=False), timeout=CALL_TIMEOUT)
        return response.id, from_struct(response.properties)

    def read(self, urn: str, id_: str, properties: Optional[Mapping[str, Any]] = None,
             inputs: Optional[Mapping[str, Any]] = None) -> Any:
        fields: dict[str, Any] = {"id": id_}
        if properties is not None:
            fields["properties"] = to_struct(properties, keep_secrets=True)
        if inputs is not None:
            fields["inputs"] = to_struct(inputs, keep_secrets=True)
        return self.stub.Read(provider_pb2.ReadRequest(**self._named(urn), **fields), timeout=CALL_TIMEOUT)

    def update(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any],
               old_inputs: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
        response = self.stub.Update(provider_pb2.UpdateRequest(
            **self._named(urn), id=id_, olds=to_struct(olds, keep_secrets=True),
            news=to_struct(news, keep_secrets=True),
            old_inputs=to_struct(old_inputs if old_inputs is not None else olds, keep_secrets=True),
            timeout=CALL_TIMEOUT, preview=False), timeout=CALL_TIMEOUT)
        return from_struct(response.properties)

    def delete(self, urn: str, id_: str, properties: Mapping[str, Any],
               old_inputs: Optional[Mapping[str, Any]] = None) -> None:
        self.stub.Delete(provider_pb2.DeleteRequest(
            **self._named(urn), id=id_, properties=to_struct(properties, keep_secrets=True),
            old_inputs=to_struct(old_inputs if old_inputs is not None else properties, keep_secrets=True),
            timeout=CALL_TIMEOUT), timeout=CALL_TIMEOUT)

    def invoke(self, token: str, args: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        response = self.stub.Invoke(provider_pb2.InvokeRequest(tok=token, args=to_struct(args)), timeout=CALL_TIMEOUT)
        return from_struct(getattr(response, "return")), [(f.property, f.reason) for f in response.failures]

    def up(self, type_name: str, name: str, news: Mapping[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Check then Create, as a first ``pulumi up`` of one resource: (id, outputs, checked inputs)."""
        urn = self.urn(type_name, name)
        checked, failures = self.check(urn, news)
        if failures:
            raise AssertionError(f"Check failed: {failures}")
        id_, outs = self.create(urn, checked)
        return id_, outs, checked


def provider_config(emulator: Any) -> dict[str, Any]:
    """An explicit provider's inputs for ``emulator`` (the access key a secret, as `--secret` config is)."""
    return {"accessKey": secret(emulator.access_key), "apiUrl": emulator.url,
            "workspaceId": emulator.workspace_id, "organizationId": emulator.organization_id}
