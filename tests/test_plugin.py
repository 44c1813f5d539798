"""``pulumi-resource-bird`` driven over gRPC as the engine drives a resource plugin (tests/plugin_engine.py cites
provider_plugin.go for each request's shape), against the emulator: the package schema, the lifecycle of every
resource, import by id, two provider instances side by side, secrets, unknowns in preview, the lookups, and one
check per failure."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import warnings

import grpc
import pytest
from package_schema_rules import metaschema_problems, problems
from plugin_engine import DIFF, KIND, UNKNOWN, Plugin, from_struct, is_secret, plain, provider_config, secret
from pulumi.runtime.proto import provider_pb2

from pulumi_bird.plugin.fields import RESOURCES, camel, describe, fields, translate
from pulumi_bird.testing.fixtures import start_emulator

NUMBER = "5d1c0a3e-2b4f-4c6d-8e7f-9a0b1c2d3e4f"
OTHER_NUMBER = "7e6d5c4b-3a2f-4e1d-8c0b-9a8f7e6d5c4b"
SIGNING_KEY = "whsec-plugin-test-5c1a-9e3b7d0f2a4c"
TOKEN = "invite-plugin-test-77f2"
SECURITY = {"oauth": {"clientSecret": "cs-plugin-test-91aa"}}


def connectors(emulator, workspace=None):
    return emulator.backend.list_all_connectors(workspace or emulator.workspace_id)


def sms_inputs(number=NUMBER, **extra):
    return {"phoneNumberId": number, "channelMessageType": "transactional", **extra}


def hook_inputs(**extra):
    return {"service": "channels", "event": "channel.updated", "url": "https://hooks.example.com/bird", **extra}


# --- the package schema ------------------------------------------------------------------------------------


def test_the_schema_served_over_grpc_follows_the_rules_of_a_package_schema(plugin):
    schema = plugin.get_schema()
    assert problems(schema) == []
    assert schema["name"] == "bird"
    from google.protobuf import empty_pb2

    from pulumi_bird import __version__

    assert plugin.stub.GetPluginInfo(empty_pb2.Empty()).version == schema["version"] == __version__
    assert set(schema["resources"]) == {f"bird:index:{n}" for n in
                                        ("SmsChannel", "VoiceChannel", "Connector", "WebhookSubscription")}
    assert set(schema["functions"]) == {"bird:index:getConnector", "bird:index:listConnectors",
                                        "bird:index:getPhoneNumber"}
    for where in (schema["config"]["variables"], schema["provider"]["inputProperties"]):
        assert set(where) == {"accessKey", "apiUrl", "workspaceId", "organizationId", "getRateLimit"}
        assert where["accessKey"]["secret"] is True
        assert where["accessKey"]["defaultInfo"]["environment"] == ["BIRD_ACCESS_KEY"]
        assert where["getRateLimit"]["type"] == "number"
    hook = schema["resources"]["bird:index:WebhookSubscription"]
    assert hook["inputProperties"]["signingKey"]["secret"] is True and hook["properties"]["signingKey"]["secret"]
    assert hook["inputProperties"]["eventFilters"]["items"] == {"$ref": "#/types/bird:index:EventFilter"}
    connector = schema["resources"]["bird:index:Connector"]["inputProperties"]
    assert connector["securityArguments"]["secret"] and connector["invitationToken"]["secret"]
    sms = schema["resources"]["bird:index:SmsChannel"]
    assert {"phoneNumberId", "channelMessageType"} <= set(sms["requiredInputs"])
    assert "channelId" in sms["properties"] and "channelId" not in sms["inputProperties"]
    assert sms["inputProperties"]["phoneNumberId"].get("willReplaceOnChanges") is True
    assert "willReplaceOnChanges" not in sms["inputProperties"]["readyTimeout"]


def test_the_schema_is_valid_against_pulumis_metaschema(plugin):
    """Against pulumi/pulumi's pkg/codegen/schema/pulumi.json when PULUMI_METASCHEMA names a copy of it (the
    repository may not ship it); without one, the rules in our own words above still judge the schema."""
    path = os.environ.get("PULUMI_METASCHEMA")
    if not path:
        warnings.warn("PULUMI_METASCHEMA names no copy of Pulumi's metaschema: checked by our own rules only",
                      stacklevel=1)
        assert problems(plugin.get_schema()) == []
        return
    assert metaschema_problems(plugin.get_schema(), path) == []


@pytest.mark.parametrize("breakage, expected", [
    (lambda s: s["resources"].__setitem__("bird:SmsChannel", {}), "not a bird:index:Name token"),
    (lambda s: s["functions"].__setitem__("bird:index:GetThing", {}), "not a bird:index:name token"),
    (lambda s: s["types"].clear(), "does not name a type"),
    (lambda s: s["resources"]["bird:index:SmsChannel"]["properties"]["channelId"].pop("description"),
     "no description"),
    (lambda s: s["resources"]["bird:index:SmsChannel"]["inputProperties"].__setitem__(
        "phone_number_id", {"type": "string", "description": "x"}), "camelCase"),
    (lambda s: s["resources"]["bird:index:Connector"]["inputProperties"]["arguments"].__setitem__("type", "map"),
     "type 'map'"),
    (lambda s: s["resources"]["bird:index:Connector"]["inputProperties"]["arguments"].pop("additionalProperties"),
     "additionalProperties"),
    (lambda s: s["resources"]["bird:index:SmsChannel"]["requiredInputs"].append("nope"), "not in inputProperties"),
    (lambda s: s.pop("name"), "name: required"),
    (lambda s: s["types"]["bird:index:ChannelMessageType"]["enum"].append({"value": "2fa"}), "values repeat"),
    (lambda s: s["types"]["bird:index:WebhookStatus"].__setitem__("type", "object"), "an enum's type"),
    (lambda s: s["types"]["bird:index:FilterKey"]["enum"].append({"val": "x"}), "an object with a string value"),
])
def test_the_schema_rules_catch_what_they_are_for(breakage, expected):
    from pulumi_bird.plugin.package import package_schema

    schema = copy.deepcopy(package_schema())
    breakage(schema)
    assert any(expected in p for p in problems(schema)), problems(schema)


def test_the_schema_is_generated_from_each_resources_declared_schema():
    """Every declared input is an input property with its declaration's description, secret flag and replace
    flag; every computed output is an output only."""
    from pulumi_bird.plugin.package import package_schema

    schema = package_schema()
    for kind in RESOURCES:
        spec = schema["resources"][kind.token]
        declared = kind.load("SCHEMA")
        names = {f.name: f.key for f in fields(kind.token)}
        assert list(spec["inputProperties"]) == [camel(p.name) for p in declared]
        for prop in declared:
            given = spec["inputProperties"][camel(prop.name)]
            assert given.get("secret", False) is prop.secret, prop.name
            assert given.get("willReplaceOnChanges", False) is (prop.change == "replace"), prop.name
            assert given["description"] == translate(describe(prop.doc), names), prop.name
        computed = [f.key for f in fields(kind.token) if not f.input]
        assert computed and set(computed) <= set(spec["properties"]) and not set(computed) & set(spec["inputProperties"])


# --- lifecycle ---------------------------------------------------------------------------------------------


def test_sms_channel_create_read_noop_diff_replace_diff_update_delete(plugin, emulator):
    urn = plugin.urn("SmsChannel", "sms-life")
    id_, outs, checked = plugin.up("SmsChannel", "sms-life", sms_inputs())
    assert outs["channelStage"] == "active" and outs["channelStatus"] == "ok" and outs["channelId"]  # waited
    assert checked["name"] == "sms-life" and checked["workspaceId"] == emulator.workspace_id

    refreshed = plugin.read(urn, id_, outs, checked)
    assert refreshed.id == id_ and from_struct(refreshed.inputs) == checked  # a refresh keeps the inputs
    assert plugin.diff(urn, id_, outs, checked).changes == DIFF.DIFF_NONE

    renamed = plugin.diff(urn, id_, outs, {**checked, "name": "sms-renamed"})
    assert renamed.changes == DIFF.DIFF_SOME and list(renamed.replaces) == ["name"]
    assert {k: v.kind for k, v in renamed.detailedDiff.items()} == {"name": KIND.UPDATE_REPLACE}
    assert renamed.deleteBeforeReplace and list(renamed.diffs) == ["name"]

    slower = plugin.diff(urn, id_, outs, {**checked, "readyTimeout": 900})
    assert list(slower.replaces) == [] and {k: v.kind for k, v in slower.detailedDiff.items()} == {
        "readyTimeout": KIND.UPDATE}
    updated = plugin.update(urn, id_, outs, {**checked, "readyTimeout": 900}, old_inputs=checked)
    assert updated["readyTimeout"] == 900 and updated["channelId"] == outs["channelId"]

    plugin.delete(urn, id_, updated, old_inputs=checked)
    assert [c for c in connectors(emulator) if c["id"] == id_] == []
    gone = plugin.read(urn, id_, updated, checked)  # refresh of a deleted object: dropped from the stack
    assert gone.id == "" and not gone.HasField("properties")


def test_webhook_changes_patch_in_place_and_the_signing_key_stays_secret(plugin, emulator):
    urn = plugin.urn("WebhookSubscription", "hook")
    filters = [{"key": "channelStatus", "value": "active"}, {"key": "platformId", "value": "sms"}]
    news = hook_inputs(signingKey=secret(SIGNING_KEY), eventFilters=filters)
    id_, outs, checked = plugin.up("WebhookSubscription", "hook", news)
    assert is_secret(checked["signingKey"]) and is_secret(outs["signingKey"])
    assert outs["eventFilters"] == filters and outs["status"] == "active"

    moved = {**checked, "url": "https://hooks.example.com/moved"}
    change = plugin.diff(urn, id_, outs, moved)
    assert list(change.replaces) == [] and {k: v.kind for k, v in change.detailedDiff.items()} == {"url": KIND.UPDATE}
    emulator.clear_requests()
    updated = plugin.update(urn, id_, outs, moved, old_inputs=checked)
    assert [(r.method, r.body) for r in emulator.requests if r.method == "PATCH"] == [
        ("PATCH", {"url": "https://hooks.example.com/moved"})]
    assert updated["url"].endswith("/moved") and is_secret(updated["signingKey"])

    unkeyed = {k: v for k, v in moved.items() if k != "signingKey"}
    removal = plugin.diff(urn, id_, updated, unkeyed)
    assert {k: v.kind for k, v in removal.detailedDiff.items()} == {"signingKey": KIND.DELETE_REPLACE}
    reordered = {**moved, "eventFilters": list(reversed(filters))}
    assert plugin.diff(urn, id_, updated, reordered).changes == DIFF.DIFF_NONE
    # The provider's own comparison decides each property: filters in another order are no change beside a url's.
    both = plugin.diff(urn, id_, updated, {**reordered, "url": "https://hooks.example.com/again"})
    assert {k: v.kind for k, v in both.detailedDiff.items()} == {"url": KIND.UPDATE}
    plugin.delete(urn, id_, updated)


def test_connector_secrets_are_never_plain_in_outputs_state_or_the_plugins_output(plugin, emulator):
    urn = plugin.urn("Connector", "wa")
    news = {"connectorTemplateRef": "whatsapp:1", "arguments": {"businessId": "b-1"},
            "securityArguments": secret(SECURITY), "invitationToken": secret(TOKEN)}
    id_, outs, checked = plugin.up("Connector", "wa", news)
    read = plugin.read(urn, id_, outs, checked)
    from plugin_engine import from_struct

    for props in (checked, outs, from_struct(read.properties), from_struct(read.inputs)):
        assert is_secret(props["securityArguments"]) and is_secret(props["invitationToken"])
    assert outs["arguments"] == {"businessId": "b-1"}  # nested keys are Bird's, not renamed
    plugin.delete(urn, id_, outs)
    # A declared secret given in plain text (a program that forgot to mark it) is still secret in every output.
    id_, outs, checked = plugin.up("Connector", "wa-plain", {**news, "invitationToken": TOKEN})
    assert is_secret(checked["invitationToken"]) and is_secret(outs["invitationToken"])
    plugin.delete(plugin.urn("Connector", "wa-plain"), id_, outs)
    text = "".join(plugin.stderr + plugin.stdout)
    for value in (TOKEN, "cs-plugin-test-91aa", emulator.access_key):
        assert value not in text


# --- import ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name, program", [
    ("SmsChannel", sms_inputs(OTHER_NUMBER, useCaseId="0b5e7c1a-3f2d-4e6b-8a9c-1d2e3f4a5b6c")),
    ("VoiceChannel", {"phoneNumberId": OTHER_NUMBER}),
    ("Connector", {"connectorTemplateRef": "whatsapp:1", "arguments": {"businessId": "b-9"}}),
    ("WebhookSubscription", hook_inputs(eventFilters=[{"key": "platformId", "value": "sms"}])),
])
def test_import_by_id_returns_the_inputs_of_the_program_so_its_up_shows_no_change(plugin, emulator, type_name,
                                                                                    program):
    name = f"imported-{type_name.lower()}"
    id_, _, _ = plugin.up(type_name, name, program)  # the object exists on Bird
    urn = plugin.urn(type_name, name)
    try:
        # ImportStep.Apply: Read with the id alone (no state, no inputs).
        read = plugin.read(urn, id_, properties={})
        assert read.id == id_ and read.HasField("inputs")
        from plugin_engine import from_struct

        imported, outputs = from_struct(read.inputs), from_struct(read.properties)
        for key, value in program.items():
            assert imported[key] == value, key
        # What the checks fill in anyway is left out, so the program `pulumi import` writes stays portable.
        assert not {"name", "workspaceId", "organizationId", "readyTimeout"} & set(imported), imported
        # `pulumi import` checks the read inputs against themselves: no failures.
        assert plugin.check(urn, imported, imported)[1] == []
        # The program's first up: Check(olds = imported inputs, news = the program), then Diff against the state.
        checked, failures = plugin.check(urn, program, imported)
        assert failures == []
        assert plugin.diff(urn, id_, outputs, checked, old_inputs=imported).changes == DIFF.DIFF_NONE
        # Inputs left out of the import are defaults, not changes, even where only those inputs are at hand.
        assert plugin.diff(urn, id_, imported, checked).changes == DIFF.DIFF_NONE
    finally:
        plugin.delete(urn, id_, {})


def test_importing_an_id_bird_does_not_know_fails_naming_it(plugin):
    missing = "0e0e0e0e-1111-4222-8333-444444444444"
    with pytest.raises(grpc.RpcError) as caught:
        plugin.read(plugin.urn("SmsChannel", "ghost"), missing, properties={})
    assert missing in caught.value.details() and "File \"" not in caught.value.details()


# --- two providers -----------------------------------------------------------------------------------------


def test_two_provider_instances_with_their_own_keys_urls_and_workspaces_work_side_by_side(plugin, emulator):
    other_ws, other_org = "a1b2c3d4-0000-4000-8000-00000000beef", "a1b2c3d4-0000-4000-8000-0000000000ff"
    with start_emulator(access_key="second-account-key", provision_seconds=0.1, workspace_id=other_ws,
                        organization_id=other_org) as second, Plugin(name="second") as other:
        other.configure(provider_config(second))
        assert emulator.access_key != second.access_key and emulator.url != second.url
        # The same phone number in both accounts: on one account the second connector would be a 409.
        first_id, first_outs, _ = plugin.up("SmsChannel", "twin", sms_inputs())
        second_id, second_outs, second_checked = other.up("SmsChannel", "twin", sms_inputs())
        assert second_checked["workspaceId"] == other_ws and second_outs["workspaceId"] == other_ws
        assert [c["id"] for c in connectors(emulator) if c["id"] in (first_id, second_id)] == [first_id]
        assert [c["id"] for c in connectors(second, other_ws)] == [second_id]
        assert other.pid != plugin.pid if hasattr(other, "pid") else other.proc.pid != plugin.proc.pid
        plugin.delete(plugin.urn("SmsChannel", "twin"), first_id, first_outs)
        other.delete(other.urn("SmsChannel", "twin"), second_id, second_outs)
        assert connectors(second, other_ws) == []


# --- check failures, one per rule --------------------------------------------------------------------------

CHECK_FAILURES = [
    ("SmsChannel", {"channelMessageType": "transactional"}, "phoneNumberId", "is required"),
    ("SmsChannel", sms_inputs("not-a-uuid"), "phoneNumberId", "must be a UUID"),
    ("SmsChannel", sms_inputs(channelMessageType="marketing"), "channelMessageType", "must be one of"),
    ("SmsChannel", sms_inputs(useCaseId="x"), "useCaseId", "must be a UUID"),
    ("SmsChannel", sms_inputs(conversational="yes"), "conversational", "true or false"),
    ("SmsChannel", sms_inputs(readyTimeout=-1), "readyTimeout", "more than 0"),
    ("SmsChannel", sms_inputs(phoneNumber=NUMBER), "phoneNumber", "is not a property"),
    ("SmsChannel", sms_inputs(workspaceId="ws-1"), "workspaceId", "must be a UUID"),
    ("SmsChannel", sms_inputs(adoptId="nope"), "adoptId", "must be a UUID"),
    ("VoiceChannel", {}, "phoneNumberId", "is required"),
    ("Connector", {}, "connectorTemplateRef", "is required"),
    ("Connector", {"connectorTemplateRef": "whatsapp:1", "arguments": "b-1"}, "arguments", "must be a mapping"),
    ("Connector", {"connectorTemplateRef": "whatsapp:1", "securityArguments": {"oauth": "s"}},
     "securityArguments.oauth", "mapping of strings"),
    ("Connector", {"connectorTemplateRef": "sms-messagebird:1", "arguments": {"phoneNumberId": NUMBER}},
     "arguments.channelMessageType", "is required by the sms-messagebird:1 template"),
    ("Connector", {"connectorTemplateRef": "whatsapp:1", "invitationToken": 7}, "invitationToken", "must be a string"),
    ("Connector", {"connectorTemplateRef": "whatsapp:1", "allowIdentical": "y"}, "allowIdentical", "true or false"),
    ("WebhookSubscription", hook_inputs(service="billing"), "service", "must be one of"),
    ("WebhookSubscription", {"service": "channels", "url": "https://a.example.com"}, "event", "is required"),
    ("WebhookSubscription", hook_inputs(url="http://hooks.example.com"), "url", "https:// URL"),
    ("WebhookSubscription", hook_inputs(eventFilters={"key": "x"}), "eventFilters", "must be a list"),
    ("WebhookSubscription", hook_inputs(eventFilters=[{"key": "navigatorId", "value": "n"}]), "eventFilters[0].key",
     "not a filter allowed for service channels"),
    ("WebhookSubscription", hook_inputs(eventFilters=[{"key": "channelId", "value": "c"}]), "eventFilters[0].value",
     "must be a channel id"),
    ("WebhookSubscription", hook_inputs(eventFilters=[{"key": "channelId", "value": NUMBER},
                                                      {"key": "channelId", "value": OTHER_NUMBER}]),
     "eventFilters", "at most one channelId"),
    ("WebhookSubscription", hook_inputs(signingKey=12345), "signingKey", "must be a string"),
    ("WebhookSubscription", hook_inputs(signingKey=""), "signingKey", "at least 32"),
    ("WebhookSubscription", hook_inputs(signingKey=secret("a")), "signingKey", "at least 32"),
    ("WebhookSubscription", hook_inputs(signingKey=secret("ключ-" * 8)), "signingKey", "not printable ASCII"),
    ("WebhookSubscription", hook_inputs(organizationId="org"), "organizationId", "must be a UUID"),
]


@pytest.mark.parametrize("type_name, news, prop, reason", CHECK_FAILURES,
                         ids=[f"{t}-{p}-{r.split()[-1]}" for t, _, p, r in CHECK_FAILURES])
def test_check_fails_naming_the_property_as_the_program_wrote_it(plugin, emulator, type_name, news, prop, reason):
    emulator.clear_requests()
    _, failures = plugin.check(plugin.urn(type_name, "bad"), news)
    assert [p for p, _ in failures] == [prop], failures
    assert reason in failures[0][1] and failures[0][1].startswith(prop)
    assert "_" not in failures[0][1].split()[0]  # no snake_case names in what the user reads
    assert emulator.requests == []  # checks are offline


def test_a_secret_that_fails_its_check_is_not_shown(plugin):
    _, failures = plugin.check(plugin.urn("WebhookSubscription", "bad"), hook_inputs(signingKey=secret(["k-991"])))
    assert [p for p, _ in failures] == ["signingKey"] and "k-991" not in failures[0][1]


CONFIG_FAILURES = [
    ({"apiUrl": "http://bird.example.com"}, "apiUrl", "https://"),
    ({"apiUrl": "http://collector.example:8081\\@127.0.0.1:8080"}, "apiUrl", "backslash"),
    ({"apiUrl": "https://user:pw@api.bird.com"}, "apiUrl", "user info"),
    ({"getRateLimit": 500}, "getRateLimit", "from 1 to 50"),
    ({"getRateLimit": "fast"}, "getRateLimit", "from 1 to 50"),
    ({"workspaceId": "ws"}, "workspaceId", "must be a UUID"),
    ({"organizationId": 3}, "organizationId", "must be a UUID"),
    ({"accessKey": " "}, "accessKey", "is not set"),
    ({"acessKey": "k"}, "acessKey", "is not a setting of the bird provider"),
]


@pytest.mark.parametrize("inputs, key, reason", CONFIG_FAILURES, ids=[f"{k}-{r.split()[-1]}" for _, k, r in
                                                                      CONFIG_FAILURES])
def test_check_config_fails_naming_the_key(plugin, inputs, key, reason):
    _, failures = plugin.check_config(inputs)
    assert [k for k, _ in failures] == [key] and reason in failures[0][1], failures


def test_check_config_keeps_the_access_key_secret_and_accepts_engine_keys(plugin, emulator):
    checked, failures = plugin.check_config({**provider_config(emulator), "version": "0.1.0", "getRateLimit": "20"})
    assert failures == [] and is_secret(checked["accessKey"])


# --- preview, lookups, errors ------------------------------------------------------------------------------


def test_values_unknown_in_a_preview_are_not_judged_and_stay_unknown(plugin, emulator):
    urn = plugin.urn("SmsChannel", "later")
    checked, failures = plugin.check(urn, sms_inputs(UNKNOWN))
    assert failures == [] and checked["phoneNumberId"] == UNKNOWN
    id_, outs, known = plugin.up("SmsChannel", "later", sms_inputs())
    try:
        change = plugin.diff(urn, id_, outs, {**known, "phoneNumberId": UNKNOWN})
        assert list(change.replaces) == ["phoneNumberId"] and change.changes == DIFF.DIFF_SOME
    finally:
        plugin.delete(urn, id_, outs)


def test_lookups_are_the_packages_functions(plugin, emulator):
    id_, outs, _ = plugin.up("VoiceChannel", "looked-up", {"phoneNumberId": OTHER_NUMBER})
    try:
        found, failures = plugin.invoke("bird:index:getConnector", {"connectorId": id_})
        assert failures == [] and found["connectorId"] == id_ and found["channelStage"] == "active"
        listed, _ = plugin.invoke("bird:index:listConnectors", {"templateRef": "voice-messagebird:1"})
        assert id_ in [c["connectorId"] for c in listed["connectors"]]
        _, failures = plugin.invoke("bird:index:getConnector", {})
        assert failures and failures[0][0] == "connectorId"
        missing = "0e0e0e0e-1111-4222-8333-444444444444"
        with pytest.raises(grpc.RpcError) as caught:
            plugin.invoke("bird:index:getConnector", {"connectorId": missing})
        assert missing in caught.value.details() and 'File "' not in caught.value.details()
    finally:
        plugin.delete(plugin.urn("VoiceChannel", "looked-up"), id_, outs)


def test_a_failed_create_is_one_message_without_the_plugins_stack(plugin, emulator):
    emulator.backend.set_channel_failure(OTHER_NUMBER, "number not enabled for SMS")
    try:
        with pytest.raises(grpc.RpcError) as caught:
            plugin.up("SmsChannel", "doomed", sms_inputs(OTHER_NUMBER))
    finally:
        emulator.backend.set_channel_failure(OTHER_NUMBER, None)
    details = caught.value.details()
    assert "number not enabled for SMS" in details and "Traceback" not in details and 'File "' not in details
    assert "phone_number_id" not in details and "ready_timeout" not in details


def test_a_failed_refresh_is_one_message_in_the_programs_names_without_the_key(plugin, emulator):
    """Read's errors go through the same wrapper as create's: one message, the schema's names, no secret, even when
    Bird's answer echoes the access key."""
    urn = plugin.urn("SmsChannel", "sms-unreadable")
    id_, outs, checked = plugin.up("SmsChannel", "sms-unreadable", sms_inputs())
    emulator.faults.add("GET", f"/connectors/{id_}$", 403, times=None, body={
        "code": "Forbidden", "message": f"key {emulator.access_key} may not read phone_number_id"})
    try:
        with pytest.raises(grpc.RpcError) as caught:
            plugin.read(urn, id_, outs, checked)
    finally:
        emulator.faults.clear()
        plugin.delete(urn, id_, outs, old_inputs=checked)
    details = caught.value.details()
    assert "403" in details and "phoneNumberId" in details and "phone_number_id" not in details, details
    assert emulator.access_key not in details and "Traceback" not in details and 'File "' not in details, details


