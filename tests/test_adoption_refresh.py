"""adopt_id, get() of a missing id, and refresh that never invents a replacement: through the SDK's provider host
against the independent Bird double, with objects made out of band (as in Bird's dashboard)."""

from __future__ import annotations

import re
import uuid

import pytest
from pulumi.runtime.rpc import UNKNOWN

from bird_double import KEY, ORG, WS, _now
from engine_double.host import ProviderError
from pulumi_bird import Connector, SmsChannel, VoiceChannel, WebhookSubscription
from pulumi_bird.provider.base import LOOKUP_MARKER


def out_of_band_connector(double, *, name, template="sms-messagebird:1", arguments=None) -> str:
    cid = str(uuid.uuid4())
    with double.lock:
        double.connectors[cid] = {
            "id": cid, "workspaceId": WS, "name": name, "region": "eu-west-1", "arguments": arguments,
            "channel": None, "connectorTemplateRef": template, "createdAt": _now(), "updatedAt": _now(),
        }
        double.created_at[cid] = 0.0
    return cid


def out_of_band_subscription(double, *, url, event="channel.updated", service="channels", **more) -> str:
    sid = str(uuid.uuid4())
    with double.lock:
        double.subscriptions[sid] = {"id": sid, "organizationId": ORG, "workspaceId": WS, "service": service,
                                     "event": event, "url": url, "status": "active", "createdAt": _now(),
                                     "updatedAt": _now(), **more}
    return sid


def sms(inputs_of, pn, **kw):
    kw.setdefault("channel_message_type", "transactional")
    return inputs_of(lambda: SmsChannel("sms", phone_number_id=pn, **kw))


def checked(host, reg):
    result = host.check(reg.urn, reg.inputs)
    assert result.failures == []
    return result.inputs


def writes(double):
    return [c for c in double.seen if c.method != "GET"]


# --- adopt_id -----------------------------------------------------------------------------------------------------


def test_adopting_a_connector_makes_no_post_and_returns_it(host, double, inputs_of):
    pn = str(uuid.uuid4())
    cid = out_of_band_connector(double, name="sms", arguments={"phoneNumberId": pn, "channelMessageType": "transactional"})
    reg = sms(inputs_of, pn, adopt_id=cid)
    created = host.create(reg.urn, checked(host, reg))
    assert created.id == cid and created.outs["channel_id"]
    assert writes(double) == []


def test_a_mismatched_adoption_fails_one_line_per_property_and_writes_nothing(host, double, inputs_of):
    pn = str(uuid.uuid4())
    cid = out_of_band_connector(double, name="other-name", arguments={"phoneNumberId": pn, "channelMessageType": "2fa"})
    reg = sms(inputs_of, pn, adopt_id=cid)
    with pytest.raises(ProviderError) as caught:
        host.create(reg.urn, checked(host, reg))
    message = str(caught.value)
    assert "  name: declared 'sms', Bird has 'other-name'" in message
    assert "  channel_message_type: declared 'transactional', Bird has '2fa'" in message
    assert writes(double) == [] and cid in double.connectors


@pytest.mark.parametrize("template", ["voice-messagebird:1", None])
def test_adopting_a_missing_id_or_another_template_fails_naming_the_id(host, double, inputs_of, template):
    pn = str(uuid.uuid4())
    cid = (out_of_band_connector(double, name="sms", template=template, arguments={"phoneNumberId": pn})
           if template else str(uuid.uuid4()))
    reg = sms(inputs_of, pn, adopt_id=cid)
    with pytest.raises(ProviderError) as caught:
        host.create(reg.urn, checked(host, reg))
    assert f"adopt_id {cid!r}" in str(caught.value)
    assert writes(double) == []


