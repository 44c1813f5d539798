"""The ``pulumi-resource-bird`` executable: the SDK's provider server (it prints its port, then serves the engine),
with two changes: a resource that is gone is answered without properties (the SDK always sends some, so an import
of a missing id would import nothing instead of failing), and an error reaches the user without the plugin's stack.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

import grpc
import grpc.aio
from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .._version import __version__
from ..provider.workers import worker_bound
from .provider import BirdProvider, PluginError

try:  # the SDK's message size limits, as its own servers use them
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS as CHANNEL_OPTIONS
except ImportError:  # pragma: no cover - an SDK that moved them: gRPC's defaults
    CHANNEL_OPTIONS = []


def _plain_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a :class:`PluginError` with its message (the SDK's wrapper appends a stack trace to every error)."""

    async def call(self: Any, request: Any, context: Any) -> Any:
        try:
            return await method(self, request, context)
        except Exception as exc:
            cause = exc if isinstance(exc, PluginError) else exc.__context__
            if isinstance(cause, PluginError):
                await context.abort(grpc.StatusCode.UNKNOWN, str(cause))
            raise

    return call


class BirdServicer(ProviderServicer):
    """The SDK's servicer with a Read that can say "gone" and errors without stacks."""

    async def Read(self, request: Any, context: Any) -> Any:
        response = await self._provider.read(rpc.ReadRequest(
            request.urn, request.id, PropertyValue.unmarshal_map(request.properties),
            PropertyValue.unmarshal_map(request.inputs)))
        if not response.resource_id:
            # No properties: refresh drops the resource, an import or get() fails with "does not exist"
            # (pkg/resource/deploy/step.go RefreshStep, ReadStep and ImportStep).
            return provider_pb2.ReadResponse(id="")
        return provider_pb2.ReadResponse(id=response.resource_id,
                                         properties=PropertyValue.marshal_map(response.properties),
                                         inputs=PropertyValue.marshal_map(response.inputs))


for _name in ("GetSchema", "CheckConfig", "Configure", "Check", "Diff", "Create", "Read", "Update", "Delete", "Invoke"):
    setattr(BirdServicer, _name, _plain_errors(getattr(BirdServicer, _name)))


def executor() -> ThreadPoolExecutor:
    """The pool the operations run on, bounded as the dynamic host's: a create holds its thread while it waits for
    its channel, and the engine sends up to ``--parallel`` operations at once, so asyncio's default of
    min(32, cores + 4) would queue the 33rd create behind the channels of the first 32."""
    return ThreadPoolExecutor(max_workers=worker_bound(), thread_name_prefix="bird-plugin")


async def serve(engine_address: str, argv: list[str]) -> None:
    server = grpc.aio.server(options=CHANNEL_OPTIONS)
    servicer = BirdServicer(argv, __version__, BirdProvider(executor()), engine_address=engine_address)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of ``pulumi-resource-bird <engine address> [engine flags]``; ``--schema`` prints the package
    schema (JSON) and ``--version`` the version, without an engine (what ``pulumi package get-schema`` shows)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="pulumi-resource-bird", description="The bird resource plugin (gRPC).")
    parser.add_argument("engine", nargs="?", help="the Pulumi engine's address (the engine passes it)")
    parser.add_argument("--schema", action="store_true", help="print the package schema (JSON) and exit")
    parser.add_argument("--version", action="version", version=__version__, help="print the version and exit")
    known, _ = parser.parse_known_args(argv)  # the engine may add flags such as --logtostderr, -v=9, --tracing
    if known.schema:
        from .package import schema_json

        sys.stdout.write(schema_json() + "\n")
        return
    if not known.engine:
        parser.error("the engine's address is required (the Pulumi engine starts this plugin with it); "
                     "--schema or --version print what the plugin serves")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(known.engine, argv))
