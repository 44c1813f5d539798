"""What the plugin's package schema and functions say, in the schema's own words: enums for every fixed set of
values, ``getPhoneNumber`` served by Invoke with the Python lookup's own read, the package's home, and messages in
the names a TypeScript or YAML program writes. Over gRPC as the engine drives the plugin (tests/plugin_engine.py),
against the emulator."""

from __future__ import annotations

import typing

import grpc
import pytest
from plugin_engine import secret

from pulumi_bird.api import values
from pulumi_bird.plugin.fields import RESOURCES, fields
from pulumi_bird.plugin.package import package_schema

SMS_NUMBER = "+3197010520000"  # the emulator's default inventory (pulumi_bird/emulator/backend.py DEFAULT_NUMBERS)


def enum_values(schema, spec):
    """The values of the enum type a property refers to (None: it is no enum)."""
    ref = spec.get("$ref", "")
    declared = schema["types"].get(ref.removeprefix("#/types/"), {})
    return [e["value"] for e in declared["enum"]] if "enum" in declared else None


def test_every_input_with_a_fixed_set_of_values_is_an_enum_of_exactly_those_values():
    schema = package_schema()
    checked = 0
    for kind in RESOURCES:
        spec = schema["resources"][kind.token]
        for field in fields(kind.token):
            if typing.get_origin(field.type) is not typing.Literal:
                continue
            allowed = list(typing.get_args(field.type))
            where = spec["inputProperties"] if field.input else spec["properties"]
            assert enum_values(schema, where[field.key]) == allowed, (kind.name, field.key)
            assert enum_values(schema, spec["properties"][field.key]) == allowed, (kind.name, field.key)
            checked += 1
    filter_key = schema["types"]["bird:index:EventFilter"]["properties"]["key"]
    assert enum_values(schema, filter_key) == list(values.FILTER_KEYS)
    hook = schema["resources"]["bird:index:WebhookSubscription"]["inputProperties"]
    assert enum_values(schema, hook["service"]) == list(values.WEBHOOK_SERVICES)
    assert enum_values(schema, hook["desiredStatus"]) == list(values.WEBHOOK_STATUSES)
    sms = schema["resources"]["bird:index:SmsChannel"]["inputProperties"]
    assert enum_values(schema, sms["channelMessageType"]) == list(values.CHANNEL_MESSAGE_TYPES)
    assert checked == 3  # channelMessageType, service, desiredStatus


def test_a_declared_set_of_values_and_its_literal_type_agree():
    """A Property's ``values`` (what check judges) are its Literal type's (what the schema and type checkers
    show): the enum can never offer a value that check refuses."""
    for kind in RESOURCES:
        declared = {p.name: p for p in kind.load("SCHEMA")}
        for field in fields(kind.token):
            if field.input and declared[field.name].values:
                assert typing.get_args(field.type) == declared[field.name].values, (kind.name, field.name)


def test_the_package_names_its_home_with_placeholders_that_say_so():
    schema = package_schema()
    for key in ("homepage", "repository"):
        assert schema[key].startswith("https://example.com/placeholder-until-published/"), key


def test_get_phone_number_is_a_function_of_the_schema_and_of_invoke(plugin, emulator):
    spec = package_schema()["functions"]["bird:index:getPhoneNumber"]
    assert spec["inputs"]["required"] == ["number"] and set(spec["inputs"]["properties"]) == {"number", "workspaceId"}
    assert {"id", "number", "country", "type", "capabilities"} == set(spec["outputs"]["properties"])
    assert "phone_number_id" not in str(spec) and "phoneNumberId" in spec["outputs"]["properties"]["id"]["description"]

    found, failures = plugin.invoke("bird:index:getPhoneNumber", {"number": "+31 970 1052 0000"})
    assert failures == []
    inventory = {n["number"]: n for n in emulator.backend.list_numbers(emulator.workspace_id, _first_page())["results"]}
    assert found == {"id": inventory[SMS_NUMBER]["id"], "number": SMS_NUMBER, "country": "NL",
                     "type": inventory[SMS_NUMBER]["type"], "capabilities": ["sms", "voice"]}
    _, failures = plugin.invoke("bird:index:getPhoneNumber", {})
    assert failures == [("number", "number is required")]
    _, failures = plugin.invoke("bird:index:getPhoneNumber", {"number": SMS_NUMBER, "phone": "x"})
    assert failures == [("phone", "phone is not an argument of this function")]


