"""WebhookSubscription driven through the SDK's real provider host against the independent Bird double."""

from __future__ import annotations

import uuid

import pytest
from pulumi.runtime.rpc import UNKNOWN

from bird_double import KEY, ORG, WS
from engine_double.host import ProviderError
from openapi_schema import validate_named
from pulumi_bird import WebhookSubscription, event_filter
from sdk_floor import requires_read_fallback

CHANNEL = "0b5c1f9e-3c8a-4d53-9d8e-2f1a6c7b8d90"
SIGNING_KEY = "whsec-do-not-leak-7f3a-c91e4b20d6a85f13"


def hook(inputs_of, **kw):
    kw.setdefault("service", "channels")
    kw.setdefault("event", "channel.updated")
    kw.setdefault("url", "https://hooks.example.com/bird")
    return inputs_of(lambda: WebhookSubscription("hook", **kw))


def created(host, reg, **override):
    checked = host.check(reg.urn, dict(reg.inputs, **override))
    assert checked.failures == []
    return checked, host.create(reg.urn, checked.inputs)


@pytest.mark.parametrize(
    "kw,expected",
    [
        (dict(service="sms"), ["service"]),
        (dict(url="http://hooks.example.com/x"), ["url"]),
        (dict(url="https://localhost/x"), ["url"]),
        (dict(event=""), ["event"]),
        (dict(event_filters=[{"key": "navigatorId", "value": "n"}]), ["event_filters[0].key"]),
        (dict(event_filters=[{"key": "channelId", "value": "nope"}]), ["event_filters[0].value"]),
        (dict(event_filters=[event_filter("channelId", CHANNEL), event_filter("channelId", str(uuid.uuid4()))]),
         ["event_filters"]),
        (dict(service="templates", event_filters=[event_filter("channelId", CHANNEL)]), ["event_filters[0].key"]),
        (dict(organization_id="org"), ["organization_id"]),
    ],
)
def test_check_fails_bad_input_naming_the_property_with_no_call(host, double, inputs_of, kw, expected):
    reg = hook(inputs_of, **kw)
    failures = host.check(reg.urn, reg.inputs).failures
    assert [p for p, _ in failures] == expected
    assert double.seen == []


@pytest.mark.parametrize("key", ["", "a", "x" * 31, "k" * 31 + "\u00e9", "k" * 31 + "\n"])
def test_check_refuses_an_empty_short_or_non_ascii_signing_key_without_showing_it(host, double, inputs_of, key):
    reg = hook(inputs_of, signing_key=key)
    failures = host.check(reg.urn, reg.inputs).failures
    assert [p for p, _ in failures] == ["signing_key"]
    assert "secrets.token_urlsafe(32)" in failures[0][1]
    assert len(key) < 8 or key not in failures[0][1]  # (a one-letter key is in any sentence)
    assert double.seen == []
    accepted = hook(inputs_of, signing_key="k" * 32)
    assert host.check(accepted.urn, accepted.inputs).failures == []


def test_check_lists_allowed_services_and_tolerates_unknown_filters(host, double, inputs_of):
    reg = hook(inputs_of, service="mail")
    (_, reason), = host.check(reg.urn, reg.inputs).failures
    assert all(s in reason for s in ("channels", "numbers", "payments", "conversations", "templates"))
    reg = hook(inputs_of)
    checked = host.check(reg.urn, dict(reg.inputs, event_filters=[{"key": "channelId", "value": UNKNOWN}], url=UNKNOWN))
    assert checked.failures == []
    assert (checked.inputs["organization_id"], checked.inputs["workspace_id"]) == (ORG, WS)
    assert double.seen == []


