"""Exactly one object, no leaked key and no hang under hostile *answers*, through the SDK's provider host against
the emulator playing them (``emulator.hostile``, tests/hostile_emulator.py, and ``emulator.faults``): Bird's clock
behind ours, lists that lag their writes, 2xx bodies that name another object or no usable id or leave createdAt
out, items listed twice, status answers trickled, active without a channel id, a huge Retry-After, DELETE answered
410, an errorMessage that echoes the key.

Every test names its objects uniquely (one host process serves the module and remembers what it made), and
clears the emulator's faults after itself."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from typing import Any, Iterator

import pytest

from engine_double.host import ProviderError, ProviderHost
from pulumi_bird import Connector, SmsChannel, WebhookSubscription
from pulumi_bird.api import errors
from pulumi_bird.api.client import BirdClient
from pulumi_bird.emulator.responses import ApiRequest, ApiResponse

CONNECTORS = r"/connectors$"
SUBSCRIPTIONS = r"/webhook-subscriptions$"

pytestmark = pytest.mark.usefixtures("clean_answers")


def up(host: Any, reg: Any) -> Any:
    checked = host.check(reg.urn, reg.inputs)
    assert checked.failures == []
    return host.create(reg.urn, checked.inputs)


def connector(inputs_of: Any, name: str, **kw: Any) -> Any:
    return inputs_of(lambda: Connector(name, connector_template_ref="whatsapp:1", arguments={"wabaId": "w-1"}, **kw))


def hook(inputs_of: Any, url: str) -> Any:
    return inputs_of(lambda: WebhookSubscription("hook", service="channels", event="channel.updated", url=url))


def sms(inputs_of: Any, number: str, **kw: Any) -> Any:
    return inputs_of(lambda: SmsChannel("sms", phone_number_id=number, channel_message_type="2fa", **kw))


def connectors_named(emulator: Any, name: str) -> list[str]:
    return [c["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id) if c["name"] == name]


def hooks_at(emulator: Any, url: str) -> list[str]:
    every = emulator.backend.list_all_webhooks(emulator.organization_id, emulator.workspace_id)
    return [s["id"] for s in every if s["url"] == url]


# --- Bird's clock and lagging lists ------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-300.0, -3600.0, 3600.0])
def test_a_skewed_bird_clock_and_commit_then_502_leave_one_connector(emulator, emulator_host, inputs_of, offset):
    emulator.hostile.clock_offset = offset
    emulator.faults.add("POST", CONNECTORS, 502, commit=True)
    name = f"skew-{uuid.uuid4()}"
    result = up(emulator_host, connector(inputs_of, name))
    assert connectors_named(emulator, name) == [result.id]


def test_a_skewed_bird_clock_and_commit_then_502_leave_one_subscription(emulator, emulator_host, inputs_of):
    emulator.hostile.clock_offset = -3600.0
    emulator.faults.add("POST", SUBSCRIPTIONS, 502, commit=True)
    url = f"https://hooks.example.com/{uuid.uuid4()}"
    result = up(emulator_host, hook(inputs_of, url))
    assert hooks_at(emulator, url) == [result.id]


def test_a_lagging_list_and_commit_then_502_leave_one_object_each(emulator, emulator_host, inputs_of):
    emulator.hostile.list_lag = 3.0
    emulator.faults.add("POST", CONNECTORS, 502, commit=True)
    emulator.faults.add("POST", SUBSCRIPTIONS, 502, commit=True)
    name, url = f"lag-{uuid.uuid4()}", f"https://hooks.example.com/{uuid.uuid4()}"
    made = up(emulator_host, connector(inputs_of, name))
    hooked = up(emulator_host, hook(inputs_of, url))
    assert connectors_named(emulator, name) == [made.id] and hooks_at(emulator, url) == [hooked.id]


def test_a_phone_number_channel_behind_a_lagging_list_is_adopted_not_blamed(emulator, emulator_host, inputs_of):
    """The retried POST gets a 409 (the number carries our first attempt): the look-up waits for the list."""
    emulator.hostile.list_lag = 3.0
    emulator.hostile.clock_offset = -300.0
    emulator.faults.add("POST", CONNECTORS, 502, commit=True)
    number = str(uuid.uuid4())
    result = up(emulator_host, sms(inputs_of, number))
    held = [c["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id)
            if (c.get("arguments") or {}).get("phoneNumberId") == number]
    assert held == [result.id]


def test_a_409_after_an_ambiguous_post_that_never_got_listed_says_the_holder_may_be_ours(
        emulator, emulator_host, inputs_of):
    emulator.hostile.list_lag = 60.0  # longer than the settle time: the look-up cannot see the first attempt
    emulator.faults.add("POST", CONNECTORS, 502, commit=True)
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, sms(inputs_of, str(uuid.uuid4())))
    last_line = str(caught.value).strip().splitlines()[-1]
    assert "may be this create's own" in last_line and "adopt_id" in last_line


# --- 2xx bodies that are not what was posted ------------------------------------------------------------------------


def test_a_201_naming_another_object_is_not_taken_and_that_object_survives_destroy(emulator, emulator_host, inputs_of):
    other = emulator.backend.create_connector(
        emulator.workspace_id, {"name": f"other-{uuid.uuid4()}", "connectorTemplateRef": "telegram:1"})
    emulator.hostile.patch_answer("POST", CONNECTORS, other)
    name = f"mine-{uuid.uuid4()}"
    reg = connector(inputs_of, name)
    result = up(emulator_host, reg)
    assert result.id != other["id"] and connectors_named(emulator, name) == [result.id]
    emulator_host.delete(reg.urn, result.id, result.outs)
    assert emulator.backend.get_connector(emulator.workspace_id, other["id"])["id"] == other["id"]
    assert connectors_named(emulator, name) == []


def _twins(emulator: Any, inputs_of: Any, kind: str) -> tuple[Any, str, Any, Any]:
    """(a registration with allow_identical, the POST path, what Bird lists of its look-alikes, an object identical
    to it that exists already). Hooks carry a filter of their own (Bird caps subscriptions sharing one)."""
    if kind == "connector":
        name = f"twin-{uuid.uuid4()}"
        other = emulator.backend.create_connector(
            emulator.workspace_id, {"name": name, "connectorTemplateRef": "whatsapp:1", "arguments": {"wabaId": "w-1"}})
        return connector(inputs_of, name, allow_identical=True), CONNECTORS, lambda: connectors_named(emulator, name), other
    url, filters = f"https://hooks.example.com/{uuid.uuid4()}", [{"key": "channelId", "value": str(uuid.uuid4())}]
    body = {"service": "channels", "event": "channel.updated", "url": url, "eventFilters": filters}
    other = emulator.backend.create_webhook(emulator.organization_id, emulator.workspace_id, body)
    reg = inputs_of(lambda: WebhookSubscription("hook", service="channels", event="channel.updated", url=url,
                                                event_filters=filters, allow_identical=True))
    return reg, SUBSCRIPTIONS, lambda: hooks_at(emulator, url), other


@pytest.mark.parametrize("kind", ["connector", "hook"])
def test_a_201_naming_an_identical_object_that_was_there_before_is_not_taken(emulator, bird_config, inputs_of, kind):
    """With allow_identical the object already there looks exactly like the one posted: a 201 naming it is still not
    this create's, and destroying ours leaves it alone. It is known to be older by the listing this host process
    reads before its first create (never by its createdAt: Bird's createdAt and Date need not share a clock)."""
    with ProviderHost(config=bird_config) as host:
        reg, path, alike, other = _twins(emulator, inputs_of, kind)
        emulator.hostile.patch_answer("POST", path, other)
        result = up(host, reg)
        assert result.id != other["id"] and sorted(alike()) == sorted([other["id"], result.id])
        host.delete(reg.urn, result.id, result.outs)
        assert alike() == [other["id"]]


def test_a_201_naming_an_older_subscription_without_showing_filters_is_not_taken(emulator, bird_config, inputs_of):
    """Bird's answer leaves the filters out, so it cannot be told apart by them; the host's listing taken before
    its first create shows it was there before the POST (its createdAt is not consulted, however old)."""
    url, mine = f"https://hooks.example.com/{uuid.uuid4()}", [{"key": "channelId", "value": str(uuid.uuid4())}]
    emulator.hostile.created_at_offset = -3600.0
    other = emulator.backend.create_webhook(
        emulator.organization_id, emulator.workspace_id, {"service": "channels", "event": "channel.updated", "url": url})
    emulator.hostile.created_at_offset = 0.0
    emulator.hostile.patch_answer("POST", SUBSCRIPTIONS, other, drop=("eventFilters",))
    reg = inputs_of(lambda: WebhookSubscription("hook", service="channels", event="channel.updated", url=url,
                                                event_filters=mine))
    with ProviderHost(config=bird_config) as host:
        result = up(host, reg)
        assert result.id != other["id"] and sorted(hooks_at(emulator, url)) == sorted([other["id"], result.id])
        host.delete(reg.urn, result.id, result.outs)
    assert hooks_at(emulator, url) == [other["id"]]


@pytest.mark.parametrize("bad_id", ["", "not-a-uuid", "12345"])
def test_a_201_with_an_unusable_id_is_not_stored(emulator, emulator_host, inputs_of, bad_id):
    emulator.hostile.patch_answer("POST", CONNECTORS, {"id": bad_id})
    name = f"badid-{uuid.uuid4()}"
    result = up(emulator_host, connector(inputs_of, name))
    assert result.id != bad_id and connectors_named(emulator, name) == [result.id]


def test_a_201_without_created_at_is_not_fatal(emulator, emulator_host, inputs_of):
    emulator.hostile.patch_answer("POST", CONNECTORS, {}, drop=("createdAt",))
    name = f"nodate-{uuid.uuid4()}"
    result = up(emulator_host, connector(inputs_of, name))
    assert connectors_named(emulator, name) == [result.id]


def test_an_object_listed_twice_is_kept_not_deleted_as_its_own_duplicate(emulator, emulator_host, inputs_of):
    emulator.hostile.repeat_list_items = True
    emulator.faults.add("POST", SUBSCRIPTIONS, 502, commit=True, times=1)
    url = f"https://hooks.example.com/{uuid.uuid4()}"
    result = up(emulator_host, hook(inputs_of, url))
    assert hooks_at(emulator, url) == [result.id]


# --- readiness --------------------------------------------------------------------------------------------------


def test_active_without_a_channel_id_is_not_a_success(emulator, emulator_host, inputs_of):
    emulator.hostile.patch_answer(
        "GET", r"/status$", {"channel": {"status": "ok", "stage": "active", "channelId": None}}, times=None)
    number = str(uuid.uuid4())
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, sms(inputs_of, number, ready_timeout=2))
    assert "no channel id" in str(caught.value)
    assert not [c for c in emulator.backend.list_all_connectors(emulator.workspace_id)
                if (c.get("arguments") or {}).get("phoneNumberId") == number]  # rolled back