@pytest.mark.parametrize("number, says", [
    ("+3197099999999", "has no phone number +3197099999999"),
    ("not a number", "is not an E.164 phone number"),
])
def test_get_phone_number_of_an_unknown_or_malformed_number_fails_in_one_line(plugin, number, says):
    with pytest.raises(grpc.RpcError) as caught:
        plugin.invoke("bird:index:getPhoneNumber", {"number": number})
    details = caught.value.details()
    assert says in details and "\n" not in details and 'File "' not in details


def _first_page():
    from pulumi_bird.emulator.backend import PageRequest

    return PageRequest(limit=99)


# --- messages in the schema's names ---------------------------------------------------------------------------


def test_a_check_message_tells_a_plugin_user_what_to_write_in_their_language(plugin):
    _, failures = plugin.check(plugin.urn("WebhookSubscription", "unlisted"),
                               {"service": "channels", "event": "channel.exploded",
                                "url": "https://hooks.example.com/bird"})
    assert [prop for prop, _ in failures] == ["event"]
    reason = failures[0][1]
    assert reason.endswith("set allowUnlistedEvent: true"), reason
    assert "=True" not in reason and "allow_unlisted_event" not in reason


def test_an_error_tells_a_plugin_user_what_to_write_in_their_language(plugin, emulator):
    """A create beside an identical subscription made out of band (an interrupted run's leftover) fails saying how
    to adopt it or to allow a second one."""
    program = {"service": "channels", "event": "channel.created", "url": "https://hooks.example.com/twin"}
    leftover = emulator.backend.create_webhook(emulator.organization_id, emulator.workspace_id, dict(program))["id"]
    try:
        urn = plugin.urn("WebhookSubscription", "twin")
        checked, _ = plugin.check(urn, {**program, "signingKey": secret("whsec-twin-1")})
        with pytest.raises(grpc.RpcError) as caught:
            plugin.create(urn, checked)
        details = caught.value.details()
        assert f'adoptId: "{leftover}"' in details and "allowIdentical: true" in details, details
        assert "adopt_id" not in details and "=True" not in details
    finally:
        emulator.backend.delete_webhook(emulator.organization_id, emulator.workspace_id, leftover)


def test_the_python_messages_keep_pythons_spelling():
    """The same message, for a Python program: the translation is the plugin's alone."""
    from pulumi_bird.webhook_subscription import WebhookSubscriptionProvider

    result = WebhookSubscriptionProvider().check({}, {"service": "channels", "event": "channel.exploded",
                                                      "url": "https://hooks.example.com/bird"})
    reasons = [f.reason for f in result.failures if f.property == "event"]
    assert reasons and reasons[0].endswith("set allow_unlisted_event=True")


# --- the schema without the CLI ---------------------------------------------------------------------------------


def test_the_executable_prints_its_schema_and_version_without_an_engine(plugin):
    """`pulumi-resource-bird --schema` is what GetSchema serves (and `pulumi package get-schema` prints);
    `--version` what GetPluginInfo says. Without an address or either flag it says how to use it."""
    import json
    import subprocess

    from google.protobuf import empty_pb2
    from plugin_engine import plugin_command

    from pulumi_bird import __version__

    def run(*args):
        return subprocess.run([*plugin_command(), *args], capture_output=True, text=True, timeout=60)

    printed = run("--schema")
    assert printed.returncode == 0 and json.loads(printed.stdout) == plugin.get_schema() == package_schema()
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == __version__
    assert plugin.stub.GetPluginInfo(empty_pb2.Empty()).version == __version__
    bare = run()
    assert bare.returncode == 2 and "--schema or --version" in bare.stderr
