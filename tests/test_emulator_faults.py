"""The emulator in-process: fault injection, failing channels, rate limits, the request log, thread safety
and the ``bird_emulator`` fixture. Responses are still raw HTTP, checked against the contract."""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from typing import Any, Dict, Iterator, List

import pytest
import requests

from helpers import api_session
from openapi_schema import validate_named, validate_operation
from pulumi_bird.emulator import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_ORGANIZATION_ID,
    DEFAULT_WORKSPACE_ID,
    BirdEmulator,
    RecordedRequest,
)
from pulumi_bird.testing.fixtures import start_emulator

LIST = "/workspaces/{workspaceId}/connectors"
STATUS = "/workspaces/{workspaceId}/connectors/{connectorId}/status"
CONNECTORS_PATH = f"/workspaces/{DEFAULT_WORKSPACE_ID}/connectors"
# Bounds for polling a channel out of provisioning.
POLL_DEADLINE_SECONDS = 5.0
POLL_INTERVAL_SECONDS = 0.02
# Enough threads to make an unguarded check-then-insert race visible.
CONCURRENT_CREATES = 20


class Client:
    """Raw HTTP against one in-process emulator."""

    def __init__(self, emulator: BirdEmulator) -> None:
        self.emulator = emulator
        self.session = api_session(emulator.access_key)

    def post(self, body: Dict[str, Any]) -> requests.Response:
        return self.session.post(self.emulator.url + CONNECTORS_PATH, json=body)

    def get(self, path: str = "", **params: Any) -> requests.Response:
        return self.session.get(self.emulator.url + CONNECTORS_PATH + path, params=params)

    def status(self, connector_id: str) -> Dict[str, Any]:
        response = self.get(f"/{connector_id}/status")
        assert response.status_code == 200
        validate_operation(response.json(), "GET", STATUS, 200)
        return response.json()

    def wait_provisioned(self, connector_id: str) -> Dict[str, Any]:
        deadline = time.monotonic() + POLL_DEADLINE_SECONDS
        for _ in range(int(POLL_DEADLINE_SECONDS / POLL_INTERVAL_SECONDS) + 1):
            status = self.status(connector_id)
            if status["channel"]["stage"] != "provisioning" or time.monotonic() > deadline:
                return status
            time.sleep(POLL_INTERVAL_SECONDS)
        return self.status(connector_id)


def sms_body(number: str = "") -> Dict[str, Any]:
    arguments = {"phoneNumberId": number or str(uuid.uuid4()), "channelMessageType": "2fa"}
    return {"name": "otp", "connectorTemplateRef": "sms-messagebird:1", "arguments": arguments}


@pytest.fixture
def client() -> Iterator[Client]:
    with start_emulator(provision_seconds=0.1) as emulator:
        http = Client(emulator)
        with http.session:
            yield http


def assert_error(response: requests.Response, status: int) -> Dict[str, Any]:
    assert response.status_code == status, response.text
    validate_named(response.json(), "Error")
    return response.json()


# --- the fixture and the lifecycle --------------------------------------------------------------------------


def test_bird_emulator_fixture_serves_the_defaults(bird_emulator: BirdEmulator) -> None:
    assert bird_emulator.url.startswith("http://127.0.0.1:") and not bird_emulator.url.endswith("/")
    assert (bird_emulator.access_key, bird_emulator.workspace_id, bird_emulator.organization_id) == (
        DEFAULT_ACCESS_KEY,
        DEFAULT_WORKSPACE_ID,
        DEFAULT_ORGANIZATION_ID,
    )
    with api_session(DEFAULT_ACCESS_KEY) as session:
        response = session.get(bird_emulator.url + CONNECTORS_PATH)
        assert response.status_code == 200 and response.json() == {"results": []}
        # its backend is the one behind the URL: what a test seeds there, the API lists
        seeded = bird_emulator.backend.create_connector(DEFAULT_WORKSPACE_ID, sms_body())
        listed = session.get(bird_emulator.url + CONNECTORS_PATH).json()["results"]
    assert [c["id"] for c in listed] == [seeded["id"]]


