"""Connectors on the emulator, over raw HTTP against the CLI process, every body checked against the contract."""

from __future__ import annotations

import uuid
from typing import Any, Dict, Iterator, List, Optional

import pytest

from helpers import RunningEmulator, api_session, emulator_process
from openapi_schema import validate_named, validate_operation
from pulumi_bird.emulator import DEFAULT_WORKSPACE_ID

# The CLI runs with this provisioning time; short, so the transition tests stay fast.
PROVISION_SECONDS = 0.3

LIST = "/workspaces/{workspaceId}/connectors"
ONE = "/workspaces/{workspaceId}/connectors/{connectorId}"
STATUS = "/workspaces/{workspaceId}/connectors/{connectorId}/status"


@pytest.fixture(scope="module")
def api() -> Iterator[RunningEmulator]:
    with emulator_process(PROVISION_SECONDS) as emulator:
        yield emulator


def connectors_url(api: RunningEmulator, workspace: str = DEFAULT_WORKSPACE_ID) -> str:
    return f"{api.url}/workspaces/{workspace}/connectors"


def sms_body(number: Optional[str] = None, **arguments: Any) -> Dict[str, Any]:
    args = {"phoneNumberId": number or str(uuid.uuid4()), "channelMessageType": "transactional", **arguments}
    return {"name": "alerts", "connectorTemplateRef": "sms-messagebird:1", "arguments": args}


def voice_body(number: Optional[str]) -> Dict[str, Any]:
    arguments = {"phoneNumberId": number} if number else {}
    return {"name": "calls", "connectorTemplateRef": "voice-messagebird:1", "arguments": arguments}


def create(api: RunningEmulator, body: Dict[str, Any]) -> Dict[str, Any]:
    response = api.session.post(connectors_url(api), json=body)
    assert response.status_code == 201, response.text
    validate_operation(response.json(), "POST", LIST, 201)
    return response.json()