def test_an_error_message_echoing_the_key_whole_or_cut_does_not_leak(emulator, emulator_host, inputs_of):
    key = emulator.access_key
    number = str(uuid.uuid4())
    emulator.faults.fail_channel(number, f"key {key} refused; prefix {key[:12]}")
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, sms(inputs_of, number))
    assert "refused" in str(caught.value) and key not in str(caught.value) and key[:12] not in str(caught.value)
    assert key[:12] not in emulator_host.stderr_text()


def test_a_huge_retry_after_does_not_hold_a_create_for_the_hour(emulator, emulator_host, inputs_of):
    """How long it costs is a figure of `make bench` (bench_deadlines); here, what happened: the hour-long
    Retry-After was served, and the create still ended, as a channel or as a clean timeout at its ready_timeout
    (waiting the hour would end the test at pytest's timeout instead)."""
    rule = emulator.faults.add("GET", r"/status$", 429, retry_after=3600)
    number = str(uuid.uuid4())
    try:
        up(emulator_host, sms(inputs_of, number, ready_timeout=5))
    except ProviderError as failure:  # the workspace was told to wait: a clean timeout, nothing left behind
        assert "not active after 5s" in str(failure) and "was deleted" in str(failure)
    assert rule.fired == 1
    limited = [i for i, r in enumerate(emulator.requests) if r.status == 429]
    # after the 429, the create went on talking to Bird (a poll or the roll-back's DELETE) rather than wait
    assert len(limited) == 1 and emulator.requests[limited[0] + 1:], emulator.requests