def test_the_plugin_is_not_loaded_by_import_pulumi_bird():
    code = ("import sys, pulumi_bird, pulumi_bird.sms_channel, pulumi_bird.webhook_subscription, pulumi_bird.lookups; "
            "print([m for m in sys.modules if m.startswith('pulumi_bird.plugin')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_the_pool_runs_more_waiting_creates_than_asyncios_default():
    from pulumi_bird.plugin.server import executor
    from pulumi_bird.provider.workers import worker_bound

    pool = executor()
    try:
        assert pool._max_workers == worker_bound() > min(32, (os.cpu_count() or 1) + 4)
    finally:
        pool.shutdown()


def test_the_plugin_project_directory_runs_as_the_python_language_host_runs_it():
    """``PulumiPlugin.yaml`` (runtime: python) beside a ``__main__.py``: the language host's RunPlugin runs
    ``python <directory> <engine address>`` (sdk/python/cmd/pulumi-language-python/main.go RunPlugin)."""
    from importlib import resources

    directory = resources.files("pulumi_bird.plugin")
    assert "runtime: python" in (directory / "PulumiPlugin.yaml").read_text()
    with Plugin(command=[sys.executable, str(directory)]) as by_directory:
        assert by_directory.get_schema()["name"] == "bird"


# --- the other languages' examples -------------------------------------------------------------------------

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _reference_problems(text, resources, types, config, invoked=None):
    """What ``${name.property}`` references in a YAML program get wrong. ``invoked``: variables that are a
    function's result (name -> the function's outputs)."""
    found = []
    for name, prop in re.findall(r"\$\{([\w-]+)(?:\.(\w+))?\}", text):
        if name in config and not prop:
            continue
        if name in (invoked or {}):
            if prop not in invoked[name]["properties"]:
                found.append(f"${{{name}.{prop}}}: the function's result has no {prop}")
        elif name not in resources:
            found.append(f"${{{name}}} names no resource, variable or config key")
        elif prop not in ("id", "urn", *types[resources[name]]["properties"]):
            found.append(f"${{{name}.{prop}}}: {resources[name]} has no output {prop}")
    return found


def _invoked(variables, functions):
    """The YAML program's ``fn::invoke`` variables -> the outputs of the function each calls, after checking that
    the function exists and is called with its required arguments and no others."""
    invoked = {}
    for name, spec in variables.items():
        call = spec["fn::invoke"]
        declared = functions[call["function"]]
        arguments = set(call["arguments"])
        assert arguments <= set(declared["inputs"]["properties"]), name
        assert set(declared["inputs"].get("required", [])) <= arguments, name
        invoked[name] = declared["outputs"]
    return invoked


def test_the_yaml_example_declares_the_channels_stack_with_the_schemas_names():
    """The program cannot run here (no CLI); checked against the schema: types, inputs, required inputs, nested
    filter keys, secrets, and that every reference names an output the resource has."""
    import yaml

    from pulumi_bird.plugin.package import package_schema

    schema = package_schema()
    with open(os.path.join(EXAMPLES, "yaml-channels", "Pulumi.yaml"), encoding="utf-8") as f:
        text = f.read()
    program = yaml.safe_load(text)
    # `packages:` names the directory that holds pulumi-resource-bird: the engine refuses the executable's own path
    # ("provider folder ... is not a directory"; tests/e2e/test_languages.py runs the example on the real CLI).
    assert program["runtime"] == "yaml" and program["packages"]["bird"] == "../../.venv/bin"
    resources = {name: spec["type"] for name, spec in program["resources"].items()}
    assert sorted(resources.values()) == ["bird:index:SmsChannel", "bird:index:VoiceChannel",
                                          "bird:index:WebhookSubscription"]
    for name, spec in program["resources"].items():
        declared = schema["resources"][spec["type"]]
        assert set(spec["properties"]) <= set(declared["inputProperties"]), name
        assert set(declared.get("requiredInputs", [])) <= set(spec["properties"]), name
    event_filter = schema["types"]["bird:index:EventFilter"]["properties"]
    for item in program["resources"]["sms-channel-updates"]["properties"]["eventFilters"]:
        assert set(item) <= set(event_filter)
    assert program["config"]["webhookSigningKey"]["secret"] is True
    invoked = _invoked(program["variables"], schema["functions"])
    assert {v["fn::invoke"]["function"] for v in program["variables"].values()} == {"bird:index:getPhoneNumber"}
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text)  # no pasted ids: numbers by their E.164 text
    assert _reference_problems(text, resources, schema["resources"], program["config"], invoked) == []
    assert set(program["outputs"]) == {"smsChannelId", "smsConnectorId", "smsPhoneNumber", "voiceChannelId",
                                       "voiceConnectorId", "webhookSubscriptionId"}


