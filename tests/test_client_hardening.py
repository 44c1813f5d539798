"""The client against hostile or broken answers (over ``responses``): secrets never reach an error or a log,
unreadable 2xx answers are one clear error, redirects are never followed, keys that cannot be sent are
configuration errors, and 429s use the whole retry budget the README promises."""

from __future__ import annotations

import logging

import pytest
import responses

from helpers import API, CID, CONNECTORS, KEY, ORG, WS
from pulumi_bird.api import errors
from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.models import CreateConnectorRequest, CreateWebhookSubscriptionRequest
from pulumi_bird.api.pacing import GetBudget
from pulumi_bird.api.retry import RetryPolicy
from pulumi_bird.provider import config

WEBHOOKS = f"{API}/organizations/{ORG}/workspaces/{WS}/webhook-subscriptions"


def everything_in(err: errors.BirdError) -> str:
    return f"{err} {err!r} {err.__dict__!r} {err.args!r}"


# --- secrets ------------------------------------------------------------------------------------------------


@responses.activate
def test_a_401_that_echoes_the_key_does_not_carry_it(client, caplog):
    echo = f"invalid Authorization header 'AccessKey {KEY}'"
    responses.get(f"{CONNECTORS}/{CID}", status=401, headers={"X-Request-Id": f"req-{KEY}"},
                  json={"code": f"BAD_KEY_{KEY}", "message": echo, "details": {"header": [f"AccessKey {KEY}"]}})
    caplog.set_level(logging.DEBUG, logger="pulumi_bird")
    with pytest.raises(errors.AuthenticationError, match=r"Bird refused the access key") as caught:
        client.get_connector(WS, CID)
    text = everything_in(caught.value)
    assert KEY not in text and "[redacted]" in str(caught.value)
    assert "invalid Authorization header 'AccessKey [redacted]'" in str(caught.value)
    assert KEY not in caplog.text


@responses.activate
def test_the_key_is_redacted_in_its_url_and_json_spellings(client):
    key = "key/with+odd\"chars"
    odd = BirdClient(key, API)
    responses.get(f"{CONNECTORS}/{CID}", status=403,
                  json={"code": "FORBIDDEN", "message": "key%2Fwith%2Bodd%22chars is not allowed; key/with+odd\"chars"})
    with pytest.raises(errors.AuthenticationError) as caught:
        odd.get_connector(WS, CID)
    assert "key%2Fwith" not in str(caught.value) and "odd\"chars" not in str(caught.value)
    assert str(caught.value).count("[redacted]") == 2


@responses.activate
def test_secrets_of_the_request_body_are_redacted_from_errors(client):
    responses.post(WEBHOOKS, status=422, json={"code": "INVALID", "message": "signingKey whsec-s3cr3t-value is too weak"})
    request = CreateWebhookSubscriptionRequest(service="channels", event="channel.updated", url="https://example.com/h",
                                               signing_key="whsec-s3cr3t-value")
    with pytest.raises(errors.InvalidRequestError, match=r"signingKey \[redacted\] is too weak") as caught:
        client.create_webhook_subscription(ORG, WS, request)
    assert "whsec-s3cr3t-value" not in everything_in(caught.value)

    responses.post(CONNECTORS, status=400, json={"code": "INVALID", "message": "token tok-abcdef12 and invite inv-98765"})
    connector = CreateConnectorRequest(name="x", security_arguments={"oauth": {"token": "tok-abcdef12"}},
                                       invitation_token="inv-98765")
    with pytest.raises(errors.InvalidRequestError) as caught:
        client.create_connector(WS, connector)
    assert "tok-abcdef12" not in str(caught.value) and "inv-98765" not in str(caught.value)


@responses.activate
def test_an_unreadable_answer_quoting_the_key_is_redacted(client):
    responses.get(f"{CONNECTORS}/{CID}", status=200, body=f"<html>hello AccessKey {KEY}</html>",
                  content_type="text/html")
    with pytest.raises(errors.UnexpectedResponseError) as caught:
        client.get_connector(WS, CID)
    assert KEY not in everything_in(caught.value)