def test_adopting_a_webhook_patches_what_patch_can_set_and_nothing_else(host, double, inputs_of):
    sid = out_of_band_subscription(double, url="https://old.example.com/hook")
    reg = inputs_of(lambda: WebhookSubscription("h", service="channels", event="channel.updated",
                                                url="https://new.example.com/hook", signing_key="k-123456-7a9c1e3f5b0d2f4a6c8e0b2d",
                                                adopt_id=sid))
    created = host.create(reg.urn, checked(host, reg))
    assert created.id == sid
    assert [(c.method, c.body) for c in writes(double)] == [
        ("PATCH", {"url": "https://new.example.com/hook", "signingKey": "k-123456-7a9c1e3f5b0d2f4a6c8e0b2d"})]
    assert double.subscriptions[sid]["url"] == "https://new.example.com/hook"
    assert double.signing_keys[sid] == "k-123456-7a9c1e3f5b0d2f4a6c8e0b2d"


# Bird's subscription differs in what PATCH cannot change: its event, or a template the program leaves out (PATCH
# cannot unset a template, and removing one replaces the subscription, so adopting would keep an undeclared one).
@pytest.mark.parametrize("birds, differs", [
    ({"event": "channel.created"}, "  event: declared 'channel.updated', Bird has 'channel.created'"),
    ({"template": "twilio-sms"}, "  template: declared None, Bird has 'twilio-sms'"),
])
def test_adopting_a_webhook_that_differs_in_what_patch_cannot_set_fails_and_writes_nothing(
        host, double, inputs_of, birds, differs):
    sid = out_of_band_subscription(double, url="https://a.example.com/hook", **birds)
    reg = inputs_of(lambda: WebhookSubscription("h", service="channels", event="channel.updated",
                                                url="https://a.example.com/hook", adopt_id=sid))
    with pytest.raises(ProviderError) as caught:
        host.create(reg.urn, checked(host, reg))
    assert differs in str(caught.value)
    assert writes(double) == []


def test_removing_or_changing_adopt_id_later_is_no_change(host, double, inputs_of):
    pn = str(uuid.uuid4())
    cid = out_of_band_connector(double, name="sms", arguments={"phoneNumberId": pn, "channelMessageType": "transactional"})
    reg = sms(inputs_of, pn, adopt_id=cid)
    inputs = checked(host, reg)
    created = host.create(reg.urn, inputs)
    for later in ({}, {"adopt_id": str(uuid.uuid4())}):
        news = checked(host, sms(inputs_of, pn, **later))
        assert host.diff(reg.urn, created.id, created.outs, news, old_inputs=inputs).changes == "none"


def test_a_replacement_while_adopt_id_names_the_old_object_is_refused_by_check(host, double, inputs_of):
    pn = str(uuid.uuid4())
    cid = out_of_band_connector(double, name="sms", arguments={"phoneNumberId": pn, "channelMessageType": "transactional"})
    reg = sms(inputs_of, pn, adopt_id=cid)
    inputs = checked(host, reg)
    created = host.create(reg.urn, inputs)
    failures = host.check(reg.urn, sms(inputs_of, pn, adopt_id=cid, channel_message_type="2fa").inputs,
                          olds=inputs).failures
    assert [prop for prop, _ in failures] == ["adopt_id"]
    assert "remove adopt_id" in failures[0][1] and cid in failures[0][1]
    assert "channel_message_type 'transactional' -> '2fa'" in failures[0][1]
    news = host.check(reg.urn, sms(inputs_of, pn, channel_message_type="2fa").inputs, olds=inputs)
    assert news.failures == []
    assert host.diff(reg.urn, created.id, created.outs, news.inputs, old_inputs=inputs).replaces
    # Unknown in a preview: not judged, the up's own check judges the value.
    preview = host.check(reg.urn, {**reg.inputs, "channel_message_type": UNKNOWN}, olds=inputs)
    assert preview.failures == []