def test_stop_closes_the_port_and_may_be_called_twice() -> None:
    emulator = BirdEmulator(provision_seconds=0).start()
    url = emulator.url
    with api_session(DEFAULT_ACCESS_KEY) as session:
        assert session.get(url + CONNECTORS_PATH).status_code == 200  # leaves a keep-alive connection open
        emulator.stop()
        emulator.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(url + CONNECTORS_PATH)


def test_the_key_is_never_echoed_nor_recorded(client: Client) -> None:
    secret = "presented-secret-value"
    with api_session(secret) as stranger:
        response = stranger.get(client.emulator.url + CONNECTORS_PATH)
    assert_error(response, 401)
    assert secret not in response.text and secret not in repr(client.emulator.requests)


# --- provisioning outcomes ----------------------------------------------------------------------------------


def test_a_failing_channel_ends_in_error(client: Client) -> None:
    number = str(uuid.uuid4())
    client.emulator.faults.fail_channel(number, "the carrier refused this number")
    created = client.post(sms_body(number)).json()
    channel = client.wait_provisioned(created["id"])["channel"]
    assert channel == {
        "channelId": None,
        "platformName": "sms",
        "status": "error",
        "stage": "inactive",
        "errorMessage": "the carrier refused this number",
    }
    assert client.get(f"/{created['id']}").json()["channel"] is None


def test_per_number_provisioning_time_and_a_changed_default(client: Client) -> None:
    slow, fast = str(uuid.uuid4()), str(uuid.uuid4())
    client.emulator.faults.set_provision_seconds(slow, 60)
    client.emulator.provision_seconds = 0
    slow_id = client.post(sms_body(slow)).json()["id"]
    fast_id = client.post(sms_body(fast)).json()["id"]
    assert client.status(fast_id)["channel"]["status"] == "ok"
    assert client.status(slow_id)["channel"]["status"] == "pending"


# --- injected faults ----------------------------------------------------------------------------------------


def test_429_with_and_without_retry_after(client: Client) -> None:
    client.emulator.faults.add("POST", r"/connectors$", 429, retry_after=2)
    client.emulator.faults.add("POST", r"/connectors$", 429)
    first, second, third = client.post(sms_body()), client.post(sms_body()), client.post(sms_body())
    assert_error(first, 429)
    assert first.headers["Retry-After"] == "2"
    assert_error(second, 429)
    assert "Retry-After" not in second.headers
    assert third.status_code == 201
    assert len(client.emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID)) == 1


def test_503_for_the_next_n_requests_then_normal(client: Client) -> None:
    rule = client.emulator.faults.add("GET", r"/connectors", 503, times=2, retry_after=0.5)
    statuses = [client.get().status_code for _ in range(3)]
    assert statuses == [503, 503, 200] and rule.remaining == 0
    assert [r.status for r in client.emulator.requests] == [503, 503, 200]


def test_a_committed_fault_leaves_exactly_one_connector(client: Client) -> None:
    number = str(uuid.uuid4())
    client.emulator.faults.add("post", CONNECTORS_PATH, 502, commit=True)
    assert_error(client.post(sms_body(number)), 502)
    assert len(client.emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID)) == 1
    retried = client.post(sms_body(number))  # the blind retry a client might make
    assert_error(retried, 409)
    assert len(client.emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID)) == 1


def test_a_fault_may_carry_its_own_body(client: Client) -> None:
    body = {"code": "InternalError", "message": "something broke upstream"}
    client.emulator.faults.add("*", r"/status$", 500, body=body)
    created = client.post(sms_body()).json()
    response = client.get(f"/{created['id']}/status")
    assert response.status_code == 500 and response.json() == body


def test_latency_delays_every_response(client: Client) -> None:
    client.emulator.faults.latency = 0.2  # a delay the emulator must serve: the bounds below are lower bounds
    started = time.monotonic()
    assert client.get().status_code == 200
    assert time.monotonic() - started >= 0.2
    (recorded,) = client.emulator.requests
    assert recorded.finished - recorded.started >= 0.2