# --- unreadable 2xx answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body,content_type,expected", [
    ("<html><body>Gateway says hi</body></html>", "text/html", r"not JSON.*text/html.*<html>"),
    ('{"id": "aaaa", "name": "sm', "application/json", r"not JSON, or is cut short"),
    ('{"kind": "something else", "items": []}', "application/json", r"not a Connector: id is missing; name is missing"),
    ('["a", "list"]', "application/json", r"not a Connector"),
    ("", "application/json", r"no body where a Connector was expected"),
])
@responses.activate
def test_an_unreadable_2xx_is_one_clear_error(client, body, content_type, expected):
    responses.get(f"{CONNECTORS}/{CID}", status=200, body=body, content_type=content_type)
    with pytest.raises(errors.UnexpectedResponseError, match=expected) as caught:
        client.get_connector(WS, CID)
    err = caught.value
    assert (err.method, err.url, err.status) == ("GET", f"{CONNECTORS}/{CID}", 200)
    assert f"[GET {CONNECTORS}/{CID} -> 200]" in str(err)
    assert "validation error" not in str(err) and "pydantic" not in str(err)
    assert err.__context__ is None or err.__suppress_context__  # no validation dump in a traceback


@responses.activate
def test_an_unreadable_answer_to_a_post_is_ambiguous_for_the_create_recovery(client):
    responses.post(CONNECTORS, status=201, body='{"id": "cut', content_type="application/json")
    with pytest.raises(ValueError) as caught:  # api.create treats an unreadable 2xx as ambiguous: Bird may have committed it
        client.create_connector(WS, CreateConnectorRequest(name="sms"))
    assert isinstance(caught.value, errors.UnexpectedResponseError) and caught.value.method == "POST"


@responses.activate
def test_a_bad_item_in_a_list_page_names_its_place(client):
    responses.get(CONNECTORS, json={"results": [{"id": "c1", "name": "a", "createdAt": "2026-01-01T00:00:00Z"}, {"id": 5}]})
    with pytest.raises(errors.UnexpectedResponseError, match=r"item 1 of a page is not a Connector: id: .*name is missing"):
        list(client.list_connectors(WS))


# --- redirects ------------------------------------------------------------------------------------------------


@responses.activate
def test_a_redirect_to_a_post_is_an_error_and_never_followed(client):
    responses.post(CONNECTORS, status=301, headers={"Location": f"{CONNECTORS}/someone-elses"})
    responses.get(f"{CONNECTORS}/someone-elses", json={"id": "someone-elses", "name": "x", "createdAt": "2026-01-01T00:00:00Z"})
    with pytest.raises(errors.RedirectError, match=r"a redirect to .*/someone-elses: the client follows no redirect") as caught:
        client.create_connector(WS, CreateConnectorRequest(name="sms"))
    assert [c.request.method for c in responses.calls] == ["POST"]
    assert caught.value.status == 301


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
@responses.activate
def test_no_method_follows_a_redirect(client, method):
    responses.add(method, f"{CONNECTORS}/{CID}", status=302, headers={"Location": "https://elsewhere.test/"})
    with pytest.raises(errors.RedirectError, match="check bird:apiUrl"):
        client.request(method, f"/workspaces/{WS}/connectors/{CID}")
    assert len(responses.calls) == 1


# --- the key --------------------------------------------------------------------------------------------------


@responses.activate
def test_surrounding_whitespace_is_stripped_from_the_key():
    responses.get(f"{CONNECTORS}/{CID}", json={"id": CID, "name": "x", "createdAt": "2026-01-01T00:00:00Z"})
    BirdClient(f"  {KEY}\n", API).get_connector(WS, CID)
    assert responses.calls[0].request.headers["Authorization"] == f"AccessKey {KEY}"
    assert config.Settings(access_key=f"{KEY}\r\n").require_access_key() == KEY


@pytest.mark.parametrize("bad,problem", [
    ("sk-live\nsecond-line", r"control character \(U\+000A, such as a line break\) at position 8 of 19"),
    ("sk-live\x00zero", r"control character \(U\+0000"),
    ("sk-live-ключ", r"cannot be sent in an HTTP header \(U\+043A\) at position 9"),
])
def test_a_key_that_cannot_be_a_header_is_a_configuration_error(bad, problem):
    with pytest.raises(config.ConfigError, match=problem) as caught:
        BirdClient(bad, API)
    assert bad not in str(caught.value) and "sk-live" not in str(caught.value)


def test_a_blank_key_is_a_missing_key():
    with pytest.raises(errors.AuthenticationError, match="BIRD_ACCESS_KEY"):
        BirdClient(" \n", API)


# --- the retry budget -----------------------------------------------------------------------------------------


@responses.activate
def test_429s_without_retry_after_are_retried_for_the_whole_budget(client, clock):
    responses.get(f"{CONNECTORS}/{CID}", status=429, json={"code": "RATE_LIMITED", "message": "slow down"})
    with pytest.raises(errors.RateLimitError):
        client.get_connector(WS, CID)
    budget = RetryPolicy().total_seconds
    assert budget - RetryPolicy().max_delay <= clock.now <= budget
    assert len(responses.calls) > RetryPolicy().max_attempts
    assert max(clock.sleeps) <= RetryPolicy().max_delay