def test_a_trickled_status_answer_is_read_through_the_host(emulator, emulator_host, inputs_of):
    emulator.hostile.trickle("GET", r"/status$", seconds_per_byte=0.001)
    result = up(emulator_host, sms(inputs_of, str(uuid.uuid4())))
    assert result.outs["channel_id"]


@pytest.mark.parametrize("seconds_per_byte", [0.5, 0.05])  # still in the status line; in the headers or body
def test_a_trickled_answer_is_cut_at_the_request_deadline(emulator, seconds_per_byte):
    """Each byte comes well within the per-read timeout; only the whole-request deadline ends it."""
    emulator.hostile.trickle("GET", r"/connectors$", seconds_per_byte=seconds_per_byte)
    client = BirdClient(emulator.access_key, emulator.url, request_deadline=1.5, sleep=lambda s: None)
    with pytest.raises(errors.APIConnectionError) as caught:
        client.request("GET", f"/workspaces/{emulator.workspace_id}/connectors", retry=_once())
    assert caught.value.timed_out  # how soon after the deadline: a figure of `make bench` (bench_deadlines)


def test_a_trickled_body_of_an_answer_that_closes_its_connection_is_cut_at_the_request_deadline(emulator):
    """With `Connection: close`, http.client lets go of the connection's socket once the headers are in; the deadline
    must still cut the body (read from that socket), not wait for its last byte. A byte every 0.05 s: the body's
    last byte cannot have been sent when the 1.5 s deadline ends the request."""
    last_byte_sent = threading.Event()

    def headers_then_a_byte_at_a_time(data: bytes) -> Iterator[bytes]:
        head, _, body = data.partition(b"\r\n\r\n")
        assert len(body) > 100, body  # over 5 s of bytes
        yield head + b"\r\n\r\n"
        for index in range(len(body)):
            time.sleep(0.05)
            if index == len(body) - 1:
                last_byte_sent.set()  # before the byte goes out: a client that has read it finds the event set
            yield body[index:index + 1]

    def closing(request: ApiRequest, response: ApiResponse) -> ApiResponse:
        if not request.path.endswith("/connectors"):
            return response
        headers = {**response.headers, "Connection": "close"}
        return dataclasses.replace(response, headers=headers, pieces=headers_then_a_byte_at_a_time)

    emulator.backend.create_connector(emulator.workspace_id, {"name": "listed", "connectorTemplateRef": "telegram:1"})
    emulator.answer_hooks.append(closing)
    try:
        client = BirdClient(emulator.access_key, emulator.url, request_deadline=1.5, sleep=lambda s: None)
        with pytest.raises(errors.APIConnectionError) as caught:
            client.request("GET", f"/workspaces/{emulator.workspace_id}/connectors", retry=_once())
        assert caught.value.timed_out and not last_byte_sent.is_set()
    finally:
        emulator.answer_hooks.remove(closing)