def test_adopt_id_set_to_the_own_id_beside_a_replacing_change_is_refused_by_diff(host, double, inputs_of):
    """Created without adopt_id, then adopt_id = its own id and a replacing change: check cannot see the id, so
    diff refuses, before any request; the replacement would take over the object the up then deletes."""
    pn = str(uuid.uuid4())
    first = sms(inputs_of, pn)
    inputs = checked(host, first)
    created = host.create(first.urn, inputs)
    before, seen = dict(double.connectors[created.id]), len(double.seen)
    reg = sms(inputs_of, pn, adopt_id=created.id, channel_message_type="2fa")
    news = host.check(reg.urn, reg.inputs, olds=inputs)
    assert news.failures == []
    with pytest.raises(ProviderError) as caught:
        host.diff(reg.urn, created.id, created.outs, news.inputs, old_inputs=inputs)
    message = str(caught.value)
    assert "adopt_id still names it" in message and "remove adopt_id" in message and created.id in message
    assert "channel_message_type 'transactional' -> '2fa'" in message
    assert double.seen[seen:] == [] and double.connectors[created.id] == before
    # Without a replacing change, adopt_id = its own id stays no change; unknown in a preview is not judged.
    same = checked(host, sms(inputs_of, pn, adopt_id=created.id))
    assert host.diff(reg.urn, created.id, created.outs, same, old_inputs=inputs).changes == "none"
    unknown = {**news.inputs, "channel_message_type": UNKNOWN}
    assert host.diff(reg.urn, created.id, created.outs, unknown, old_inputs=inputs).changes == "some"


def test_refresh_of_an_adopted_voice_channel_renamed_in_bird_never_fails(host, double, inputs_of):
    """The issue: refresh, then refresh again, then `up --refresh` of an adopted channel renamed in Bird's
    dashboard. Every refresh Diff shows the drift; only the up's Check (never run by a refresh) stops the up."""
    pn = str(uuid.uuid4())
    cid = out_of_band_connector(double, name="voice", template="voice-messagebird:1", arguments={"phoneNumberId": pn})
    reg = inputs_of(lambda: VoiceChannel("voice", phone_number_id=pn, adopt_id=cid))
    inputs = checked(host, reg)
    created = host.create(reg.urn, inputs)
    double.connectors[cid]["name"] = "renamed-in-dashboard"
    outs, state_inputs = created.outs, inputs
    # `pulumi refresh` twice: RefreshStep's Read, then its Diff against the old inputs; the second one finds the
    # state already holding Bird's name.
    for drift in (["name"], []):
        read = host.read(reg.urn, cid, properties=outs, inputs=state_inputs)
        assert host.diff(reg.urn, cid, read.outs, state_inputs, old_inputs=read.inputs).replaces == drift
        outs, state_inputs = read.outs, read.inputs
    failures = host.check(reg.urn, reg.inputs, olds=state_inputs).failures
    assert [prop for prop, _ in failures] == ["adopt_id"] and "name 'renamed-in-dashboard' -> 'voice'" in failures[0][1]
    # The program that says what Bird has: no change, no failure.
    renamed = inputs_of(lambda: VoiceChannel("voice", phone_number_id=pn, name="renamed-in-dashboard", adopt_id=cid))
    agreed = host.check(reg.urn, renamed.inputs, olds=state_inputs)
    assert agreed.failures == []
    assert host.diff(reg.urn, cid, outs, agreed.inputs, old_inputs=state_inputs).changes == "none"
    assert writes(double) == []


# --- get() of an id that does not exist -----------------------------------------------------------------------------


def test_get_of_a_missing_id_fails_naming_it_but_refresh_of_a_gone_one_drops_it(host, double, inputs_of):
    reg = sms(inputs_of, str(uuid.uuid4()))
    missing = str(uuid.uuid4())
    lookup = {"__provider": reg.inputs["__provider"], LOOKUP_MARKER: True}  # what ReadStep sends for a get()
    with pytest.raises(ProviderError) as caught:
        host.read(reg.urn, missing, properties=lookup, inputs=lookup)
    assert repr(missing) in str(caught.value)
    gone = host.read(reg.urn, missing, properties={"__provider": reg.inputs["__provider"], "workspace_id": WS})
    assert gone.id == ""