def list_all(api: RunningEmulator, **params: Any) -> List[Dict[str, Any]]:
    """Follow nextPageToken to the end (bounded), checking every page against the contract."""
    results: List[Dict[str, Any]] = []
    for _ in range(50):
        response = api.session.get(connectors_url(api), params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        validate_operation(page, "GET", LIST, 200)
        results.extend(page["results"])
        if "nextPageToken" not in page:
            return results
        params = {**params, "pageToken": page["nextPageToken"]}
    raise AssertionError("more than 50 pages")


def assert_error(response: Any, status: int, path: str = LIST, method: str = "POST") -> Dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    validate_operation(body, method, path, status)
    return body


# --- auth and routing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "AccessKey wrong-key", "Bearer cli-test-key-0123456789", "AccessKey"])
def test_requests_without_the_right_key_get_401(api: RunningEmulator, header: Optional[str]) -> None:
    session = api_session()
    del session.headers["Authorization"]
    headers = {"Authorization": header} if header else {}
    with session:
        response = session.get(connectors_url(api), headers=headers)
        posted = session.post(connectors_url(api), headers=headers, json=sms_body())
    for answer in (response, posted):
        assert answer.status_code == 401
        validate_named(answer.json(), "Error")
        assert "wrong-key" not in answer.text and "cli-test-key" not in answer.text


def test_unknown_route_is_404_and_wrong_method_is_405(api: RunningEmulator) -> None:
    missing = api.session.get(f"{api.url}/workspaces/{DEFAULT_WORKSPACE_ID}/channels")
    assert missing.status_code == 404
    validate_named(missing.json(), "Error")
    wrong = api.session.put(connectors_url(api), json={})
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST, GET"
    validate_named(wrong.json(), "Error")


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_trace_and_query_are_405_with_an_allow_header_not_501(api: RunningEmulator, method: str) -> None:
    answer = api.session.request(method, connectors_url(api))
    assert answer.status_code == 405 and answer.headers["Allow"] == "POST, GET"
    validate_named(answer.json(), "Error")


def test_unknown_workspace_is_404(api: RunningEmulator) -> None:
    other = str(uuid.uuid4())
    assert_error(api.session.post(connectors_url(api, other), json=sms_body()), 404)
    assert_error(api.session.get(connectors_url(api, other)), 404, method="GET")


# --- lifecycle ----------------------------------------------------------------------------------------------


def test_create_get_status_list_delete(api: RunningEmulator) -> None:
    number = str(uuid.uuid4())
    created = create(api, sms_body(number))
    assert created["name"] == "alerts" and created["workspaceId"] == DEFAULT_WORKSPACE_ID
    assert created["arguments"] == sms_body(number)["arguments"]
    assert created["connectorTemplateRef"] == "sms-messagebird:1"
    assert created["connectorTemplateSlug"] == "sms-messagebird"
    assert created["number"]["numberId"] == number and created["number"]["phoneNumber"].startswith("+")
    assert created["createdAt"].endswith("Z")
    one = f"{connectors_url(api)}/{created['id']}"

    fetched = api.session.get(one)
    assert fetched.status_code == 200
    validate_operation(fetched.json(), "GET", ONE, 200)
    assert fetched.json()["id"] == created["id"]

    status = api.session.get(f"{one}/status")
    assert status.status_code == 200
    validate_operation(status.json(), "GET", STATUS, 200)
    assert status.json()["number"]["numberId"] == number

    assert created["id"] in [c["id"] for c in list_all(api, limit=100)]

    deleted = api.session.delete(one)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(api.session.get(one), 404, ONE, "GET")
    assert_error(api.session.get(f"{one}/status"), 404, STATUS, "GET")
    again = api.session.delete(one)
    assert again.status_code == 404
    validate_named(again.json(), "Error")
    assert created["id"] not in [c["id"] for c in list_all(api, limit=100)]


def test_a_number_holds_one_connector_per_template(api: RunningEmulator) -> None:
    number = str(uuid.uuid4())
    first = create(api, sms_body(number))
    body = assert_error(api.session.post(connectors_url(api), json=sms_body(number)), 409)
    assert body["code"] == "Conflict"
    assert create(api, voice_body(number))["number"]["numberId"] == number

    assert api.session.delete(f"{connectors_url(api)}/{first['id']}").status_code == 204
    create(api, sms_body(number))  # deleting frees the number


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(sms_body(channelMessageType="marketing"), id="bad-message-type"),
        pytest.param({**sms_body(), "colour": "blue"}, id="unknown-field"),
        pytest.param({k: v for k, v in sms_body().items() if k != "name"}, id="missing-name"),
        pytest.param({**sms_body(), "name": 5}, id="name-not-string"),
        pytest.param({**sms_body(), "name": "  "}, id="name-empty"),
        pytest.param({**sms_body(), "arguments": ["x"]}, id="arguments-not-object"),
        pytest.param({**sms_body(), "channelConversationalStatusEnabled": "yes"}, id="flag-not-boolean"),
        pytest.param({**sms_body(), "connectorTemplateRef": "pigeon:1"}, id="unknown-template"),
        pytest.param(sms_body(number="not-a-uuid"), id="number-not-uuid"),
        pytest.param(sms_body(useCaseId="case-1"), id="use-case-not-uuid"),
        pytest.param(voice_body(number=None), id="voice-no-number"),
        pytest.param({"name": "text", "connectorTemplateRef": "sms-messagebird:1"}, id="sms-no-arguments"),
    ],
)
def test_invalid_create_bodies_get_422(api: RunningEmulator, body: Dict[str, Any]) -> None:
    before = len(list_all(api, limit=100))
    assert_error(api.session.post(connectors_url(api), json=body), 422)
    assert len(list_all(api, limit=100)) == before


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"name"', b""])
def test_unreadable_create_bodies_get_422(api: RunningEmulator, raw: bytes) -> None:
    response = api.session.post(connectors_url(api), data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 422)


def test_a_generic_template_takes_any_arguments(api: RunningEmulator) -> None:
    body = {"name": "bot", "connectorTemplateRef": "telegram:1", "arguments": {"botToken": "x", "n": [1, 2]}}
    created = create(api, body)
    assert created["arguments"] == body["arguments"] and created["number"] is None
    assert created["connectorTemplateSlug"] == "telegram"


# --- listing ------------------------------------------------------------------------------------------------