def _once() -> Any:
    from pulumi_bird.api.retry import NO_RETRY

    return NO_RETRY


# --- destroy and update -------------------------------------------------------------------------------------------


def test_a_delete_answered_410_counts_as_deleted(emulator, emulator_host, inputs_of):
    url = f"https://hooks.example.com/{uuid.uuid4()}"
    reg = hook(inputs_of, url)
    result = up(emulator_host, reg)
    emulator.faults.add("DELETE", r"/webhook-subscriptions/", 410)
    emulator_host.delete(reg.urn, result.id, result.outs)  # no error
    emulator.faults.clear()
    emulator_host.delete(reg.urn, result.id, result.outs)
    assert hooks_at(emulator, url) == []


# --- secrets held in state but not sent by the call at hand, echoed back in an error ---------------------------

SIGNING_KEY = "whsec-review-" + "7c1e9a2b4d6f8e0a5b3d"
TOKEN = "invite-review-" + "3b5d7f9a1c2e4a6b"


def echo(secret: str) -> dict:
    return {"code": "InvalidRequest", "message": f"rejected: {secret} (prefix {secret[:12]})"}


def assert_hidden(host: Any, text: str, secret: str) -> None:
    assert "rejected" in text, text
    assert secret not in text and secret[:12] not in text, text
    assert secret[:12] not in host.stderr_text()


