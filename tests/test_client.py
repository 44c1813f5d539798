"""The HTTP client against ``responses``: auth, error tree, retries, paging, bodies."""

from __future__ import annotations

import json
import pickle

import pydantic
import pytest
import requests
import responses

from helpers import API, CID, CONNECTORS, KEY, ORG, WS
from pulumi_bird.api import errors
from pulumi_bird.api.client import DEFAULT_TIMEOUT, BirdClient
from pulumi_bird.api.models import (
    CreateConnectorRequest,
    CreateWebhookSubscriptionRequest,
    EventFilter,
    UpdateWebhookSubscriptionRequest,
)
from pulumi_bird.api.retry import RetryPolicy, backoff_delay, is_retryable, parse_retry_after


def connector(cid: str = CID, **extra) -> dict:
    return {"id": cid, "name": "sms", "createdAt": "2026-01-02T03:04:05Z", "connectorTemplateRef": "sms-messagebird:1", **extra}


def error(code: str = "SOMETHING_WRONG", message: str = "something went wrong") -> dict:
    return {"code": code, "message": message}


@responses.activate
def test_sends_access_key_and_json_headers(client):
    responses.get(f"{CONNECTORS}/{CID}", json=connector())
    got = client.get_connector(WS, CID)
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == f"AccessKey {KEY}"
    assert sent.headers["Accept"] == "application/json"
    assert got.id == CID and got.connector_template_ref == "sms-messagebird:1"


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, errors.InvalidRequestError),
        (401, errors.AuthenticationError),
        (403, errors.AuthenticationError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (422, errors.InvalidRequestError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (503, errors.ServerError),
    ],
)
@responses.activate
def test_status_picks_the_exception_and_it_carries_birds_words(client, status, cls):
    responses.post(CONNECTORS, status=status, json=error("BIRD_CODE_X", "the reason bird gave"))
    with pytest.raises(cls) as caught:
        client.create_connector(WS, CreateConnectorRequest(name="x"))
    err = caught.value
    assert (err.status, err.code, err.bird_message, err.method, err.url) == (
        status, "BIRD_CODE_X", "the reason bird gave", "POST", CONNECTORS)
    text = str(err)
    assert "BIRD_CODE_X" in text and "the reason bird gave" in text and CONNECTORS in text
    assert KEY not in text and KEY not in repr(err.__dict__)


@responses.activate
def test_rate_limit_retried_honouring_retry_after(client, clock):
    for _ in range(3):
        responses.get(f"{CONNECTORS}/{CID}", status=429, json=error("RATE_LIMITED"), headers={"Retry-After": "2"})
    responses.get(f"{CONNECTORS}/{CID}", json=connector())
    assert client.get_connector(WS, CID).id == CID
    assert clock.sleeps == [2.0, 2.0, 2.0]


@responses.activate
def test_rate_limited_post_is_retried_because_bird_did_not_process_it(client, clock):
    responses.post(CONNECTORS, status=429, json=error("RATE_LIMITED"))
    responses.post(CONNECTORS, status=201, json=connector())
    assert client.create_connector(WS, CreateConnectorRequest(name="sms")).id == CID
    assert len(clock.sleeps) == 1 and 0.1 <= clock.sleeps[0] <= 0.2


@responses.activate
def test_server_errors_retried_on_get_with_growing_backoff(client, clock):
    for _ in range(2):
        responses.get(f"{CONNECTORS}/{CID}", status=503, json=error("UNAVAILABLE"))
    responses.get(f"{CONNECTORS}/{CID}", json=connector())
    assert client.get_connector(WS, CID).id == CID
    assert len(clock.sleeps) == 2 and clock.sleeps[1] > clock.sleeps[0] / 2


@responses.activate
def test_server_error_on_post_is_not_retried(client, clock):
    responses.post(CONNECTORS, status=502, json=error("BAD_GATEWAY"))
    with pytest.raises(errors.ServerError):
        client.create_connector(WS, CreateConnectorRequest(name="sms"))
    assert len(responses.calls) == 1 and clock.sleeps == []


@responses.activate
def test_connector_argument_values_are_redacted_from_what_bird_echoes(client):
    responses.post(CONNECTORS, status=422, json={"code": "InvalidRequest", "message": "bad key zq81-plum-4471"})
    with pytest.raises(errors.BirdError) as caught:
        client.create_connector(WS, CreateConnectorRequest(name="sms", arguments={"apiKey": "zq81-plum-4471"}))
    assert "zq81-plum-4471" not in f"{caught.value} {caught.value!r} {caught.value.__dict__!r}"


@responses.activate
def test_retries_are_bounded_in_attempts(client, clock):
    responses.get(f"{CONNECTORS}/{CID}", status=500, json=error("BROKEN"))
    with pytest.raises(errors.ServerError) as caught:
        client.get_connector(WS, CID)
    assert len(responses.calls) == RetryPolicy().max_attempts
    assert caught.value.code == "BROKEN"