@responses.activate
def test_429s_honour_retry_after_until_the_budget_is_spent(client, clock):
    responses.get(f"{CONNECTORS}/{CID}", status=429, json={"code": "RATE_LIMITED", "message": "slow down"},
                  headers={"Retry-After": "1"})
    with pytest.raises(errors.RateLimitError):
        client.get_connector(WS, CID)
    assert clock.sleeps == [1.0] * 20 and len(responses.calls) == 21


@responses.activate
def test_429s_then_success_within_the_budget(client, clock):
    for _ in range(8):
        responses.get(f"{CONNECTORS}/{CID}", status=429, json={"code": "RATE_LIMITED", "message": "slow down"})
    responses.get(f"{CONNECTORS}/{CID}", json={"id": CID, "name": "x", "createdAt": "2026-01-01T00:00:00Z"})
    assert client.get_connector(WS, CID).id == CID
    assert len(clock.sleeps) == 8 and clock.now < RetryPolicy().total_seconds


@responses.activate
def test_a_5xx_still_gets_five_attempts(client, clock):
    responses.get(f"{CONNECTORS}/{CID}", status=503, json={"code": "UNAVAILABLE", "message": "try later"})
    with pytest.raises(errors.ServerError):
        client.get_connector(WS, CID)
    assert len(responses.calls) == RetryPolicy().max_attempts


@responses.activate
def test_a_429_holds_every_get_of_the_workspace(clock):
    budget = GetBudget(50, clock=clock, sleep=clock.sleep)
    client = BirdClient(KEY, API, sleep=clock.sleep, clock=clock, get_budget=budget)
    other = "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    responses.get(f"{CONNECTORS}/{CID}", status=429, json={"code": "RATE_LIMITED", "message": "slow down"},
                  headers={"Retry-After": "2"})
    responses.get(f"{CONNECTORS}/{CID}", json={"id": CID, "name": "x", "createdAt": "2026-01-01T00:00:00Z"})
    responses.get(f"{CONNECTORS}/{other}", json={"id": other, "name": "y", "createdAt": "2026-01-01T00:00:00Z"})
    client.get_connector(WS, CID)
    assert clock.now == pytest.approx(2.0)
    pacer = budget.for_workspace(WS)
    assert pacer.rate_limited == 1 and pacer.current_limit(clock.now) == 25  # halved, recovering
    # a request for another connector of the workspace is held too (a fresh clock: the hold is still on)
    clock.now = 0.5
    pacer._answered.clear()
    client.get_connector(WS, other)
    assert clock.now == pytest.approx(2.0)


# --- retrying around the client -------------------------------------------------------------------------------


@responses.activate
def test_retry_delay_gives_callers_the_clients_own_decision(client, clock):
    responses.post(CONNECTORS, status=502, json={"code": "BAD_GATEWAY", "message": "upstream went away"})
    with pytest.raises(errors.ServerError) as caught:
        client.create_connector(WS, CreateConnectorRequest(name="sms"))
    failure, started = caught.value, client.now()
    assert client.retry_delay(failure, 1, started) is None  # a POST that may have landed is never repeated blindly
    delay = client.retry_delay(failure, 1, started, repeatable=True)  # a look-up proved it did not land
    assert delay is not None and 0.1 <= delay <= 0.2
    assert client.retry_delay(failure, RetryPolicy().max_attempts, started, repeatable=True) is None
    clock.now = started + RetryPolicy().total_seconds
    assert client.retry_delay(failure, 1, started, repeatable=True) is None  # the 20 s budget is spent
    client.pause(0.5)
    assert clock.sleeps[-1] == 0.5


def test_retry_delay_for_429s_and_unusable_answers(client):
    limited = errors.RateLimitError("slow down", method="POST", url=CONNECTORS, status=429)
    limited.retry_after = 3.0
    assert client.retry_delay(limited, 6, client.now()) == 3.0  # 429s get the whole budget, not five attempts
    unusable = errors.UnexpectedResponseError("cut short", method="POST", url=CONNECTORS, status=201)
    assert client.retry_delay(unusable, 1, client.now(), repeatable=True) is None
    lost = errors.APIConnectionError("no route", method="POST", url=CONNECTORS)
    assert client.retry_delay(lost, 1, client.now()) is None and client.retry_delay(lost, 1, client.now(), repeatable=True)
