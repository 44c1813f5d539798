"""The native plugin's own features under the real CLI, on YAML programs (the YAML host is Pulumi's own):
`pulumi import` of each resource type, explicit providers for two workspaces in one stack, secrets in the exported
state, and refreshes of an adopted channel renamed in Bird."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from pulumi_bird.api.values import VOICE_TEMPLATE
from pulumi_bird.emulator import BirdEmulator
from pulumi_bird.emulator.backend import DEFAULT_NUMBERS
from pulumi_cli import Pulumi, Stack, emulator_objects, is_empty
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
    # Through JSON first: a dict shared between resources would be dumped as a YAML alias, which Pulumi YAML refuses.
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump(json.loads(json.dumps(program)), sort_keys=False))
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


# The second workspace (and its organization) on the same emulator, with a voice number of its own.
WORKSPACE_2 = "5f0e4c9e-2b7a-4d1e-9c3b-000000000002"
ORGANIZATION_2 = "5f0e4c9e-2b7a-4d1e-9c3b-0000000000a2"
VOICE_NUMBER_2 = ("+3197010520102", "2d3c4b5a-6f7e-4d8c-9b0a-1f2e3d4c5b6a")
# Secrets the program declares in plain text: the plugin marks each secret.
SECRETS = {"signingKey": "e2e-signing-key-" + "s" * 24, "invitationToken": "e2e-invitation-token-7c1d",
           "securityArguments": "e2e-security-argument-5b9e"}


def workspace_resources(n: int, voice_number_id: str) -> dict:
    """A voice channel, a connector with both connector secrets and a webhook with a signing key, all through
    provider p<n>."""
    options = {"provider": f"${{p{n}}}"}
    return {
        f"voice{n}": {"type": "bird:index:VoiceChannel", "properties": {"phoneNumberId": voice_number_id},
                      "options": options},
        f"wa{n}": {"type": "bird:index:Connector", "options": options, "properties": {
            "connectorTemplateRef": "whatsapp:1", "arguments": {"businessId": f"b-{n}"},
            "invitationToken": SECRETS["invitationToken"] + str(n),
            "securityArguments": {"oauth": {"clientSecret": SECRETS["securityArguments"] + str(n)}}}},
        f"hook{n}": {"type": "bird:index:WebhookSubscription", "options": options, "properties": {
            "service": "channels", "event": "channel.updated", "url": f"https://hooks.example.com/ws{n}",
            "signingKey": SECRETS["signingKey"] + str(n)}},
    }


# One Bird account a provider points at: the emulator that serves it, a workspace and its organization there.
Account = tuple[BirdEmulator, str, str]


def two_provider_project(directory: Path, accounts: list[Account]) -> Path:
    providers = {
        f"p{n}": {"type": "pulumi:providers:bird", "properties": {
            "accessKey": f"${{accessKey{n}}}", "apiUrl": emulator.url, "workspaceId": workspace,
            "organizationId": organization}}
        for n, (emulator, workspace, organization) in enumerate(accounts, 1)}
    resources = {**providers, **workspace_resources(1, VOICE_NUMBER_ID),
                 **workspace_resources(2, VOICE_NUMBER_2[1])}
    outputs = {name: f"${{{name}.id}}" for name in resources if not name.startswith("p")}
    return yaml_project(directory, "e2e-two-providers", resources, outputs)


def held_in(account: Account) -> set[str]:
    emulator, workspace, organization = account
    return ({c["id"] for c in emulator.backend.list_all_connectors(workspace)}
            | {w["id"] for w in emulator.backend.list_all_webhooks(organization, workspace)})


def each_provider_deploys_into_its_own_account(cli: Pulumi, accounts: list[Account]) -> None:
    """Up: each provider's voice channel, connector and webhook in its own account, nothing else there; a second
    up changes nothing; the export holds no secret in plain text; destroy empties both."""
    stack = cli.stack(two_provider_project(cli.workdir / "two", accounts), "dev",
                      {f"accessKey{n}": account[0].access_key for n, account in enumerate(accounts, 1)},
                      secrets={"accessKey1", "accessKey2"})
    try:
        stack.up()
        ids = stack.outputs()
        for n, account in enumerate(accounts, 1):
            assert held_in(account) == {ids[f"voice{n}"], ids[f"wa{n}"], ids[f"hook{n}"]}, n
        assert set(stack.up("--expect-no-changes").steps().values()) == {"same"}
        assert_no_plain_secret(stack, [account[0].access_key for account in accounts])
        stack.destroy()
    finally:
        stack.destroy(check=False)
    assert [held_in(account) for account in accounts] == [set(), set()]


def test_two_explicit_providers_put_each_object_in_their_own_workspace(cli: Pulumi, emulator) -> None:
    """Two `pulumi:providers:bird` in one stack, one per workspace of one emulator. The emulator accepts a single
    access key, so both providers carry it (each from its own secret config key)."""
    emulator.backend.add_workspace(WORKSPACE_2, ORGANIZATION_2)
    emulator.backend.add_number(WORKSPACE_2, VOICE_NUMBER_2[0], ("voice",), number_id=VOICE_NUMBER_2[1])
    each_provider_deploys_into_its_own_account(cli, [(emulator, emulator.workspace_id, emulator.organization_id),
                                                     (emulator, WORKSPACE_2, ORGANIZATION_2)])


def test_two_explicit_providers_with_two_access_keys(cli: Pulumi, emulator) -> None:
    """Two keys: a second emulator (its own key, workspace and voice number) stands for a second Bird account;
    each provider reaches its own only with its own key."""
    other = BirdEmulator(access_key="second-account-access-key", provision_seconds=1.0, workspace_id=WORKSPACE_2,
                         organization_id=ORGANIZATION_2, numbers=[(*VOICE_NUMBER_2, ("voice",))])
    with other:
        each_provider_deploys_into_its_own_account(cli, [
            (emulator, emulator.workspace_id, emulator.organization_id), (other, WORKSPACE_2, ORGANIZATION_2)])


def assert_no_plain_secret(stack: Stack, more: list[str]) -> None:
    """`pulumi stack export`: every secret the program declared (and ``more``) encrypted, never in plain text."""
    exported = stack("stack", "export").stdout
    for n in (1, 2):
        for value in SECRETS.values():
            assert value + str(n) not in exported
    for value in more:
        assert value not in exported
    resources = json.loads(exported)["deployment"]["resources"]
    by_name = {r["urn"].rsplit("::", 1)[1]: r for r in resources}
    for name, keys in (("p1", ["accessKey"]), ("wa1", ["invitationToken", "securityArguments"]),
                       ("hook1", ["signingKey"])):
        for where in ("inputs", "outputs"):
            for key in keys:
                assert set(by_name[name][where][key]) == {SECRET_SIG, "ciphertext"}, (name, where, key)


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the state's mark of a secret (sdk/go/common/resource/sig)


def adopted_voice_project(directory: Path) -> Path:
    """A voice channel adopted by id (adoptId), its name from config: the YAML twin of tests/e2e/programs/adopted."""
    voice = {"type": "bird:index:VoiceChannel", "properties": {
        "phoneNumberId": "${phoneNumberId}", "name": "${name}", "adoptId": "${connectorId}"}}
    return yaml_project(directory, "e2e-adopted-yaml", {"voice": voice}, {"channelId": "${voice.channelId}"})


def adopted_then_renamed(cli: Pulumi, emulator) -> tuple[Stack, str]:
    """A stack that adopted a voice channel made in the dashboard, which was then renamed there (requests cleared)."""
    made = emulator.backend.create_connector(emulator.workspace_id, {
        "name": "made in the dashboard", "connectorTemplateRef": VOICE_TEMPLATE,
        "arguments": {"phoneNumberId": VOICE_NUMBER_ID}})
    stack = cli.stack(adopted_voice_project(cli.workdir / "adopted"), "dev",
                      {**bird_config(emulator), "phoneNumberId": VOICE_NUMBER_ID, "name": "made in the dashboard",
                       "connectorId": made["id"]}, secrets={"bird:accessKey"})
    stack.up("--skip-preview")
    emulator.backend._find_connector(emulator.workspace_id, made["id"]).name = "renamed in the dashboard"
    emulator.clear_requests()
    return stack, made["id"]


def test_the_plan_after_a_rename_in_bird_refuses_to_replace_the_adopted_channel(cli: Pulumi, emulator) -> None:
    """As the dynamic provider does (test_failures.py): what would replace the connector adoptId names stops with
    the fix named, without a plugin crash, and touches nothing."""
    stack, connector_id = adopted_then_renamed(cli, emulator)
    try:
        for run in (stack.preview("--refresh", check=False), stack.up("--refresh", check=False)):
            assert run.returncode != 0, run.output
            assert "still names it" in run.output and "declare its current values" in run.output, run.output
            assert "Traceback (most recent call last)" not in run.output  # no plugin crash
        assert [r for r in emulator.requests if r.method != "GET"] == []
        assert [c["id"] for c in emulator_objects(emulator)["connectors"]] == [connector_id]
    finally:
        stack.destroy(check=False)
    assert is_empty(emulator)


def test_refresh_of_an_adopted_channel_renamed_in_bird_shows_the_rename_and_converges(cli: Pulumi,
                                                                                      emulator) -> None:
    """`pulumi refresh` succeeds and shows the drift; declaring the new name, `up --refresh` converges on the same
    connector."""
    stack, connector_id = adopted_then_renamed(cli, emulator)
    try:
        refreshed = stack.refresh(check=False)
        assert refreshed.returncode == 0 and "[diff: ~name]" in refreshed.output, refreshed.output
        stack.set_config({"name": "renamed in the dashboard"})
        converged = stack.up("--refresh")
        assert set(converged.steps().values()) <= {"same", "refresh"}, converged.steps()
        assert [c["id"] for c in emulator_objects(emulator)["connectors"]] == [connector_id]
        stack.destroy()
    finally:
        stack.destroy(check=False)
    assert is_empty(emulator)
