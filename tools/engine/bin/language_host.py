"""A Python language host for the real Pulumi CLI in this repository's CI (``make engine`` puts it beside the CLI).

Pulumi's own host is the Go module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which the Go
module proxy reachable here does not serve (``go list -m -versions`` of it answers 403 "This module version is not
available"). The CLI, the engine, the SDK's dynamic provider host and the SDK's program runtime are Pulumi's; only
this launcher is ours. It serves the SDK's own ``LanguageServer`` (what the Automation API starts for an inline
program), handing it the program the engine names: ``<program directory>/<entry point>``, a directory meaning its
``__main__.py``, run as ``__main__`` with the program directory first on ``sys.path`` and as the working directory,
as Pulumi's host does.

What it does not do, unlike Pulumi's host: install dependencies or virtualenvs (the caller's Python must have the
program's packages: PULUMI_PYTHON_CMD or python3 on PATH), report required plugins (it reports none), and generate
code (``pulumi import --out``, ``convert`` and ``package add`` for Python need Pulumi's host).

    pulumi-language-python [-flags ...] ENGINE_ADDRESS
"""

from __future__ import annotations

import os
import runpy
import sys
from concurrent import futures
from pathlib import Path

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

# The SDK's message limit for the engine's gRPC channels (pulumi.runtime._grpc_settings): a large program's
# registrations fit.
_MAX_MESSAGE = 400 * 1024 * 1024


def _program_path(info: language_pb2.ProgramInfo, pwd: str, program: str) -> Path:
    directory = Path(info.program_directory or pwd)
    entry = info.entry_point or program or "."
    path = (directory / entry).resolve()
    return path / "__main__.py" if path.is_dir() else path


class ProgramHost(LanguageServer):
    """The SDK's LanguageServer, running the program named by each Run request."""

    def __init__(self, engine_address: str) -> None:
        super().__init__(program=lambda: None)
        self.engine_address = engine_address

    def Handshake(self, request, context):
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version="3.0.0")

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def InstallDependencies(self, request, context):
        return iter(())

    def RuntimeOptionsPrompts(self, request, context):
        return language_pb2.RuntimeOptionsResponse()

    def Run(self, request, context):
        path = _program_path(request.info, request.pwd, request.program)
        if not path.is_file():
            return language_pb2.RunResponse(error=f"no Python program at {path}")
        os.chdir(request.pwd or path.parent)
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        self.program = lambda: runpy.run_path(str(path), run_name="__main__")
        forwarded = language_pb2.RunRequest()
        forwarded.CopyFrom(request)
        del forwarded.args[:]
        forwarded.args.append(self.engine_address)  # LanguageServer reads the engine's address from args[0]
        return super().Run(forwarded, context)


def main(argv: list[str]) -> None:
    positional = [a for a in argv if not a.startswith("-")]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(ProgramHost(positional[-1] if positional else ""), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)  # the engine reads the port from the first line
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # the engine ends its plugins with SIGINT: a plugin's exit, not an error to print
        server.stop(grace=None)


if __name__ == "__main__":
    main(sys.argv[1:])