def test_a_fraction_of_requests_fails_repeatably_with_a_seed(client: Client) -> None:
    def run() -> List[int]:
        client.emulator.faults.clear()
        client.emulator.faults.seed(11)
        rule = client.emulator.faults.add("GET", r"/connectors$", 503, times=None, probability=0.5)
        statuses = [client.get().status_code for _ in range(40)]
        assert rule.fired == statuses.count(503)
        return statuses

    first, second = run(), run()
    assert first == second  # the same seed fails the same requests
    assert set(first) == {200, 503} and 8 <= first.count(503) <= 32


def test_fractional_rules_draw_in_order_and_a_commit_fault_still_writes(client: Client) -> None:
    faults = client.emulator.faults
    faults.seed(3)
    too_many = faults.add("POST", r"/connectors$", 429, times=None, probability=0.3, retry_after=1)
    unavailable = faults.add("POST", r"/connectors$", 503, times=None, probability=0.1)
    lost = faults.add("POST", r"/connectors$", 502, times=None, probability=0.5, commit=True)
    statuses = [client.post(sms_body()).status_code for _ in range(60)]
    assert statuses.count(429) == too_many.fired and statuses.count(503) == unavailable.fired
    assert statuses.count(502) == lost.fired and too_many.fired and unavailable.fired and lost.fired
    stored = client.emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID)
    assert len(stored) == statuses.count(201) + statuses.count(502)  # 429 and 503 wrote nothing
    assert faults.rules == [too_many, unavailable, lost]


@pytest.mark.parametrize("probability", [0, -0.1, 1.5])
def test_a_probability_outside_0_to_1_is_refused(client: Client, probability: float) -> None:
    with pytest.raises(ValueError, match="probability must be above 0 and at most 1"):
        client.emulator.faults.add("GET", ".", 500, probability=probability)


def test_a_negative_latency_is_refused(client: Client) -> None:
    with pytest.raises(ValueError, match="latency must not be negative"):
        client.emulator.faults.latency = -0.1
    assert client.emulator.faults.latency == 0


# The Error code is the status's reason phrase in CamelCase: pinned where Pythons differ (413, 414, 416, 422), padded to the
# schema's five characters (410), made up for a status Python does not know (599).
@pytest.mark.parametrize(
    ("status", "code"),
    [(413, "ContentTooLarge"), (414, "UriTooLong"), (416, "RangeNotSatisfiable"), (422, "UnprocessableEntity"),
     (410, "GoneError"), (418, "IMATeapot"), (599, "HttpError599")],
)
def test_an_injected_fault_names_its_status_in_the_error_code(client: Client, status: int, code: str) -> None:
    client.emulator.faults.add("GET", r"/connectors$", status)
    response = client.get()
    assert_error(response, status)
    assert response.json()["code"] == code


def test_faults_clear(client: Client) -> None:
    client.emulator.faults.add("GET", ".", 500, times=None)
    client.emulator.faults.latency = 1.0
    client.emulator.faults.clear()
    assert client.emulator.faults.latency == 0 and client.get().status_code == 200
    assert client.emulator.faults.rules == []


# --- the request log and out-of-band access ------------------------------------------------------------------


def test_requests_are_recorded_without_the_bodies_of_refused_ones(client: Client) -> None:
    body = sms_body()
    client.post(body)
    client.get(limit="5", templateRef="sms-messagebird:1")
    client.session.post(client.emulator.url + CONNECTORS_PATH, data=b"{broken")
    client.session.post(client.emulator.url + CONNECTORS_PATH, json={**sms_body(), "colour": "red"})
    client.emulator.faults.add("POST", r"/connectors$", 502, commit=True)
    committed_body = sms_body()
    client.post(committed_body)
    post, listing, broken, invalid, committed = client.emulator.requests
    assert post == RecordedRequest("POST", CONNECTORS_PATH, {}, body, 201, post.started, post.finished)
    assert (listing.method, listing.query, listing.body, listing.status) == (
        "GET",
        {"limit": "5", "templateRef": "sms-messagebird:1"},
        None,
        200,
    )
    assert (broken.body, broken.status) == (None, 422)
    assert (invalid.body, invalid.status) == (None, 422)
    assert (committed.body, committed.status) == (committed_body, 502)  # carried out, so kept
    assert post.started <= post.finished <= listing.started
    assert client.emulator.recorded_requests_total == 5
    client.emulator.clear_requests()
    assert client.emulator.requests == [] and client.emulator.recorded_requests_total == 0


