"""Every wait has a deadline, and no secret survives in what Bird says back, with an injected clock over
``responses`` (no real waiting): the pacer's hold after a huge Retry-After is capped and released at the caller's
deadline; readiness ends within ready_timeout plus one request deadline, fails at once on every terminal state
with Bird's words redacted, says how long a channel sat inactive, and takes a last look before giving up a
channel for one failed poll; listings are deduplicated and end on a looping token; redaction catches cut keys."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
import responses

from pulumi_bird.api import errors
from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.connectors import wait_connector_ready
from pulumi_bird.api.pacing import MAX_HOLD, GetBudget, GetPacer
from pulumi_bird.api.retry import NO_RETRY

API = "https://api.bird.test"
KEY = "sk-live-deadline-key-0123456789"
WS = "11111111-2222-4333-8444-555555555555"
CID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
STATUS = f"{API}/workspaces/{WS}/connectors/{CID}/status"
CONNECTORS = f"{API}/workspaces/{WS}/connectors"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def channel(status: str, stage: str, **extra: Any) -> str:
    return json.dumps({"channel": {"status": status, "stage": stage, **extra}})


def waiter(clock: Clock, timeout: float, **kwargs: Any) -> Any:
    client = BirdClient(KEY, API, sleep=clock.sleep, clock=clock, **kwargs)
    return lambda: wait_connector_ready(client, WS, CID, timeout, sleep=clock.sleep, clock=clock)


# --- the pacer ----------------------------------------------------------------------------------------------------


def test_a_huge_retry_after_holds_the_workspace_at_most_max_hold():
    clock = Clock()
    pacer = GetPacer(50, clock=clock, sleep=clock.sleep)
    pacer.slow_down(3600.0)
    assert pacer.next_free(0.0) <= MAX_HOLD
    pacer.slow_down(float("inf"))
    assert pacer.next_free(0.0) <= MAX_HOLD


def test_a_held_pacer_releases_a_caller_at_its_deadline():
    clock = Clock()
    pacer = GetPacer(50, clock=clock, sleep=clock.sleep)
    pacer.slow_down(MAX_HOLD)
    assert pacer.acquire(timeout=2.0) is None and clock.now == pytest.approx(2.0)
    assert pacer.acquire(timeout=MAX_HOLD) is not None  # the hold ends within it


@responses.activate
def test_a_429_with_a_huge_retry_after_caps_the_pacer_as_the_client_caps_itself():
    clock = Clock()
    budget = GetBudget(50, clock=clock, sleep=clock.sleep)
    client = BirdClient(KEY, API, sleep=clock.sleep, clock=clock, get_budget=budget)
    responses.get(STATUS, status=429, headers={"Retry-After": "3600"}, json={"code": "RATE", "message": "slow down"})
    with pytest.raises(errors.RateLimitError):
        client.get_connector_status(WS, CID)
    assert clock.now == 0.0  # the client does not wait an hour
    assert budget.for_workspace(WS).next_free(0.0) <= MAX_HOLD


# --- readiness ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status,stage", [("error", "provisioning"), ("error", "active"), ("error", "inactive"),
                                          ("pending", "deprovisioning"), ("ok", "deprovisioned")])
@responses.activate
def test_every_terminal_state_fails_at_once_with_birds_words_redacted(status, stage):
    clock = Clock()
    responses.get(STATUS, body=channel(status, stage, errorMessage=f"refused key {KEY} (was {KEY[:11]}"))
    with pytest.raises(errors.ReadinessError) as caught:
        waiter(clock, 600)()
    text = str(caught.value)
    assert f"stage {stage}" in text and "refused key" in text and clock.now < 5
    assert KEY not in text and KEY[:11] not in text


@pytest.mark.parametrize("status,stage,says", [("error", f"stage-{KEY}", "failed to provision"),
                                               (f"pending-{KEY}", "provisioning", "was not active after 30s")])
@responses.activate
def test_a_status_or_stage_echoing_the_key_is_quoted_without_it(status, stage, says, caplog):
    clock = Clock()
    responses.get(STATUS, body=channel(status, stage))
    with caplog.at_level("DEBUG", logger="pulumi_bird"), pytest.raises(errors.ReadinessError, match=says) as caught:
        waiter(clock, 30)()
    assert errors.REDACTED in str(caught.value) and KEY[:8] not in str(caught.value) + caplog.text


@responses.activate
def test_a_channel_inactive_until_the_deadline_says_for_how_long():
    clock = Clock()
    responses.get(STATUS, body=channel("pending", "inactive"))
    with pytest.raises(errors.ReadinessError) as caught:
        waiter(clock, 30)()
    assert caught.value.timed_out
    assert re.search(r"stage inactive for the last (29|30)s", str(caught.value))


@responses.activate
def test_active_without_a_channel_id_keeps_polling_then_says_so():
    clock = Clock()
    responses.get(STATUS, body=channel("ok", "active"))
    with pytest.raises(errors.ReadinessError, match="but Bird gave no channel id"):
        waiter(clock, 20)()
    assert 20 <= clock.now < 30


@responses.activate
def test_a_poll_that_failed_at_the_deadline_gets_a_last_look_before_the_channel_is_given_up():
    clock = Clock()
    answers = iter([requests.ConnectionError("stalled")])

    def answer(_request: Any) -> Any:
        failure = next(answers, None)
        if failure is not None:
            clock.now += 25.0  # one read that hung past the deadline
            raise failure
        return 200, {}, channel("ok", "active", channelId="ch-1")

    responses.add_callback(responses.GET, STATUS, callback=answer)
    status = waiter(clock, 10, retry=NO_RETRY)()
    assert status.channel is not None and status.channel.channel_id == "ch-1"


@responses.activate
def test_readiness_never_outlasts_ready_timeout_by_more_than_one_request_deadline():
    clock = Clock()

    def answer(request: Any) -> Any:
        clock.now += min(4.0, request.req_kwargs["timeout"][1])  # every attempt stalls until its read timeout
        raise requests.ConnectionError("stalled")

    responses.add_callback(responses.GET, STATUS, callback=answer)
    client = BirdClient(KEY, API, sleep=clock.sleep, clock=clock, request_deadline=5.0)
    with pytest.raises(errors.ReadinessError):
        wait_connector_ready(client, WS, CID, 15, sleep=clock.sleep, clock=clock)
    # the client would retry one poll for 20 s; the waiter's deadline stops its retries, and the attempt under
    # way at the deadline is the only overrun
    assert clock.now <= 15 + client.request_deadline, clock.now


# --- listings -----------------------------------------------------------------------------------------------------


def connector(n: int) -> dict:
    return {"id": f"00000000-0000-4000-8000-{n:012d}", "name": f"c{n}", "createdAt": "2026-01-01T00:00:00Z"}


@responses.activate
def test_a_listing_yields_each_id_once_and_ends_on_a_looping_token():
    page = {"results": [connector(1), connector(1), connector(2)], "nextPageToken": "again"}
    responses.get(CONNECTORS, json=page)
    client = BirdClient(KEY, API, sleep=lambda s: None)
    assert [c.name for c in client.list_connectors(WS)] == ["c1", "c2"]
    assert len(responses.calls) == 2  # the first page, then the token once: it repeats, so the list ends


@responses.activate
def test_a_listing_ends_when_fresh_tokens_bring_nothing_new():
    for n in range(3):
        responses.get(CONNECTORS, json={"results": [connector(1)], "nextPageToken": f"t{n}"})
    client = BirdClient(KEY, API, sleep=lambda s: None)
    assert [c.name for c in client.list_connectors(WS)] == ["c1"] and len(responses.calls) == 2


# --- redaction ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    f"bad key {KEY}",
    f"...quoted up to here: {KEY[:20]}",   # a quote cut inside the key
    f"{KEY[-9:]} is what was left",           # a quote starting inside it
    f"key parts {KEY[5:17]} and so on",       # a piece from the middle
])
def test_redaction_catches_a_key_whole_or_cut(text):
    redacted = errors.redact(text, [KEY])
    assert KEY[:8] not in redacted and KEY[-8:] not in redacted and KEY[5:13] not in redacted
    assert errors.REDACTED in redacted


def test_redaction_leaves_ordinary_words_alone():
    assert errors.redact("the channel failed: carrier refused", [KEY]) == "the channel failed: carrier refused"


@responses.activate
def test_an_unreadable_body_cut_inside_the_key_is_redacted():
    responses.get(f"{CONNECTORS}/{CID}", body=f"<html>{'x' * 50}{KEY}</html>", content_type="text/html")
    client = BirdClient(KEY, API, sleep=lambda s: None)
    with pytest.raises(errors.UnexpectedResponseError) as caught:
        client.get_connector(WS, CID)
    assert KEY[:8] not in str(caught.value) and "redacted" in str(caught.value)


def _spellings(secret: str) -> dict[str, str]:
    import base64

    raw = secret.encode()
    return {
        "upper case": secret.upper(),
        "swapped case": secret.swapcase(),
        "base64": base64.b64encode(raw).decode(),
        "base64 inside a Basic header": base64.b64encode(b"AccessKey " + raw).decode(),
        "URL-safe base64 at another offset": base64.urlsafe_b64encode(b"k:" + raw).decode().rstrip("="),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
    }


@pytest.mark.parametrize("how", list(_spellings(KEY)))
@responses.activate
def test_a_key_echoed_encoded_or_in_another_case_is_redacted(how):
    import base64

    echoed = _spellings(KEY)[how]
    responses.get(f"{CONNECTORS}/{CID}", status=400, json={"code": "BAD", "message": f"header was {echoed}",
                                                           "details": {"seen": echoed}})
    with pytest.raises(errors.InvalidRequestError) as caught:
        BirdClient(KEY, API, sleep=lambda s: None).get_connector(WS, CID)
    text = str(caught.value) + json.dumps(caught.value.details)
    assert "header was" in text and errors.REDACTED in text
    # no 8 characters in a row of the echo are left (past the first few base64 characters of "AccessKey ")
    skip = 12 if "Basic" in how else 0
    assert [echoed[i:i + 8] for i in range(skip, len(echoed) - 7) if echoed[i:i + 8] in text] == []
    assert base64.b64encode(KEY.encode()).decode()[:12] not in text


@responses.activate
def test_birds_words_reach_the_terminal_as_text_not_as_control_sequences():
    hostile = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\rforged line\nERROR: trust me\u202etxt.exe\x9b"
    responses.get(f"{CONNECTORS}/{CID}", status=400, headers={"X-Request-Id": "req\x1b[1m-7"},
                  json={"code": "BAD\x1b[0m", "message": hostile})
    with pytest.raises(errors.InvalidRequestError) as caught:
        BirdClient(KEY, API, sleep=lambda s: None).get_connector(WS, CID)
    text = str(caught.value)
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202e]", text), repr(text)
    assert "\\x1b]0;owned\\x07" in text and "\\rforged line\\nERROR" in text and "\\u202etxt.exe" in text
    assert "req\\x1b[1m-7" in text and "BAD\\x1b[0m" in text
    assert caught.value.bird_message == hostile  # the data itself is kept as Bird sent it


# --- ids and names Bird lists, quoted in what an exactly-once create says ---------------------------------------


@responses.activate
def test_an_identical_subscription_listed_with_the_key_in_its_id_is_named_without_it():
    """The look-up before a create quotes what Bird lists (the leftover to adopt): whatever Bird puts there, the key
    is not in the message."""
    from uuid import uuid4

    from pulumi_bird.api.create import IdenticalObjectError
    from pulumi_bird.api.models import CreateWebhookSubscriptionRequest
    from pulumi_bird.api.webhooks import create_subscription_resolving

    org, ws = str(uuid4()), str(uuid4())  # the process's one listing is per workspace: this test's own
    hooks = f"{API}/organizations/{org}/workspaces/{ws}/webhook-subscriptions"
    listed = {"id": f"left-{KEY}", "service": "channels", "event": "channel.updated", "url": "https://h.example.com/1"}
    responses.get(hooks, json={"results": [listed]})
    responses.get(f"{hooks}/left-{KEY}", json=listed)
    request = CreateWebhookSubscriptionRequest(service="channels", event="channel.updated", url=listed["url"])
    with pytest.raises(IdenticalObjectError, match="an identical object already exists") as caught:
        create_subscription_resolving(BirdClient(KEY, API, sleep=lambda s: None), org, ws, request)
    assert KEY[:8] not in str(caught.value) and errors.REDACTED in str(caught.value)


@responses.activate
def test_a_409_naming_the_connector_bird_lists_on_the_number_leaves_out_the_key_it_echoes():
    from uuid import uuid4

    from pulumi_bird.api.connectors import create_connector_resolving
    from pulumi_bird.api.models import CreateConnectorRequest

    ws, number = str(uuid4()), str(uuid4())
    connectors = f"{API}/workspaces/{ws}/connectors"
    responses.post(connectors, status=409, json={"code": "Conflict", "message": "number in use"})
    responses.get(connectors, json={"results": [{
        "id": str(uuid4()), "name": f"sent with {KEY}", "connectorTemplateRef": "sms-messagebird:1",
        "arguments": {"phoneNumberId": number}}]})
    request = CreateConnectorRequest(name="sms", connector_template_ref="sms-messagebird:1",
                                     arguments={"phoneNumberId": number})
    with pytest.raises(errors.ConflictError, match="already carries connector") as caught:
        create_connector_resolving(BirdClient(KEY, API, sleep=lambda s: None), ws, request, guard_existing=False)
    assert KEY[:8] not in str(caught.value) and errors.REDACTED in str(caught.value)


@responses.activate
def test_look_alikes_that_appear_after_a_retried_create_are_logged_without_the_key(caplog):
    from uuid import uuid4

    from pulumi_bird.api.models import CreateWebhookSubscriptionRequest
    from pulumi_bird.api.webhooks import create_subscription_resolving

    org, ws, clock = str(uuid4()), str(uuid4()), Clock()
    hooks = f"{API}/organizations/{org}/workspaces/{ws}/webhook-subscriptions"
    body = {"service": "channels", "event": "channel.updated", "url": "https://h.example.com/late"}
    ours, posts = dict(body, id=str(uuid4())), []
    # Two look-alikes appear once the second POST has landed: more than the one ambiguous attempt could make.
    late = [ours, dict(body, id=str(uuid4())), dict(body, id=f"late-{KEY}")]

    def post(_: Any) -> tuple:
        posts.append(1)
        return (502, {}, "") if len(posts) == 1 else (201, {}, json.dumps(ours))

    def listed(_: Any) -> tuple:
        return 200, {}, json.dumps({"results": late if len(posts) > 1 else []})

    responses.add_callback(responses.POST, hooks, post)
    responses.add_callback(responses.GET, hooks, listed)
    client = BirdClient(KEY, API, sleep=clock.sleep, clock=clock)
    with caplog.at_level("WARNING", logger="pulumi_bird"):
        created = create_subscription_resolving(client, org, ws, CreateWebhookSubscriptionRequest(**body))
    assert created.id == ours["id"] and len(posts) == 2
    assert "look-alikes appeared meanwhile" in caplog.text and KEY[:8] not in caplog.text