def test_the_typescript_example_uses_only_names_the_schema_generates():
    from pulumi_bird.plugin.package import package_schema

    schema, functions = package_schema()["resources"], package_schema()["functions"]
    with open(os.path.join(EXAMPLES, "typescript-channels", "index.ts"), encoding="utf-8") as f:
        source = f.read()
    # Numbers by their E.164 text: getPhoneNumber (its Output form, as the SDK generates it), no pasted ids.
    lookups = dict(re.findall(r"const (\w+) = bird\.getPhoneNumberOutput\(\{ (\w+): ", source))
    assert set(lookups) == {"smsPhone", "voicePhone"} and set(lookups.values()) <= set(
        functions["bird:index:getPhoneNumber"]["inputs"]["properties"])
    for variable, prop in re.findall(r"\b(smsPhone|voicePhone)\.(\w+)", source):
        assert prop in functions["bird:index:getPhoneNumber"]["outputs"]["properties"], (variable, prop)
    assert "PhoneNumberId\")" not in source and not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", source)
    variables = {}
    for variable, type_name, body in re.findall(r"const (\w+) = new bird\.(\w+)\([^,]+, \{(.*?)\}\);", source, re.S):
        declared = schema[f"bird:index:{type_name}"]
        keys = set(re.findall(r"^\s*(\w+):", body, re.M)) - {"key", "value"}
        assert keys and keys <= set(declared["inputProperties"]), (type_name, keys)
        assert set(declared.get("requiredInputs", [])) <= keys, type_name
        variables[variable] = declared
    assert len(variables) == 3
    for variable, prop in re.findall(r"\b(sms|voice|updates)\.(\w+)", source):
        assert prop == "id" or prop in variables[variable]["properties"], (variable, prop)