@responses.activate
def test_retries_are_bounded_in_time(clock):
    client = BirdClient(KEY, API, sleep=clock.sleep, clock=clock, retry=RetryPolicy(max_attempts=50, total_seconds=10))
    responses.get(f"{CONNECTORS}/{CID}", status=429, json=error("RATE_LIMITED"), headers={"Retry-After": "3"})
    with pytest.raises(errors.RateLimitError):
        client.get_connector(WS, CID)
    assert clock.now <= 10 and len(clock.sleeps) == 3


@responses.activate
def test_retry_after_beyond_the_limit_is_not_waited_for(client, clock):
    responses.get(f"{CONNECTORS}/{CID}", status=429, json=error("RATE_LIMITED"), headers={"Retry-After": "3600"})
    with pytest.raises(errors.RateLimitError) as caught:
        client.get_connector(WS, CID)
    assert clock.sleeps == [] and caught.value.retry_after == 3600


@responses.activate
def test_not_found_is_not_retried_and_find_turns_it_into_none(client, clock):
    responses.get(f"{CONNECTORS}/{CID}", status=404, json=error("NOT_FOUND"))
    responses.get(CONNECTORS, json={"results": []})  # the collection answers: the 404 means "no such connector"
    assert client.find_connector(WS, CID) is None
    assert [call.request.method for call in responses.calls] == ["GET", "GET"]
    assert client.find_connector(WS, CID) is None  # the route is confirmed once per client
    assert len(responses.calls) == 3


@responses.activate
def test_answers_naming_another_object_are_refused_naming_both(client):
    other = "99999999-8888-4777-8666-555555555555"
    responses.get(f"{CONNECTORS}/{CID}", json=connector(other))
    with pytest.raises(errors.ForeignObjectError, match=f"connector {CID} was answered with connector '{other}'"):
        client.get_connector(WS, CID)
    responses.delete(f"{CONNECTORS}/{CID}", json={"id": other})
    with pytest.raises(errors.ForeignObjectError, match="not counted as deleted"):
        client.delete_connector(WS, CID)
    responses.get(f"{CONNECTORS}/{other}", json=connector(other, workspaceId="another-workspace"))
    with pytest.raises(errors.ForeignObjectError, match="of workspace 'another-workspace'"):
        client.get_connector(WS, other)


@responses.activate
def test_a_404_from_a_route_bird_does_not_serve_is_not_taken_as_gone(client, clock):
    responses.get(f"{CONNECTORS}/{CID}", status=404, json=error("NOT_FOUND"))
    responses.get(CONNECTORS, status=404, json=error("NOT_FOUND"))
    with pytest.raises(errors.ConfigError, match="bird:apiUrl"):
        client.find_connector(WS, CID)
    responses.delete(f"{CONNECTORS}/{CID}", status=404, json=error("NOT_FOUND"))
    with pytest.raises(errors.ConfigError, match="Nothing was taken as deleted"):
        client.delete_connector(WS, CID)


def test_unreachable_api_names_url_attempts_and_time(clock):
    client = BirdClient(KEY, "http://127.0.0.1:9", sleep=clock.sleep, clock=clock)
    with pytest.raises(errors.APIConnectionError) as caught:
        client.get_connector(WS, CID)
    text = str(caught.value)
    assert "http://127.0.0.1:9" in text and f"{RetryPolicy().max_attempts} attempt(s)" in text
    assert KEY not in text


@responses.activate
def test_list_follows_page_tokens_to_the_last_page(client):
    responses.get(CONNECTORS, json={"results": [connector("c1"), connector("c2")], "nextPageToken": "t2"},
                  match=[responses.matchers.query_param_matcher({"limit": "100", "templateRef": "sms-messagebird:1"})])
    responses.get(CONNECTORS, json={"results": [connector("c3")]},
                  match=[responses.matchers.query_param_matcher({"limit": "100", "templateRef": "sms-messagebird:1", "pageToken": "t2"})])
    assert [c.id for c in client.list_connectors(WS, "sms-messagebird:1")] == ["c1", "c2", "c3"]


@responses.activate
def test_delete_of_missing_connector_raises_not_found(client):
    responses.delete(f"{CONNECTORS}/{CID}", status=404, json=error("NOT_FOUND"))
    responses.get(CONNECTORS, json={"results": []})
    with pytest.raises(errors.NotFoundError):
        client.delete_connector(WS, CID)


@responses.activate
def test_ids_cannot_escape_their_path_segment(client):
    responses.get(f"{CONNECTORS}/..%2Fx", json=connector("../x"))
    client.get_connector(WS, "../x")
    assert responses.calls[0].request.url.endswith("/connectors/..%2Fx")


@pytest.mark.parametrize("dots", ["..", "."])
def test_an_id_of_dots_alone_is_not_a_dot_segment(emulator, dots):
    """requests resolves dot segments: DELETE .../connectors/.. would go to the workspace itself (over HTTP to the
    emulator, which records the path it was sent)."""
    with BirdClient(emulator.access_key, emulator.url) as bird:
        with pytest.raises(errors.NotFoundError):
            bird.delete_connector(emulator.workspace_id, dots)
    path = [r.path for r in emulator.requests if r.method == "DELETE"][-1]
    assert path.rsplit("/", 1)[0].endswith("/connectors") and path.rsplit("/", 1)[1] in (dots, dots.replace(".", "%2E"))


