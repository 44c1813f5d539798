"""The native plugin under the real CLI, from other languages: the YAML example as its README runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from package_schema_rules import metaschema_problems

import pulumi_bird
from pulumi_bird.emulator.backend import DEFAULT_NUMBERS
from pulumi_cli import REPO, Pulumi, emulator_objects, is_empty

SECRET_KEYS = {"bird:accessKey", "webhookSigningKey"}


def example_config(emulator) -> dict[str, str]:
    return {"bird:accessKey": emulator.access_key, "bird:apiUrl": emulator.url,
            "bird:workspaceId": emulator.workspace_id, "bird:organizationId": emulator.organization_id,
            "smsNumber": DEFAULT_NUMBERS[0][0], "voiceNumber": DEFAULT_NUMBERS[1][0],
            "webhookSigningKey": "e2e-" + "k" * 40}


def test_the_yaml_example_deploys_and_destroys(cli: Pulumi, emulator) -> None:
    """examples/yaml-channels in place (its `packages:` names ../../.venv/bin), with the pinned YAML host."""
    stack = cli.stack(REPO / "examples" / "yaml-channels", "e2e", example_config(emulator), secrets=SECRET_KEYS)
    try:
        planned = stack.preview()
        assert sorted(planned.steps().values()) == ["create"] * 3
        made = stack.up()
        assert "warning: using pulumi-resource-bird from $PATH" not in made.output  # the project's own plugin
        outputs = stack.outputs()
        held = emulator_objects(emulator)
        assert sorted(c["id"] for c in held["connectors"]) == sorted([outputs["smsConnectorId"],
                                                                      outputs["voiceConnectorId"]])
        assert held["webhooks"][0]["eventFilters"] == [{"key": "channelId", "value": outputs["smsChannelId"]}]
        assert set(stack.up("--expect-no-changes").steps().values()) == {"same"}
        stack.refresh("--expect-no-changes")
        stack.destroy()
    finally:
        stack.destroy(check=False)
        stack.remove()
    assert is_empty(emulator)


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