@pytest.mark.parametrize("example", ["yaml-channels", "typescript-channels"])
def test_the_examples_numbers_on_the_emulator_are_found_by_their_text_and_carry_the_channels(plugin, emulator,
                                                                                              example):
    """The calls the example's program makes, on the numbers its README sets: getPhoneNumber, then each channel on
    the id found (an SMS channel on a number without the sms capability would fail)."""
    with open(os.path.join(EXAMPLES, example, "README.md"), encoding="utf-8") as f:
        numbers = dict(re.findall(r"pulumi config set (smsNumber|voiceNumber) (\+\d+)", f.read()))
    assert set(numbers) == {"smsNumber", "voiceNumber"}
    made = []
    try:
        for key, type_name, program in (("smsNumber", "SmsChannel", {"channelMessageType": "transactional"}),
                                         ("voiceNumber", "VoiceChannel", {})):
            found, failures = plugin.invoke("bird:index:getPhoneNumber", {"number": numbers[key]})
            assert failures == [] and found["number"] == numbers[key]
            id_, outs, _ = plugin.up(type_name, f"{example}-{key}", {**program, "phoneNumberId": found["id"]})
            made.append((plugin.urn(type_name, f"{example}-{key}"), id_, outs))
            assert outs["channelStage"] == "active"
    finally:
        for urn, id_, outs in made:
            plugin.delete(urn, id_, outs)