def test_create_sends_a_valid_body_and_keeps_the_signing_key_out_of_birds_answers(host, double, inputs_of):
    reg = hook(inputs_of, signing_key=SIGNING_KEY, event_filters=[event_filter("channelId", CHANNEL)])
    assert reg.inputs["signing_key"] == SIGNING_KEY
    _checked, made = created(host, reg)
    post, = double.calls("POST")
    validate_named(post.body, "CreateWebhookSubscription")
    assert post.body["signingKey"] == SIGNING_KEY and post.body["eventFilters"] == [{"key": "channelId", "value": CHANNEL}]
    assert made.id and made.outs["status"] == "active" and made.outs["created_at"]
    assert made.outs["signing_key"] == SIGNING_KEY  # the engine stores it encrypted (additional_secret_outputs)
    assert SIGNING_KEY not in host.stderr_text()


def test_url_filters_and_key_update_in_place_with_patch(host, double, inputs_of):
    reg = hook(inputs_of, signing_key=SIGNING_KEY)
    checked, made = created(host, reg)
    news = dict(checked.inputs, url="https://hooks.example.com/v2", signing_key="whsec-rotated-5e0c8a4f1b7d92e36a0c",
                event_filters=[{"key": "channelStatus", "value": "active"}])
    diff = host.diff(reg.urn, made.id, made.outs, news)
    assert diff.changes == "some" and diff.replaces == []
    outs = host.update(reg.urn, made.id, made.outs, news)
    patch, = double.calls("PATCH")
    assert patch.body == {"url": "https://hooks.example.com/v2", "signingKey": "whsec-rotated-5e0c8a4f1b7d92e36a0c",
                          "eventFilters": [{"key": "channelStatus", "value": "active"}]}
    assert outs["url"] == "https://hooks.example.com/v2" and double.signing_keys[made.id] == "whsec-rotated-5e0c8a4f1b7d92e36a0c"
    reordered = dict(news, event_filters=list(reversed(news["event_filters"])))
    assert host.diff(reg.urn, made.id, outs, reordered).changes == "none"


def test_service_event_and_scope_changes_replace(host, inputs_of):
    reg = hook(inputs_of)
    checked, made = created(host, reg)
    for key, value in [("service", "conversations"), ("event", "channel.created"),
                       ("workspace_id", str(uuid.uuid4())), ("organization_id", str(uuid.uuid4()))]:
        diff = host.diff(reg.urn, made.id, made.outs, dict(checked.inputs, **{key: value}))
        assert diff.replaces == [key] and not diff.delete_before_replace


def test_removing_the_signing_key_replaces(host, inputs_of):
    reg = hook(inputs_of, signing_key=SIGNING_KEY)
    checked, made = created(host, reg)
    diff = host.diff(reg.urn, made.id, made.outs, dict(checked.inputs, signing_key=None))
    assert diff.replaces == ["signing_key"]


def test_refresh_drift_gone_and_idempotent_delete(host, double, inputs_of):
    reg = hook(inputs_of, signing_key=SIGNING_KEY)
    _checked, made = created(host, reg)
    double.subscriptions[made.id]["url"] = "https://elsewhere.example.com/x"
    read = host.read(reg.urn, made.id, properties=made.outs)
    assert read.inputs["url"] == "https://elsewhere.example.com/x"
    assert read.inputs["signing_key"] == SIGNING_KEY  # not readable on Bird: kept
    host.delete(reg.urn, made.id, made.outs)
    host.delete(reg.urn, made.id, made.outs)
    assert [c.status for c in double.calls("DELETE")] == [204, 404]
    assert host.read(reg.urn, made.id, properties=made.outs).id == ""


@requires_read_fallback
def test_import_by_id(host, inputs_of):
    reg = hook(inputs_of)
    checked, made = created(host, reg)
    imported = host.read(reg.urn, made.id, inputs=checked.inputs)
    assert host.diff(reg.urn, made.id, imported.outs, checked.inputs).changes == "none"
    got = inputs_of(lambda: WebhookSubscription.get("got", made.id))
    assert host.read(got.urn, made.id, inputs=got.inputs).outs["event"] == "channel.updated"


def test_wrong_organization_is_a_clear_error_without_the_key(host, inputs_of):
    reg = hook(inputs_of, organization_id=str(uuid.uuid4()))
    checked = host.check(reg.urn, reg.inputs)
    with pytest.raises(ProviderError) as caught:
        host.create(reg.urn, checked.inputs)
    assert "not found" in str(caught.value) and KEY not in str(caught.value)