def test_the_request_log_keeps_a_fixed_number_of_entries() -> None:
    with start_emulator(max_recorded_requests=3) as emulator:
        http = Client(emulator)
        with http.session:
            answers = [http.get(limit=str(n)).status_code for n in range(1, 8)]
        assert answers == [200] * 7
        assert [r.query["limit"] for r in emulator.requests] == ["5", "6", "7"]
        assert emulator.max_recorded_requests == 3 and emulator.recorded_requests_total == 7


def test_out_of_band_delete_and_workspaces(client: Client) -> None:
    created = client.post(sms_body()).json()
    client.emulator.backend.delete_connector(DEFAULT_WORKSPACE_ID, created["id"])
    assert_error(client.get(f"/{created['id']}"), 404)

    workspace, organization = str(uuid.uuid4()), str(uuid.uuid4())
    client.emulator.backend.add_workspace(workspace, organization)
    url = f"{client.emulator.url}/workspaces/{workspace}/connectors"
    assert client.session.post(url, json=sms_body()).status_code == 201
    assert len(client.emulator.backend.list_all_connectors(workspace)) == 1
    assert client.emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID) == []


def test_signing_key_is_stored_and_status_reason_is_rendered(client: Client) -> None:
    emulator = client.emulator
    workspace = f"{emulator.url}/organizations/{emulator.organization_id}/workspaces/{emulator.workspace_id}"
    base = f"{workspace}/webhook-subscriptions"
    body = {"service": "channels", "event": "sms.inbound", "url": "https://hooks.example.com/in", "signingKey": "k-1"}
    created = client.session.post(base, json=body).json()
    assert emulator.backend.get_signing_key(emulator.organization_id, emulator.workspace_id, created["id"]) == "k-1"
    client.session.patch(f"{base}/{created['id']}", json={"signingKey": "k-2"})
    assert emulator.backend.get_signing_key(emulator.organization_id, emulator.workspace_id, created["id"]) == "k-2"

    emulator.backend.set_webhook_status(
        emulator.organization_id, emulator.workspace_id, created["id"], "inactive", "endpoint kept failing"
    )
    fetched = client.session.get(f"{base}/{created['id']}").json()
    validate_named(fetched, "WebhookSubscription")
    assert (fetched["status"], fetched["statusReason"]) == ("inactive", "endpoint kept failing")
    (listed,) = emulator.backend.list_all_webhooks(emulator.organization_id, emulator.workspace_id)
    assert listed == fetched and "signingKey" not in listed


# --- thread safety ------------------------------------------------------------------------------------------


def _post_together(client: Client, bodies: List[Dict[str, Any]]) -> List[requests.Response]:
    """POST every body at once: each thread waits at a barrier, then fires on its own session."""
    barrier = threading.Barrier(len(bodies), timeout=POLL_DEADLINE_SECONDS)

    def post(body: Dict[str, Any]) -> requests.Response:
        with api_session(client.emulator.access_key) as session:
            barrier.wait()
            return session.post(client.emulator.url + CONNECTORS_PATH, json=body)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_concurrent_creates_on_distinct_numbers_all_succeed(client: Client) -> None:
    responses = _post_together(client, [sms_body() for _ in range(CONCURRENT_CREATES)])
    assert [r.status_code for r in responses] == [201] * CONCURRENT_CREATES
    for response in responses:
        validate_operation(response.json(), "POST", LIST, 201)
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == CONCURRENT_CREATES
    assert {c["id"] for c in client.emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID)} == ids


def test_concurrent_creates_on_one_number_give_exactly_one_connector(client: Client) -> None:
    number = str(uuid.uuid4())
    responses = _post_together(client, [sms_body(number) for _ in range(CONCURRENT_CREATES)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (CONCURRENT_CREATES - 1)
    assert len(client.emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID)) == 1
