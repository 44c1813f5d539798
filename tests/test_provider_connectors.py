"""Connector, SmsChannel and VoiceChannel driven through the SDK's real provider host (gRPC) against the
independent Bird double: check, diff, create (waiting, rollback), read (refresh, import, gone), delete."""

from __future__ import annotations

import uuid

import pytest
from pulumi.runtime.rpc import UNKNOWN

from bird_double import KEY, WS
from engine_double.host import ProviderError, ProviderHost
from helpers import poll_schedule
from openapi_schema import validate_named
from pulumi_bird import Connector, SmsChannel, VoiceChannel
from sdk_floor import requires_read_fallback


def number() -> str:
    return str(uuid.uuid4())


def plain(props: dict) -> dict:
    return {k: v for k, v in props.items() if k != "__provider"}


def sms(inputs_of, **kw):
    kw.setdefault("phone_number_id", number())
    kw.setdefault("channel_message_type", "transactional")
    return inputs_of(lambda: SmsChannel("sms", **kw))


def create(host, reg, **override):
    checked = host.check(reg.urn, dict(reg.inputs, **override))
    assert checked.failures == []
    return checked, host.create(reg.urn, checked.inputs)


# --- check -------------------------------------------------------------------------------------------------


def test_check_fills_defaults_from_config(host, double, inputs_of):
    reg = sms(inputs_of)
    checked = host.check(reg.urn, reg.inputs)
    assert checked.failures == []
    assert checked.inputs["workspace_id"] == WS and checked.inputs["ready_timeout"] == 600
    assert checked.inputs["name"] == "sms"  # defaults to the resource name
    assert double.seen == []


@pytest.mark.parametrize(
    "factory,expected",
    [
        (lambda: SmsChannel("s", phone_number_id="not-a-uuid", channel_message_type="transactional"), ["phone_number_id"]),
        (lambda: SmsChannel("s", phone_number_id=number(), channel_message_type="marketing"), ["channel_message_type"]),
        (lambda: SmsChannel("s", phone_number_id=number(), channel_message_type="2fa", use_case_id="x"), ["use_case_id"]),
        (lambda: SmsChannel("s", phone_number_id=number(), channel_message_type="2fa", conversational="yes"), ["conversational"]),
        (lambda: VoiceChannel("v", phone_number_id=None), ["phone_number_id"]),
        (lambda: VoiceChannel("v", phone_number_id=number(), ready_timeout=-1), ["ready_timeout"]),
        (lambda: VoiceChannel("v", phone_number_id=number(), workspace_id="ws"), ["workspace_id"]),
        (lambda: Connector("c", connector_template_ref=None), ["connector_template_ref"]),
        (lambda: Connector("c", connector_template_ref="sms-messagebird:1", arguments={"phoneNumberId": number()}),
         ["arguments.channelMessageType"]),
        (lambda: Connector("c", connector_template_ref="whatsapp:1", security_arguments={"oauth": "flat"}),
         ["security_arguments.oauth"]),
    ],
)
def test_check_names_the_property_the_user_wrote_and_calls_nothing(host, double, inputs_of, factory, expected):
    reg = inputs_of(factory)
    failures = host.check(reg.urn, reg.inputs).failures
    assert [prop for prop, _ in failures] == expected
    assert all(prop in reason for prop, reason in failures)
    assert double.seen == []


def test_check_lists_the_allowed_message_types(host, inputs_of):
    reg = sms(inputs_of, channel_message_type="bulk")
    (_prop, reason), = host.check(reg.urn, reg.inputs).failures
    for allowed in ("promotional", "transactional", "conversational", "emergency", "2fa"):
        assert allowed in reason


def test_check_rejects_properties_of_the_wrong_type_or_name(host, inputs_of):
    reg = sms(inputs_of)
    failures = host.check(reg.urn, dict(reg.inputs, name=42, surprise=True)).failures
    assert sorted(p for p, _ in failures) == ["name", "surprise"]
    reg = inputs_of(lambda: Connector("c", connector_template_ref="whatsapp:1"))
    failures = host.check(reg.urn, dict(reg.inputs, arguments=["a"])).failures
    assert [p for p, _ in failures] == ["arguments"]


def test_check_skips_values_unknown_at_preview(host, double, inputs_of):
    reg = sms(inputs_of)
    checked = host.check(reg.urn, dict(reg.inputs, phone_number_id=UNKNOWN, name=UNKNOWN))
    assert checked.failures == []
    assert double.seen == []


# --- diff --------------------------------------------------------------------------------------------------


