"""The native plugin under the real CLI, from other languages: the YAML example as its README runs it, and the
plugin's schema as the pinned engine reads it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from package_schema_rules import metaschema_problems

import pulumi_bird
from pulumi_cli import REPO, SECRET_KEYS, Pulumi, channels_stack_lifecycle, example_config


def test_the_yaml_example_deploys_and_destroys(cli: Pulumi, emulator) -> None:
    """examples/yaml-channels in place (its `packages:` names ../../.venv/bin), with the pinned YAML host."""
    stack = cli.stack(REPO / "examples" / "yaml-channels", "e2e", example_config(emulator), secrets=SECRET_KEYS)
    channels_stack_lifecycle(stack, emulator)


def test_the_plugins_schema_passes_the_pinned_engines_metaschema(cli: Pulumi) -> None:
    """`pulumi package get-schema` of the plugin, judged by pkg/codegen/schema/pulumi.json of the pinned CLI's own
    module (the copy `make engine` downloaded)."""
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    version = (cli.bin / "pulumi").parent.parent.name.split("-")[1]  # pulumi-<version>-yaml-...
    metaschema = Path(gomodcache) / f"github.com/pulumi/pulumi/pkg/v3@{version}/codegen/schema/pulumi.json"
    schema = json.loads(cli("package", "get-schema", shutil.which("pulumi-resource-bird", path=cli.env["PATH"]) or "",
                            cwd=cli.workdir).stdout)
    assert schema["name"] == "bird" and schema["version"] == pulumi_bird.__version__
    assert metaschema_problems(schema, str(metaschema)) == []
