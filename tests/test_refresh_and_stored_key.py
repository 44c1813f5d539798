"""Refresh runs Diff after Read, and refresh/destroy use the config stored by the last up: through the SDK's
provider host with the engine's request shapes, against the independent Bird double.

The shapes (pulumi/pulumi):
- refresh: Read(properties = old outputs, inputs = old inputs), then at once Diff(olds = the outputs Read
  returned, old_inputs = the inputs Read returned, news = the *old* inputs) to show the drift; a Diff error
  fails the refresh (step.go RefreshStep.Apply, diffResource).
- up: Check(olds = old inputs, news = program inputs), then Diff(olds = old outputs, news = checked inputs)
  (step_generator.go continueStepsFromRefresh, diffResource); with --refresh the refresh step above runs first,
  in the same deployment, on the same provider (step_generator.go GenerateSteps, NewRefreshStep).
- refresh and destroy configure the provider from the state (pkg/engine/refresh.go, destroy.go;
  deploy/deployment.go EnsureProvider): here, a host configured with the key that has been rotated away.
"""

from __future__ import annotations

import uuid

import pytest

from bird_double import KEY, ORG, WS, _now
from engine_double.host import ProviderError, ProviderHost
from pulumi_bird import SmsChannel, WebhookSubscription

STALE_KEY = "rotated-away-access-key-0000"


def adopted_channel(double, host, inputs_of):
    """An SmsChannel adopted from a connector made out of band; (registration, checked inputs, created)."""
    pn = str(uuid.uuid4())
    cid = str(uuid.uuid4())
    with double.lock:
        double.connectors[cid] = {
            "id": cid, "workspaceId": WS, "name": "sms", "region": "eu-west-1", "channel": None,
            "arguments": {"phoneNumberId": pn, "channelMessageType": "transactional"},
            "connectorTemplateRef": "sms-messagebird:1", "createdAt": _now(), "updatedAt": _now(),
        }
        double.created_at[cid] = 0.0
    reg = inputs_of(lambda: SmsChannel("sms", phone_number_id=pn, channel_message_type="transactional", adopt_id=cid))
    checked = host.check(reg.urn, reg.inputs)
    assert checked.failures == []
    created = host.create(reg.urn, checked.inputs)
    assert created.id == cid
    return reg, checked.inputs, created


def refresh(host, urn, record_id, outs, inputs):
    """RefreshStep.Apply: Read, then Diff with the refreshed inputs/outputs as olds and the old inputs as news."""
    read = host.read(urn, record_id, properties=outs, inputs=inputs)
    diff = host.diff(urn, record_id, read.outs, inputs, old_inputs=read.inputs)
    return read, diff


def up_check(host, reg, read):
    """An up after the refresh: Check(olds = refreshed inputs, news = program); its failures (the up and its
    preview stop at them, before any Diff or step)."""
    return host.check(reg.urn, reg.inputs, olds=read.inputs).failures


def writes(double):
    return [(s.method, s.path) for s in double.seen if s.method != "GET"]


# --- refresh's Diff never fails because of adopt_id --------------------------------------------------------------


def test_refresh_of_an_adopted_channel_renamed_in_bird_shows_the_drift_and_an_up_then_stops_naming_the_fix(
        host, double, inputs_of):
    reg, inputs, created = adopted_channel(double, host, inputs_of)
    double.connectors[created.id]["name"] = "renamed-in-dashboard"
    read, diff = refresh(host, reg.urn, created.id, created.outs, inputs)
    assert read.inputs["name"] == "renamed-in-dashboard"
    assert diff.replaces == ["name"]  # the drift shows; nothing failed
    assert host.diff(reg.urn, created.id, read.outs, inputs, old_inputs=read.inputs).replaces == ["name"]  # again
    failures = up_check(host, reg, read)  # the next `pulumi up` (its preview runs the same Check)
    assert [prop for prop, _ in failures] == ["adopt_id"]
    message = failures[0][1]
    assert message.startswith(f"connector {created.id} must be replaced (name 'renamed-in-dashboard' -> 'sms'), but "
                              "adopt_id still names it")
    assert "declare its current values in the program" in message and "remove adopt_id" in message
    assert writes(double) == [] and created.id in double.connectors