def test_an_engine_that_sends_only_the_deprecated_variables_configures_the_provider(emulator):
    """Configure's ``variables`` (keyed ``bird:config:<key>``, provider_plugin.go Configure) are used when ``args``
    is empty, as older engines send it."""
    from google.protobuf import struct_pb2

    with Plugin(name="legacy") as legacy:
        variables = {f"bird:config:{k}": plain(v) for k, v in provider_config(emulator).items()}
        legacy.stub.Configure(provider_pb2.ConfigureRequest(
            variables=variables, args=struct_pb2.Struct(), acceptSecrets=True, acceptResources=True,
            type="pulumi:providers:bird", name="legacy", urn=legacy.provider_urn), timeout=30)
        id_, outs, _ = legacy.up("VoiceChannel", "legacy", {"phoneNumberId": NUMBER})
        assert outs["workspaceId"] == emulator.workspace_id and outs["channelStage"] == "active"
        legacy.delete(legacy.urn("VoiceChannel", "legacy"), id_, outs)


def test_an_import_under_another_resource_name_keeps_birds_name(plugin):
    id_, outs, _ = plugin.up("VoiceChannel", "bird-side-name", {"phoneNumberId": NUMBER})
    urn = plugin.urn("VoiceChannel", "stack-side-name")
    try:
        from plugin_engine import from_struct

        read = plugin.read(urn, id_, properties={})
        imported = from_struct(read.inputs)
        assert imported == {"phoneNumberId": NUMBER, "name": "bird-side-name"}
        checked, _ = plugin.check(urn, imported, imported)
        assert plugin.diff(urn, id_, from_struct(read.properties), checked, imported).changes == DIFF.DIFF_NONE
    finally:
        plugin.delete(urn, id_, outs)


