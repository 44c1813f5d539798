"""The native plugin's own features under the real CLI, on YAML programs (the YAML host is Pulumi's own):
`pulumi import` of each resource type, explicit providers for two workspaces in one stack, secrets in the exported
state, and refreshes of an adopted channel renamed in Bird."""

from __future__ import annotations

from pathlib import Path

import yaml

from pulumi_bird.emulator.backend import DEFAULT_NUMBERS
from pulumi_cli import Pulumi, is_empty
from sdk_tools import PLUGIN

SMS_NUMBER_ID = DEFAULT_NUMBERS[0][1]
VOICE_NUMBER_ID = DEFAULT_NUMBERS[1][1]

# One object of each type, as a program declares them (names equal to the resource names, nothing import cannot
# read back: no signing key, no `conversational`, no connector secrets).
FOUR_TYPES = {
    "sms": {"type": "bird:index:SmsChannel",
            "properties": {"phoneNumberId": SMS_NUMBER_ID, "channelMessageType": "transactional"}},
    "voice": {"type": "bird:index:VoiceChannel", "properties": {"phoneNumberId": VOICE_NUMBER_ID}},
    "wa": {"type": "bird:index:Connector",
           "properties": {"connectorTemplateRef": "whatsapp:1", "arguments": {"businessId": "b-e2e"}}},
    "hook": {"type": "bird:index:WebhookSubscription",
             "properties": {"service": "channels", "event": "channel.updated", "url": "https://hooks.example.com/e2e",
                            "eventFilters": [{"key": "platformId", "value": "sms"}]}},
}


def yaml_project(directory: Path, name: str, resources: dict, outputs: dict | None = None) -> Path:
    """A Pulumi YAML project using this environment's plugin (`packages:` names the directory that holds it)."""
    directory.mkdir(parents=True, exist_ok=True)
    program = {"name": name, "runtime": "yaml", "packages": {"bird": str(PLUGIN.parent)}, "resources": resources,
               **({"outputs": outputs} if outputs else {})}
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    return directory


def bird_config(emulator) -> dict[str, str]:
    return {"bird:accessKey": emulator.access_key, "bird:apiUrl": emulator.url,
            "bird:workspaceId": emulator.workspace_id, "bird:organizationId": emulator.organization_id}


def made_elsewhere(cli: Pulumi, emulator) -> dict[str, str]:
    """The four objects made through the plugin by a stack that is then forgotten (`stack rm --force`), as objects
    made in the dashboard or by another tool: resource name -> Bird id."""
    outputs = {name: f"${{{name}.id}}" for name in FOUR_TYPES}
    project = yaml_project(cli.workdir / "maker", "e2e-maker", FOUR_TYPES, outputs)
    maker = cli.stack(project, "maker", bird_config(emulator), secrets={"bird:accessKey"})
    maker.up("--skip-preview")
    ids = maker.outputs()
    maker("stack", "rm", "--yes", "--force")
    return ids


def test_pulumi_import_of_each_type_writes_a_program_that_shows_no_change(cli: Pulumi, emulator) -> None:
    ids = made_elsewhere(cli, emulator)
    project = yaml_project(cli.workdir / "imported", "e2e-imported", {})
    stack = cli.stack(project, "dev", bird_config(emulator), secrets={"bird:accessKey"})
    try:
        written: dict = {}
        for name, spec in FOUR_TYPES.items():
            out = cli.workdir / f"{name}.yaml"
            run = stack("import", spec["type"], name, ids[name], "--yes", "--out", str(out), events=True)
            assert [op for urn, op in run.steps().items() if urn.endswith(f"::{name}")] == ["import"], run.output
            written.update(yaml.safe_load(out.read_text())["resources"])
        # The YAML generator writes the short form of each type token (bird:SmsChannel for bird:index:SmsChannel).
        short = {n: s["type"].replace(":index:", ":") for n, s in FOUR_TYPES.items()}
        assert {name: spec["type"] for name, spec in written.items()} == short
        for name, spec in written.items():  # what was imported is what the object was made with
            assert spec["properties"] == FOUR_TYPES[name]["properties"], name
            assert spec["options"] == {"protect": True}, name  # `pulumi import` protects what it imports
        yaml_project(project, "e2e-imported", written)
        stack.preview("--expect-no-changes")
        assert set(stack.up("--expect-no-changes").steps().values()) == {"same"}
        stack("state", "unprotect", "--all", "--yes")
        stack.destroy()
    finally:
        stack.destroy(check=False)
    assert is_empty(emulator)