def test_diff_no_change_update_and_delete_first_replacement(host, double, inputs_of):
    reg = sms(inputs_of)
    checked, created = create(host, reg)
    double.seen.clear()
    same = host.diff(reg.urn, created.id, created.outs, checked.inputs)
    assert same.changes == "none"
    timeout_only = host.diff(reg.urn, created.id, created.outs, dict(checked.inputs, ready_timeout=30))
    assert (timeout_only.changes, timeout_only.replaces) == ("some", [])
    renumbered = host.diff(reg.urn, created.id, created.outs, dict(checked.inputs, phone_number_id=number(), name="x"))
    assert renumbered.changes == "some" and sorted(renumbered.replaces) == ["name", "phone_number_id"]
    assert renumbered.delete_before_replace
    preview = host.diff(reg.urn, created.id, created.outs, dict(checked.inputs, phone_number_id=UNKNOWN))
    assert preview.replaces == ["phone_number_id"]
    assert double.seen == []  # diff is offline


def test_update_of_ready_timeout_makes_no_call(host, double, inputs_of):
    reg = sms(inputs_of)
    checked, created = create(host, reg)
    double.seen.clear()
    outs = host.update(reg.urn, created.id, created.outs, dict(checked.inputs, ready_timeout=42))
    assert outs["ready_timeout"] == 42 and outs["channel_id"] == created.outs["channel_id"]
    assert double.seen == []


# --- create ------------------------------------------------------------------------------------------------


def test_create_waits_for_the_channel_and_returns_its_id(host, double, inputs_of):
    double.reads_until_active = 3
    pn = number()
    reg = sms(inputs_of, phone_number_id=pn, use_case_id=str(uuid.uuid4()), conversational=True)
    _, created = create(host, reg)
    outs = created.outs
    assert created.id == outs["connector_id"]
    assert outs["channel_id"] and (outs["channel_status"], outs["channel_stage"]) == ("ok", "active")
    assert outs["connector_template_ref"] == "sms-messagebird:1" and outs["number_id"] == pn
    assert len(double.calls("GET", "/status")) == 3
    (post,) = double.calls("POST")
    validate_named(post.body, "CreateConnectorReq")
    assert post.body["arguments"]["phoneNumberId"] == pn
    assert post.body["channelConversationalStatusEnabled"] is True
    assert post.body["connectorTemplateRef"] == "sms-messagebird:1"


def test_voice_and_generic_connector_bodies(host, double, inputs_of):
    pn = number()
    reg = inputs_of(lambda: VoiceChannel("voice", phone_number_id=pn))
    create(host, reg)
    reg = inputs_of(lambda: Connector("wa", connector_template_ref="whatsapp:1", arguments={"k": "v"},
                                      security_arguments={"oauth": {"token": "tok-secret-1"}}))
    create(host, reg)
    voice_post, wa_post = double.calls("POST")
    for post in (voice_post, wa_post):
        validate_named(post.body, "CreateConnectorReq")
    assert voice_post.body == {"name": "voice", "connectorTemplateRef": "voice-messagebird:1", "arguments": {"phoneNumberId": pn}}
    assert wa_post.body["securityArguments"] == {"oauth": {"token": "tok-secret-1"}}


def test_channel_error_fails_create_with_birds_message_and_deletes_the_connector(host, double, inputs_of):
    pn = number()
    double.fail_number(pn, "number is not SMS capable")
    reg = sms(inputs_of, phone_number_id=pn)
    checked = host.check(reg.urn, reg.inputs)
    with pytest.raises(ProviderError) as caught:
        host.create(reg.urn, checked.inputs)
    text = str(caught.value)
    assert "number is not SMS capable" in text and "was deleted" in text
    assert len(double.calls("DELETE")) == 1 and double.connectors_for(pn) == []


def test_readiness_timeout_rolls_back(host, double, inputs_of):
    double.reads_until_active = 10**9
    reg = sms(inputs_of)
    checked = host.check(reg.urn, dict(reg.inputs, ready_timeout=1.5))
    with pytest.raises(ProviderError) as caught:
        host.create(reg.urn, checked.inputs)
    assert "not active after 1.5s" in str(caught.value) and "was deleted" in str(caught.value)
    assert [s.method for s in double.seen][-1:] == ["DELETE"] and len(double.calls("POST")) == 1
    # rolled back at the deadline: no poll after the DELETE, and no more polls than the schedule has in 1.5 s
    assert len(double.calls("GET", "/status")) <= len(poll_schedule(1.5))


def test_number_in_use_names_the_connector_that_holds_it(host, double, inputs_of):
    pn = number()
    _, first = create(host, sms(inputs_of, phone_number_id=pn))
    double.connectors[first.id]["name"] = "made-elsewhere"
    with ProviderHost(config=double.config()) as other_run:  # a later `pulumi up`: another process
        reg = sms(inputs_of, phone_number_id=pn)
        with pytest.raises(ProviderError) as caught:
            other_run.create(reg.urn, other_run.check(reg.urn, reg.inputs).inputs)
    assert f"adopt_id={first.id!r}" in str(caught.value) and "'made-elsewhere'" in str(caught.value)


# --- read --------------------------------------------------------------------------------------------------