def test_two_plugin_channels_on_one_number_name_each_other_without_adopt_id_advice(plugin, emulator):
    """The plugin passes the resource's name (from the Create request's URN) as the Python resources register it,
    so a 409 on a number that a sibling of this stack took names that sibling."""
    plugin.up("SmsChannel", "first", sms_inputs())
    urn = plugin.urn("SmsChannel", "second")
    checked, _ = plugin.check(urn, sms_inputs(name="second"))
    with pytest.raises(grpc.RpcError) as failure:
        plugin.create(urn, checked)
    message = failure.value.details()
    assert "resource 'first' of this stack" in message and "adopt_id" not in message


def test_importing_a_connector_made_with_an_invitation_token_does_not_replace_it(plugin, emulator):
    """Bird never shows the token, so an import cannot return it: the program that declares it must not delete
    and re-create the object it just imported. A token changed from one value to another still replaces."""
    token = "invite-import-" + "8d2f4b6a"
    program = {"connectorTemplateRef": "whatsapp:1", "arguments": {"businessId": "b-import"},
               "invitationToken": secret(token)}
    id_, _, _ = plugin.up("Connector", "imported", program)
    urn = plugin.urn("Connector", "imported")
    try:
        read = plugin.read(urn, id_, properties={})
        imported, outputs = from_struct(read.inputs), from_struct(read.properties)
        checked, failures = plugin.check(urn, program, imported)
        assert failures == []
        assert plugin.diff(urn, id_, outputs, checked, old_inputs=imported).changes == DIFF.DIFF_NONE
        rotated, _ = plugin.check(urn, {**program, "invitationToken": secret(token + "-new")}, checked)
        changed = plugin.diff(urn, id_, {**outputs, **checked}, rotated, old_inputs=checked)
        assert list(changed.replaces) == ["invitationToken"]
    finally:
        plugin.delete(urn, id_, {})


