"""The SDKs Pulumi's code generators write from the plugin's schema build, in each language: TypeScript with tsc
against @pulumi/pulumi from npm, Python imported after a pip install, Go with `go build` against the Go SDK of the
CLI's pin. The schema comes from the real CLI (`pulumi package get-schema`), the code from `bird-gen-sdk` (what
`pulumi package gen-sdk --language L` asks Pulumi's language host for; those hosts cannot be built here)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from pulumi_cli import REPO, Pulumi
from sdk_tools import build_typescript_sdk, generate_sdk, link_node_modules, package_schema, run

RESOURCES = ["SmsChannel", "VoiceChannel", "Connector", "WebhookSubscription", "Provider"]
FUNCTIONS = ["getConnector", "listConnectors"]


def _go_sdk_version() -> str:
    """The Go SDK of the CLI's pin (tools/engine/go.mod)."""
    text = (REPO / "tools" / "engine" / "go.mod").read_text()
    found = re.search(r"github\.com/pulumi/pulumi/sdk/v3 (v\S+)", text)
    assert found, "tools/engine/go.mod pins no github.com/pulumi/pulumi/sdk/v3"
    return found.group(1)


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pulumi, Path]:
    workdir = tmp_path_factory.mktemp("schema")
    cli = Pulumi(workdir)
    return cli, package_schema(cli, workdir)


def test_the_typescript_sdk_compiles_against_the_nodejs_sdk(schema, tmp_path: Path) -> None:
    cli, path = schema
    sdk = generate_sdk(cli, path, "nodejs", tmp_path / "bird")
    link_node_modules(tmp_path, {})
    build_typescript_sdk(sdk)
    script = "const b = require('./bin'); console.log(Object.keys(b).sort().join(' '))"
    exported = run(["node", "-e", script], cwd=sdk).split()
    assert set(RESOURCES + FUNCTIONS) <= set(exported)


def test_the_python_sdk_installs_and_imports(schema, tmp_path: Path) -> None:
    cli, path = schema
    sdk = generate_sdk(cli, path, "python", tmp_path / "sdk")
    target = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), str(sdk)], cwd=tmp_path)
    names = ", ".join(RESOURCES) + ", get_connector, list_connectors"
    check = f"import pulumi_bird_native as b; from pulumi_bird_native import {names}; print(b.__file__)"
    where = run([sys.executable, "-c", check], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)})
    assert where.startswith(str(target))  # the installed SDK, not a copy elsewhere on the path


def test_the_go_sdk_builds_against_the_go_sdk_of_the_pin(schema, tmp_path: Path) -> None:
    cli, path = schema
    module = tmp_path / "module"
    generate_sdk(cli, path, "go", module / "go")
    imports = {m for f in (module / "go").rglob("*.go") for m in re.findall(r'"(\S+/sdk/go/bird)[/"]', f.read_text())}
    assert len(imports) == 1, imports  # the import path the generator chose for the SDK's own packages
    (module / "go.mod").write_text(f"module {imports.pop().removesuffix('/go/bird')}\n\ngo 1.22\n\n"
                                   f"require github.com/pulumi/pulumi/sdk/v3 {_go_sdk_version()}\n")
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    run(["go", "mod", "tidy"], cwd=module, env=env)
    run(["go", "build", "./..."], cwd=module, env=env)
    run(["go", "vet", "./..."], cwd=module, env=env)