def test_pages_through_more_than_100_connectors(api: RunningEmulator) -> None:
    # Only this test uses line:1, so the templateRef filter isolates its connectors from the others'.
    created = [create(api, {"name": f"line-{i}", "connectorTemplateRef": "line:1"})["id"] for i in range(105)]

    first = api.session.get(connectors_url(api), params={"templateRef": "line:1", "limit": 100}).json()
    assert len(first["results"]) == 100 and "nextPageToken" in first
    second_response = api.session.get(
        connectors_url(api), params={"templateRef": "line:1", "limit": 100, "pageToken": first["nextPageToken"]}
    )
    second = second_response.json()
    validate_operation(second, "GET", LIST, 200)
    assert len(second["results"]) == 5 and "nextPageToken" not in second
    assert [c["id"] for c in first["results"] + second["results"]] == created

    default_page = api.session.get(connectors_url(api), params={"templateRef": "line:1"}).json()
    assert len(default_page["results"]) == 10
    newest_first = list_all(api, templateRef="line:1", reverse="true", limit=7)
    assert [c["id"] for c in newest_first] == created[::-1]
    assert {c["connectorTemplateRef"] for c in list_all(api, templateRef="line:1", limit=100)} == {"line:1"}


def test_template_filter_keeps_only_that_template(api: RunningEmulator) -> None:
    whatsapp = create(api, {"name": "wa", "connectorTemplateRef": "whatsapp:1"})
    sms = create(api, sms_body())
    listed = list_all(api, templateRef="whatsapp:1", limit=100)
    assert whatsapp["id"] in [c["id"] for c in listed]
    assert sms["id"] not in [c["id"] for c in listed]
    assert {c["connectorTemplateRef"] for c in listed} == {"whatsapp:1"}
    assert list_all(api, templateRef="nothing:9") == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": -1},
        {"limit": "ten"},
        {"reverse": "maybe"},
        {"includeInternal": "perhaps"},
        {"pageToken": "not-a-token"},
        {"pageToken": "x" * 8001},
    ],
)
def test_bad_list_parameters_get_422(api: RunningEmulator, params: Dict[str, Any]) -> None:
    response = api.session.get(connectors_url(api), params=params)
    assert response.status_code == 422, response.text
    validate_named(response.json(), "Error")


def test_include_internal_is_accepted(api: RunningEmulator) -> None:
    response = api.session.get(connectors_url(api), params={"includeInternal": "true", "limit": 1})
    assert response.status_code == 200
    validate_operation(response.json(), "GET", LIST, 200)


# --- provisioning -------------------------------------------------------------------------------------------

# A second emulator process provisions by reads, not time (moto style): a new channel answers
# "provisioning" to its first PROVISION_READS status reads and is active from the next one on. Its clock
# setting is an hour, so only the reads can move a channel, and the test is exact on any machine.
PROVISION_READS = 2


@pytest.fixture(scope="module")
def api_by_reads() -> Iterator[RunningEmulator]:
    with emulator_process(3600, "--provision-reads", str(PROVISION_READS)) as emulator:
        yield emulator


def read_status(api: RunningEmulator, connector_id: str) -> Dict[str, Any]:
    response = api.session.get(f"{connectors_url(api)}/{connector_id}/status")
    assert response.status_code == 200, response.text
    validate_operation(response.json(), "GET", STATUS, 200)
    return response.json()


def read_connector(api: RunningEmulator, connector_id: str) -> Dict[str, Any]:
    response = api.session.get(f"{connectors_url(api)}/{connector_id}")
    assert response.status_code == 200, response.text
    validate_operation(response.json(), "GET", ONE, 200)
    return response.json()


@pytest.mark.parametrize(
    "body, platform",
    [
        (sms_body(), "sms"),
        (voice_body(str(uuid.uuid4())), "voice"),
        ({"name": "wa", "connectorTemplateRef": "whatsapp:1", "arguments": {}}, "whatsapp"),
    ],
)
def test_channel_goes_from_provisioning_to_active(
    api_by_reads: RunningEmulator, body: Dict[str, Any], platform: str
) -> None:
    api = api_by_reads
    created = create(api, body)
    assert created["channel"] is None
    provisioning = {
        "channelId": None,
        "platformName": platform,
        "status": "pending",
        "stage": "provisioning",
        "errorMessage": None,
    }
    for _ in range(PROVISION_READS):
        assert read_connector(api, created["id"])["channel"] is None  # reading the connector moves nothing
        status = read_status(api, created["id"])
        assert status["channel"] == provisioning
        assert ("number" in status) == (platform != "whatsapp")

    active = read_status(api, created["id"])["channel"]
    assert (active["status"], active["stage"], active["errorMessage"]) == ("ok", "active", None)
    assert active["platformName"] == platform
    uuid.UUID(active["channelId"])
    connector = read_connector(api, created["id"])
    assert connector["channel"] == {"channelId": active["channelId"], "platform": platform}
    assert connector["updatedAt"] >= connector["createdAt"]
    assert read_status(api, created["id"])["channel"] == active  # and it stays active