def test_a_patch_422_echoing_a_url_the_program_marked_secret_does_not_show_it(plugin, emulator):
    """The secret lives in the URL's path, which the dynamic path's own redaction (query, userinfo) leaves alone:
    only the plugin knows the user marked it, and it redacts it from the error and its own output."""
    urn = plugin.urn("WebhookSubscription", "secret-url")
    hidden = "https://hooks.example.com/tenant-5e3c9b1d7a2f4e60/events"
    id_, outs, checked = plugin.up("WebhookSubscription", "secret-url",
                                   hook_inputs(eventFilters=[{"key": "platformId", "value": "secret-url"}]))
    moved = {**checked, "url": secret(hidden)}
    emulator.faults.add("PATCH", r"/webhook-subscriptions/", 422,
                        body={"code": "InvalidRequest", "message": f"rejected url {hidden}; see https://hooks.example.com/help"})
    try:
        with pytest.raises(grpc.RpcError) as caught:
            plugin.update(urn, id_, outs, moved, old_inputs=checked)
    finally:
        emulator.faults.clear()
    text = caught.value.details() or ""
    assert "rejected url [redacted]" in text and "tenant-5e3c9b1d7a2f4e60" not in text, text
    assert "see https://hooks.example.com/help" in text, text  # what is not the secret is not garbled
    assert "tenant-5e3c9b1d7a2f4e60" not in "".join(plugin.stderr)
    plugin.delete(urn, id_, outs)