# --- events Bird documents, filter keys judged with unknown values, desired_status ----------------------------------


@pytest.mark.parametrize("event", ["sms.inbond", "channel.deleted", "sms", "SMS.inbound"])
def test_an_event_bird_does_not_document_for_channels_fails_check_listing_them(host, double, inputs_of, event):
    failures = host.check(hook(inputs_of, event=event).urn, hook(inputs_of, event=event).inputs).failures
    assert [p for p, _ in failures] == ["event"]
    assert "channel.created, channel.updated, or <platform>.inbound" in failures[0][1]
    assert "allow_unlisted_event=True" in failures[0][1]
    assert double.seen == []


@pytest.mark.parametrize("event", ["sms.inbound", "voice.outbound", "whatsapp.interaction", "channel.created"])
def test_documented_channel_events_pass(host, inputs_of, event):
    reg = hook(inputs_of, event=event)
    assert host.check(reg.urn, reg.inputs).failures == []


def test_allow_unlisted_event_lets_a_newer_event_through_and_services_without_a_list_are_not_judged(host, inputs_of):
    reg = hook(inputs_of, event="sms.delivered", allow_unlisted_event=True)
    assert host.check(reg.urn, reg.inputs).failures == []
    reg = hook(inputs_of, service="numbers", event="number.anything")
    assert host.check(reg.urn, reg.inputs).failures == []


def test_a_filter_key_the_service_refuses_fails_at_preview_while_its_value_is_unknown(host, double, inputs_of):
    reg = hook(inputs_of, service="templates", event="template.updated")
    filters = [{"key": "channelId", "value": UNKNOWN}, {"key": "platformId", "value": UNKNOWN}]
    failures = host.check(reg.urn, dict(reg.inputs, event_filters=filters)).failures
    assert [p for p, _ in failures] == ["event_filters[0].key"] and "allowed: platformId" in failures[0][1]
    assert double.seen == []


def test_desired_status_is_set_with_patch_after_the_create_and_updated_in_place(host, double, inputs_of):
    url = f"https://hooks.example.com/{uuid.uuid4()}"
    reg = hook(inputs_of, url=url, desired_status="inactive")
    _checked, made = created(host, reg)
    assert made.outs["status"] == "inactive" and made.outs["desired_status"] == "inactive"
    post = double.calls("POST")[-1]
    assert "status" not in post.body  # Bird's create request has no status field
    assert double.calls("PATCH")[-1].body == {"status": "inactive"}
    news = host.check(reg.urn, dict(reg.inputs, desired_status="active")).inputs
    diff = host.diff(reg.urn, made.id, made.outs, news)
    assert diff.changes and diff.replaces == []
    updated = host.update(reg.urn, made.id, made.outs, news)
    assert updated["status"] == "active" and double.calls("PATCH")[-1].body == {"status": "active"}


def test_an_unset_desired_status_is_no_opinion_refresh_and_diff_leave_bird_alone(host, double, inputs_of):
    reg = hook(inputs_of, url=f"https://hooks.example.com/{uuid.uuid4()}")
    checked, made = created(host, reg)
    with double.lock:  # Bird deactivates it (its URL kept failing)
        double.subscriptions[made.id]["status"] = "inactive"
    read = host.read(reg.urn, made.id, properties=made.outs)
    assert read.outs["status"] == "inactive" and read.outs.get("desired_status") is None
    assert host.diff(reg.urn, made.id, read.outs, checked.inputs).changes == "none"


def test_no_filters_and_an_empty_list_of_them_are_no_change(host, inputs_of):
    reg = hook(inputs_of, url=f"https://hooks.example.com/{uuid.uuid4()}")
    _checked, made = created(host, reg)
    news = host.check(reg.urn, dict(reg.inputs, event_filters=[])).inputs
    assert host.diff(reg.urn, made.id, made.outs, news).changes == "none"