def test_up_with_refresh_runs_the_refresh_diff_then_stops_at_the_up_check(host, double, inputs_of):
    """`up --refresh`: Read, refresh Diff, Check (fails) on one provider; refreshing twice changes nothing; and
    the legacy refresh (no Diff)."""
    reg, inputs, created = adopted_channel(double, host, inputs_of)
    double.connectors[created.id]["arguments"]["channelMessageType"] = "2fa"
    for _ in range(2):
        read, diff = refresh(host, reg.urn, created.id, created.outs, inputs)
        assert diff.replaces == ["channel_message_type"]
    assert "adopt_id still names it" in up_check(host, reg, read)[0][1]
    read = host.read(reg.urn, created.id, properties=created.outs, inputs=inputs)  # PULUMI_ENABLE_LEGACY_REFRESH_DIFF
    assert "adopt_id still names it" in up_check(host, reg, read)[0][1]
    assert writes(double) == []


def test_refresh_of_an_adopted_webhook_changed_in_bird_does_not_fail_and_keeps_the_key_out(host, double, inputs_of):
    sid = str(uuid.uuid4())
    with double.lock:
        double.subscriptions[sid] = {"id": sid, "organizationId": ORG, "workspaceId": WS, "service": "channels",
                                     "event": "channel.updated", "url": "https://a.example.com/hook",
                                     "status": "active", "createdAt": _now(), "updatedAt": _now()}
    reg = inputs_of(lambda: WebhookSubscription("h", service="channels", event="channel.updated",
                                                url="https://a.example.com/hook", signing_key="whsec-refresh-1-0d7a3c9e5f1b48a26c4e",
                                                adopt_id=sid))
    inputs = host.check(reg.urn, reg.inputs).inputs
    created = host.create(reg.urn, inputs)
    double.subscriptions[sid]["event"] = "channel.created"
    read, diff = refresh(host, reg.urn, sid, created.outs, inputs)
    assert diff.replaces == ["event"]
    failures = up_check(host, reg, read)
    assert "event 'channel.created' -> 'channel.updated'" in failures[0][1]
    assert "whsec-refresh-1-0d7a3c9e5f1b48a26c4e" not in str(failures)


# --- a refused key during refresh or destroy says why, and nothing leaves the state ----------------------------


@pytest.fixture(scope="module")
def stale_host(double):
    """A provider configured as `pulumi destroy` configures it after a key rotation: from the stored config."""
    with ProviderHost(config=double.config(**{"bird:accessKey": STALE_KEY})) as h:
        yield h


def _says_how_to_rotate(error: ProviderError, status: int) -> None:
    summary = error.summary
    assert f"Bird refused the access key ({status})" in summary
    assert "configuration stored by the last `pulumi up`" in summary
    assert "run `pulumi up` first, or `pulumi destroy --run-program` / `pulumi refresh --run-program`" in summary
    assert STALE_KEY not in str(error) and KEY not in str(error)


def test_destroy_and_refresh_with_the_stored_rotated_key_fail_saying_how_to_bring_the_new_key_in(
        host, stale_host, double, inputs_of):
    reg = inputs_of(lambda: SmsChannel("sms", phone_number_id=str(uuid.uuid4()), channel_message_type="2fa"))
    inputs = host.check(reg.urn, reg.inputs).inputs
    created = host.create(reg.urn, inputs)
    with pytest.raises(ProviderError) as caught:
        stale_host.delete(reg.urn, created.id, created.outs, old_inputs=inputs)  # DeleteStep.Apply
    _says_how_to_rotate(caught.value, 401)
    assert f"deleting connector {created.id}" in caught.value.summary
    with pytest.raises(ProviderError) as caught:
        stale_host.read(reg.urn, created.id, properties=created.outs, inputs=inputs)  # RefreshStep.Apply
    _says_how_to_rotate(caught.value, 401)
    assert created.id in double.connectors  # the delete failed, so the engine keeps it in the state
    host.delete(reg.urn, created.id, created.outs, old_inputs=inputs)


def test_a_403_that_echoes_the_key_on_a_webhook_delete_fails_without_the_key(host, double, inputs_of):
    reg = inputs_of(lambda: WebhookSubscription("h", service="channels", event="channel.updated",
                                                url="https://b.example.com/hook", allow_identical=True))
    inputs = host.check(reg.urn, reg.inputs).inputs
    created = host.create(reg.urn, inputs)
    double.script("DELETE", "webhook-subscriptions/", 403, {"code": "FORBIDDEN", "message": f"key {KEY} lacks access"})
    with pytest.raises(ProviderError) as caught:
        host.delete(reg.urn, created.id, created.outs, old_inputs=inputs)
    _says_how_to_rotate(caught.value, 403)
    assert f"deleting webhook subscription {created.id}" in caught.value.summary
    assert created.id in double.subscriptions
    host.delete(reg.urn, created.id, created.outs, old_inputs=inputs)