def test_a_log_line_echoing_a_url_the_program_marked_secret_does_not_show_it(emulator):
    """With PULUMI_BIRD_LOG=debug the provider logs an ambiguous create with Bird's words, which here echo a URL
    the program marked secret: the plugin's log filter redacts it from the line on its stderr."""
    hidden = "https://hooks.example.com/tenant-0c9e8d7f6a5b4c3d/events"
    org, ws = emulator.organization_id, emulator.workspace_id
    with Plugin({"PULUMI_BIRD_LOG": "debug"}, name="logged") as logged:
        logged.configure(provider_config(emulator))
        emulator.faults.add("POST", r"/webhook-subscriptions$", 500, commit=True,
                            body={"code": "InternalError", "message": f"could not deliver to {hidden}"})
        try:
            logged.up("WebhookSubscription", "logged", hook_inputs(url=secret(hidden), eventFilters=[
                {"key": "platformId", "value": "logged"}]))
        except grpc.RpcError:
            pass  # whether the lookup then adopts it or not, the warning was logged
        finally:
            emulator.faults.clear()
            for made in emulator.backend.list_all_webhooks(org, ws):
                if made["url"] == hidden:
                    emulator.backend.delete_webhook(org, ws, made["id"])
    text = "".join(logged.stderr)
    assert "failed ambiguously" in text and "could not deliver to [redacted]" in text, text[-2000:]
    assert "tenant-0c9e8d7f6a5b4c3d" not in text