@responses.activate
def test_webhook_create_body_is_camel_case_and_carries_the_signing_key(client):
    url = f"{API}/organizations/{ORG}/workspaces/{WS}/webhook-subscriptions"
    responses.post(url, status=201, json={"id": CID, "service": "channels", "event": "channel.updated",
                                          "url": "https://example.com/h", "status": "active"})
    request = CreateWebhookSubscriptionRequest(service="channels", event="channel.updated", url="https://example.com/h",
                                               event_filters=[EventFilter(key="channelId", value=CID)], signing_key="whsec-1")
    assert "whsec-1" not in repr(request)
    client.create_webhook_subscription(ORG, WS, request)
    assert json.loads(responses.calls[0].request.body) == {
        "service": "channels", "event": "channel.updated", "url": "https://example.com/h",
        "eventFilters": [{"key": "channelId", "value": CID}], "signingKey": "whsec-1"}


def test_connector_request_forbids_unknown_fields_and_hides_secrets():
    with pytest.raises(pydantic.ValidationError, match=r"surprise\n  Extra inputs are not permitted"):
        CreateConnectorRequest(name="x", surprise=1)
    req = CreateConnectorRequest(name="x", security_arguments={"oauth": {"token": "tok-123"}}, invitation_token="inv-9")
    assert "tok-123" not in repr(req) and "inv-9" not in repr(req)
    assert req.to_body() == {"name": "x", "securityArguments": {"oauth": {"token": "tok-123"}}, "invitationToken": "inv-9"}


def test_client_refuses_pickling_and_hides_key():
    client = BirdClient(KEY, API)
    assert KEY not in repr(client)
    with pytest.raises(TypeError):
        pickle.dumps(client)


def test_missing_key_is_a_clear_error():
    with pytest.raises(errors.AuthenticationError, match="BIRD_ACCESS_KEY"):
        BirdClient("", API)


def test_retry_decisions_and_backoff_are_pure():
    policy = RetryPolicy(base_delay=1, max_delay=4)
    assert [backoff_delay(n, policy, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [1, 2, 4, 4]
    assert backoff_delay(3, policy, rand=lambda: 0.0) == 2
    assert is_retryable("POST", 429) and not is_retryable("POST", 503) and not is_retryable("POST", None)
    assert is_retryable("GET", 503) and is_retryable("DELETE", None) and not is_retryable("GET", 404)
    assert parse_retry_after("1.5") == 1.5 and parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@responses.activate
def test_timeouts_are_sent_with_every_request(clock):
    # Without a timeout, requests waits for ever on a silent server: every method must pass one.
    client = BirdClient(KEY, API, timeout=(1.5, 7.0), sleep=clock.sleep, clock=clock)
    hooks = f"{API}/organizations/{ORG}/workspaces/{WS}/webhook-subscriptions"
    hook = {"id": CID, "service": "channels", "event": "channel.updated", "url": "https://example.com/h", "status": "active"}
    responses.post(CONNECTORS, status=201, json=connector())
    responses.get(f"{CONNECTORS}/{CID}", json=connector())
    responses.get(f"{CONNECTORS}/{CID}/status", json={"status": "ok", "stage": "active"})
    responses.get(CONNECTORS, json={"results": [connector()]})
    responses.delete(f"{CONNECTORS}/{CID}", status=204)
    responses.post(hooks, status=201, json=hook)
    responses.patch(f"{hooks}/{CID}", json=hook)
    client.create_connector(WS, CreateConnectorRequest(name="sms"))
    client.get_connector(WS, CID)
    client.get_connector_status(WS, CID)
    list(client.list_connectors(WS))
    client.delete_connector(WS, CID)
    client.create_webhook_subscription(ORG, WS, CreateWebhookSubscriptionRequest(
        service="channels", event="channel.updated", url="https://example.com/h"))
    client.update_webhook_subscription(ORG, WS, CID, UpdateWebhookSubscriptionRequest(url="https://example.com/h"))
    sent = [(c.request.method, c.request.req_kwargs.get("timeout")) for c in responses.calls]
    assert sent == [(m, (1.5, 7.0)) for m in ("POST", "GET", "GET", "GET", "DELETE", "POST", "PATCH")]
    # The default: a bounded connect and read timeout.
    assert BirdClient(KEY, API).timeout == DEFAULT_TIMEOUT and all(0 < t <= 60 for t in DEFAULT_TIMEOUT)


@responses.activate
def test_a_timed_out_request_is_reported_as_such(client):
    responses.get(f"{CONNECTORS}/{CID}", body=requests.ConnectTimeout("slow"))
    with pytest.raises(errors.APIConnectionError, match=r"timed out after 5 attempt\(s\)") as caught:
        client.get_connector(WS, CID)
    assert caught.value.timed_out