def test_get_of_another_template_fails_naming_the_id(host, double, inputs_of):
    cid = out_of_band_connector(double, name="v", template="voice-messagebird:1", arguments={"phoneNumberId": "x"})
    reg = sms(inputs_of, str(uuid.uuid4()))
    lookup = {"__provider": reg.inputs["__provider"], LOOKUP_MARKER: True}
    with pytest.raises(ProviderError) as caught:
        host.read(reg.urn, cid, properties=lookup, inputs=lookup)
    assert cid in str(caught.value) and "voice-messagebird:1" in str(caught.value)



def test_what_bird_shows_of_an_object_is_quoted_without_the_key_it_echoes(host, double, inputs_of):
    """Adopting quotes Bird's name and template, a get() its template: whatever Bird puts there, the access key
    is not in the message."""
    pn = str(uuid.uuid4())
    named = out_of_band_connector(double, name=f"n {KEY}", arguments={"phoneNumberId": pn, "channelMessageType": "2fa"})
    other = out_of_band_connector(double, name="sms", template=f"t-{KEY}", arguments={"phoneNumberId": pn})
    for cid, says in ((named, "Bird has 'n [redacted]'"), (other, "is a t-[redacted] connector")):
        reg = sms(inputs_of, pn, adopt_id=cid)
        with pytest.raises(ProviderError, match=re.escape(says)) as caught:
            host.create(reg.urn, checked(host, reg))
        assert KEY[:12] not in str(caught.value)
    lookup = {"__provider": reg.inputs["__provider"], LOOKUP_MARKER: True}
    with pytest.raises(ProviderError, match=re.escape("is a t-[redacted] connector")) as caught:
        host.read(reg.urn, other, properties=lookup, inputs=lookup)
    assert KEY[:12] not in str(caught.value) and writes(double) == []

# --- refresh never invents a replacement ----------------------------------------------------------------------------


def refresh_then_diff(host, reg, created, inputs):
    read = host.read(reg.urn, created.id, properties=created.outs, inputs=inputs)
    news = checked(host, reg)
    return read, host.diff(reg.urn, created.id, read.outs, news, old_inputs=read.inputs)


def test_refresh_ignores_argument_keys_bird_adds(host, double, inputs_of):
    reg = inputs_of(lambda: Connector("wa", connector_template_ref="whatsapp:1", arguments={"wabaId": "w-9"},
                                      allow_identical=True))
    inputs = checked(host, reg)
    created = host.create(reg.urn, inputs)
    double.connectors[created.id]["arguments"] = {"wabaId": "w-9", "addedByBird": "x"}
    read, diff = refresh_then_diff(host, reg, created, inputs)
    assert read.inputs["arguments"] == {"wabaId": "w-9"} and diff.changes == "none"


def test_refresh_keeps_arguments_bird_does_not_echo(host, double, inputs_of):
    reg = sms(inputs_of, str(uuid.uuid4()))
    inputs = checked(host, reg)
    created = host.create(reg.urn, inputs)
    double.connectors[created.id]["arguments"] = {"phoneNumberId": inputs["phone_number_id"]}  # no channelMessageType
    read, diff = refresh_then_diff(host, reg, created, inputs)
    assert read.inputs["channel_message_type"] == "transactional" and diff.changes == "none"


def test_a_change_made_in_the_dashboard_still_shows(host, double, inputs_of):
    reg = sms(inputs_of, str(uuid.uuid4()))
    inputs = checked(host, reg)
    created = host.create(reg.urn, inputs)
    double.connectors[created.id]["arguments"]["channelMessageType"] = "promotional"
    read, diff = refresh_then_diff(host, reg, created, inputs)
    assert read.inputs["channel_message_type"] == "promotional"
    assert diff.replaces == ["channel_message_type"]