def test_refresh_reports_drift_and_out_of_band_delete(host, double, inputs_of):
    reg = sms(inputs_of)
    _, created = create(host, reg)
    double.connectors[created.id]["name"] = "renamed-in-the-dashboard"
    read = host.read(reg.urn, created.id, properties=created.outs)
    assert read.id == created.id and read.inputs["name"] == "renamed-in-the-dashboard"
    assert read.outs["channel_id"] == created.outs["channel_id"]
    del double.connectors[created.id]
    assert host.read(reg.urn, created.id, properties=created.outs).id == ""


@requires_read_fallback
def test_import_and_get_read_with_inputs_only(host, double, inputs_of):
    pn = number()
    _, created = create(host, sms(inputs_of, phone_number_id=pn, name="existing"))
    adopt = sms(inputs_of, phone_number_id=pn, name="existing")
    checked = host.check(adopt.urn, adopt.inputs)
    imported = host.read(adopt.urn, created.id, inputs=checked.inputs)
    assert imported.id == created.id
    assert host.diff(adopt.urn, created.id, imported.outs, checked.inputs).changes == "none"
    got = inputs_of(lambda: SmsChannel.get("got", created.id))
    read = host.read(got.urn, created.id, inputs=got.inputs)
    assert read.outs["phone_number_id"] == pn and read.outs["channel_id"] == created.outs["channel_id"]


@requires_read_fallback
def test_reading_a_connector_of_another_template_is_an_error(host, double, inputs_of):
    _, created = create(host, inputs_of(lambda: VoiceChannel("v", phone_number_id=number())))
    got = inputs_of(lambda: SmsChannel.get("wrong", created.id))
    with pytest.raises(ProviderError, match="voice-messagebird:1"):
        host.read(got.urn, created.id, inputs=got.inputs)


# --- delete ------------------------------------------------------------------------------------------------


def test_delete_is_idempotent(host, double, inputs_of):
    reg = sms(inputs_of)
    _, created = create(host, reg)
    host.delete(reg.urn, created.id, created.outs)
    host.delete(reg.urn, created.id, created.outs)
    assert [c.status for c in double.calls("DELETE")] == [204, 404]


# --- secrets and configuration -------------------------------------------------------------------------------


def test_the_access_key_is_nowhere_in_state_blob_logs_or_errors(host, double, inputs_of):
    reg = sms(inputs_of)
    _, created = create(host, reg)
    assert KEY not in repr(created.outs) and KEY not in repr(reg.inputs)
    import base64
    assert KEY.encode() not in base64.b64decode(reg.inputs["__provider"])
    bad = sms(inputs_of, phone_number_id=created.outs["number_id"])  # a 409
    with pytest.raises(ProviderError) as caught:
        host.create(bad.urn, host.check(bad.urn, bad.inputs).inputs)
    assert KEY not in str(caught.value)
    assert KEY not in host.stderr_text()
    assert all(s.authorization == f"AccessKey {KEY}" for s in double.seen)


def test_configuration_from_the_environment_only(double, inputs_of):
    from engine_double.host import ProviderHost

    env = {"BIRD_ACCESS_KEY": KEY, "BIRD_API_URL": double.url, "BIRD_WORKSPACE_ID": WS}
    reg = sms(inputs_of)
    with ProviderHost(config={}, env=env) as host:
        checked = host.check(reg.urn, reg.inputs)
        assert checked.inputs["workspace_id"] == WS
        created = host.create(reg.urn, checked.inputs)
    assert created.outs["channel_id"]


def test_missing_key_and_plain_http_to_a_remote_host_are_clear_errors(double, inputs_of):
    from engine_double.host import ProviderHost

    reg = sms(inputs_of)
    with ProviderHost(config={"bird:apiUrl": double.url, "bird:workspaceId": WS}, env={"BIRD_ACCESS_KEY": ""}) as host:
        with pytest.raises(ProviderError, match="bird:accessKey"):
            host.create(reg.urn, host.check(reg.urn, reg.inputs).inputs)
    with ProviderHost(config={"bird:accessKey": KEY, "bird:apiUrl": "http://bird.example.com", "bird:workspaceId": WS}) as host:
        with pytest.raises(ProviderError, match="https"):
            host.create(reg.urn, host.check(reg.urn, reg.inputs).inputs)
    assert double.seen == []


def test_delete_without_a_workspace_is_an_error_not_a_silent_success(double, inputs_of):
    from engine_double.host import ProviderHost

    reg = sms(inputs_of)
    with ProviderHost(config={"bird:accessKey": KEY, "bird:apiUrl": double.url}, env={"BIRD_WORKSPACE_ID": ""}) as host:
        with pytest.raises(ProviderError, match="bird:workspaceId"):
            host.delete(reg.urn, str(uuid.uuid4()), {"__provider": reg.inputs["__provider"]})
    assert double.seen == []