def test_a_delete_error_echoing_the_stored_signing_key_does_not_leak(emulator, emulator_host, inputs_of):
    url = f"https://hooks.example.com/{uuid.uuid4()}"
    reg = inputs_of(lambda: WebhookSubscription("hook", service="channels", event="channel.updated", url=url,
                                                signing_key=SIGNING_KEY))
    result = up(emulator_host, reg)
    emulator.faults.add("DELETE", r"/webhook-subscriptions/", 400, body=echo(SIGNING_KEY))
    with pytest.raises(ProviderError) as caught:
        emulator_host.delete(reg.urn, result.id, result.outs)
    assert_hidden(emulator_host, str(caught.value), SIGNING_KEY)
    emulator_host.delete(reg.urn, result.id, result.outs)


def test_an_error_echoing_the_key_encoded_with_terminal_escapes_reaches_the_user_as_plain_text(
        emulator, emulator_host, inputs_of):
    import base64

    url = f"https://hooks.example.com/{uuid.uuid4()}"
    reg = inputs_of(lambda: WebhookSubscription("hook", service="channels", event="channel.updated", url=url,
                                                signing_key=SIGNING_KEY))
    result = up(emulator_host, reg)
    encoded = base64.b64encode(SIGNING_KEY.encode()).decode()
    message = (f"rejected \x1b]8;;https://evil.example\x07click\x1b]8;;\x07 key {encoded} hex "
               f"{SIGNING_KEY.encode().hex().upper()} as {SIGNING_KEY.upper()}\r\nINFO: all good")
    emulator.faults.add("DELETE", r"/webhook-subscriptions/", 400, body={"code": "InvalidRequest", "message": message})
    with pytest.raises(ProviderError) as caught:
        emulator_host.delete(reg.urn, result.id, result.outs)
    text = str(caught.value)
    assert "rejected \\x1b]8;;https://evil.example\\x07click" in text and "\\r\\nINFO: all good" in text, text
    assert "\x1b" not in text and "\r\nINFO" not in text
    for spelling in (encoded, SIGNING_KEY.encode().hex().upper(), SIGNING_KEY.upper()):
        assert spelling[:12] not in text and spelling[-12:] not in text
    assert encoded[:12] not in emulator_host.stderr_text()
    emulator.faults.clear()
    emulator_host.delete(reg.urn, result.id, result.outs)


def test_an_update_error_echoing_the_unchanged_signing_key_does_not_leak(emulator, emulator_host, inputs_of):
    url = f"https://hooks.example.com/{uuid.uuid4()}"
    reg = inputs_of(lambda: WebhookSubscription("hook", service="channels", event="channel.updated", url=url,
                                                signing_key=SIGNING_KEY))
    result = up(emulator_host, reg)
    moved = inputs_of(lambda: WebhookSubscription("hook", service="channels", event="channel.updated",
                                                  url=url + "/moved", signing_key=SIGNING_KEY))
    checked = emulator_host.check(moved.urn, moved.inputs, olds=result.outs)
    emulator.faults.add("PATCH", r"/webhook-subscriptions/", 400, body=echo(SIGNING_KEY))
    with pytest.raises(ProviderError) as caught:
        emulator_host.update(reg.urn, result.id, result.outs, checked.inputs)
    assert_hidden(emulator_host, str(caught.value), SIGNING_KEY)
    emulator_host.delete(reg.urn, result.id, result.outs)


def test_a_refresh_error_echoing_the_stored_invitation_token_does_not_leak(emulator, emulator_host, inputs_of):
    name = f"tok-{uuid.uuid4()}"
    reg = inputs_of(lambda: Connector(name, connector_template_ref="whatsapp:1", arguments={"wabaId": "w-1"},
                                      invitation_token=TOKEN))
    result = up(emulator_host, reg)
    emulator.faults.add("GET", r"/connectors/", 400, body=echo(TOKEN), times=None)
    with pytest.raises(ProviderError) as caught:
        emulator_host.read(reg.urn, result.id, result.outs, result.outs)
    emulator.faults.clear()
    assert_hidden(emulator_host, str(caught.value), TOKEN)
    emulator_host.delete(reg.urn, result.id, result.outs)
