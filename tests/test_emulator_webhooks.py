"""Webhook subscriptions on the emulator, over raw HTTP against the CLI process, checked against the contract."""

from __future__ import annotations

import uuid
from typing import Any, Dict, Iterator, List

import pytest

from helpers import RunningEmulator, emulator_process
from openapi_schema import validate_named, validate_operation
from pulumi_bird.emulator import DEFAULT_ORGANIZATION_ID, DEFAULT_WORKSPACE_ID

BASE = "/organizations/{organizationId}/workspaces/{workspaceId}/webhook-subscriptions"
CHANNEL_ID = "3c9d3f1e-7a54-4c3b-9f0e-5b2f6a8d1c47"


@pytest.fixture(scope="module")
def api() -> Iterator[RunningEmulator]:
    with emulator_process() as emulator:
        yield emulator


def base_url(api: RunningEmulator, organization: str = DEFAULT_ORGANIZATION_ID) -> str:
    return f"{api.url}/organizations/{organization}/workspaces/{DEFAULT_WORKSPACE_ID}/webhook-subscriptions"


def subscription(**overrides: Any) -> Dict[str, Any]:
    """A valid create body; a unique event name keeps tests clear of the five-identical rule."""
    event = f"sms.outbound.{uuid.uuid4().hex[:8]}"
    return {"service": "channels", "event": event, "url": "https://hooks.example.com/bird", **overrides}


def create(api: RunningEmulator, body: Dict[str, Any]) -> Dict[str, Any]:
    response = api.session.post(base_url(api), json=body)
    assert response.status_code == 201, response.text
    validate_operation(response.json(), "POST", BASE, 201)
    return response.json()


def assert_error(response: Any, status: int) -> Dict[str, Any]:
    assert response.status_code == status, response.text
    validate_named(response.json(), "errorResponse")
    return response.json()


def list_all(api: RunningEmulator, limit: int) -> List[List[Dict[str, Any]]]:
    """Every page (bounded), each checked against the contract's page of WebhookSubscription."""
    pages: List[List[Dict[str, Any]]] = []
    params: Dict[str, Any] = {"limit": limit}
    for _ in range(100):
        response = api.session.get(base_url(api), params=params)
        assert response.status_code == 200, response.text
        validate_operation(response.json(), "GET", BASE, 200)
        pages.append(response.json()["results"])
        if "nextPageToken" not in response.json():
            return pages
        params["pageToken"] = response.json()["nextPageToken"]
    raise AssertionError("more than 100 pages")


def test_create_renders_the_subscription_without_its_signing_key(api: RunningEmulator) -> None:
    body = subscription(signingKey="s3cret-signing-key", eventFilters=[{"key": "channelId", "value": CHANNEL_ID}])
    created = create(api, body)
    assert "signingKey" not in created and "s3cret-signing-key" not in str(created)
    assert created["status"] == "active" and "statusReason" not in created and "template" not in created
    assert (created["organizationId"], created["workspaceId"]) == (DEFAULT_ORGANIZATION_ID, DEFAULT_WORKSPACE_ID)
    assert created["eventFilters"] == body["eventFilters"]
    assert (created["service"], created["event"], created["url"]) == (body["service"], body["event"], body["url"])
    assert created["createdAt"] == created["updatedAt"] and created["createdAt"].endswith("Z")


def test_template_is_rendered_when_set(api: RunningEmulator) -> None:
    filters = [{"key": "platformId", "value": "sms"}]
    created = create(api, subscription(service="templates", template="twilio", eventFilters=filters))
    assert created["template"] == "twilio"


def test_get_patch_delete(api: RunningEmulator) -> None:
    created = create(api, subscription(signingKey="first-key"))
    one = f"{base_url(api)}/{created['id']}"

    fetched = api.session.get(one)
    assert fetched.status_code == 200 and fetched.json() == created
    validate_named(fetched.json(), "WebhookSubscription")

    changes = {
        "url": "https://other.example.org/hooks?x=1",
        "status": "inactive",
        "signingKey": "second-key",
        "eventFilters": [{"key": "platformId", "value": "sms"}, {"key": "channelStatus", "value": "active"}],
        "template": "sinch",
    }
    patched = api.session.patch(one, json=changes)
    assert patched.status_code == 200, patched.text
    validate_named(patched.json(), "WebhookSubscription")
    updated = patched.json()
    assert {k: updated[k] for k in ("url", "status", "eventFilters", "template")} == {
        k: changes[k] for k in ("url", "status", "eventFilters", "template")
    }
    assert "signingKey" not in updated and "second-key" not in patched.text
    assert (updated["service"], updated["event"], updated["createdAt"]) == (
        created["service"],
        created["event"],
        created["createdAt"],
    )
    assert updated["updatedAt"] >= created["updatedAt"]
    assert api.session.get(one).json() == updated

    cleared = api.session.patch(one, json={"eventFilters": None, "template": None})
    assert cleared.status_code == 200
    assert cleared.json()["eventFilters"] == [] and "template" not in cleared.json()

    deleted = api.session.delete(one)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(api.session.get(one), 404)
    assert_error(api.session.delete(one), 404)
    assert_error(api.session.patch(one, json={"status": "active"}), 404)


def test_list_pages_hold_every_subscription_once(api: RunningEmulator) -> None:
    created = {create(api, subscription())["id"] for _ in range(12)}
    pages = list_all(api, limit=5)
    ids = [item["id"] for page in pages for item in page]
    assert len(ids) == len(set(ids)) and created <= set(ids)
    assert all(len(page) <= 5 for page in pages) and len(pages) >= 3
    assert_error(api.session.get(base_url(api), params={"limit": 101}), 422)
    assert_error(api.session.get(base_url(api), params={"pageToken": "bogus"}), 422)


@pytest.mark.parametrize("raw", [b"{oops", b"[]", b"42", b""])
def test_unreadable_bodies_get_400(api: RunningEmulator, raw: bytes) -> None:
    response = api.session.post(base_url(api), data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    validate_operation(response.json(), "POST", BASE, 400)


def _without(field: str) -> Dict[str, Any]:
    body = subscription()
    del body[field]
    return body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_without("service"), id="missing-service"),
        pytest.param(_without("event"), id="missing-event"),
        pytest.param(_without("url"), id="missing-url"),
        pytest.param(subscription(status="active"), id="unknown-field"),
        pytest.param(subscription(service="pigeons"), id="bad-service"),
        pytest.param(subscription(url="http://hooks.example.com/bird"), id="http-url"),
        pytest.param(subscription(url="https://localhost/bird"), id="url-without-tld"),
        pytest.param(subscription(url=42), id="url-not-string"),
        pytest.param(subscription(eventFilters={"key": "status"}), id="filters-not-array"),
        pytest.param(subscription(eventFilters=[{"key": "status"}]), id="filter-without-value"),
        pytest.param(subscription(eventFilters=[{"key": "status", "value": 1}]), id="filter-value-not-string"),
        pytest.param(subscription(eventFilters=[{"key": "status", "value": "a", "op": "eq"}]), id="filter-extra-field"),
        pytest.param(subscription(eventFilters=[{"key": "colour", "value": "a"}]), id="filter-key-unknown"),
        pytest.param(
            subscription(service="templates", eventFilters=[{"key": "channelId", "value": CHANNEL_ID}]),
            id="key-not-for-templates",
        ),
        pytest.param(
            subscription(service="conversations", eventFilters=[{"key": "platformId", "value": "sms"}]),
            id="key-not-for-conversations",
        ),
        pytest.param(subscription(eventFilters=[{"key": "channelId", "value": "chan-1"}]), id="channel-id-not-uuid"),
        pytest.param(
            subscription(eventFilters=[{"key": "channelId", "value": CHANNEL_ID}] * 2),
            id="two-channel-ids",
        ),
    ],
)
def test_invalid_bodies_get_422(api: RunningEmulator, body: Dict[str, Any]) -> None:
    response = api.session.post(base_url(api), json=body)
    assert response.status_code == 422, response.text
    validate_operation(response.json(), "POST", BASE, 422)


def test_numbers_and_payments_take_any_enum_key(api: RunningEmulator) -> None:
    for service in ("numbers", "payments"):
        filters = [{"key": "navigatorId", "value": "n1"}, {"key": "eventDestination", "value": "d"}]
        assert create(api, subscription(service=service, eventFilters=filters))["eventFilters"] == filters


def test_a_sixth_identical_subscription_is_refused(api: RunningEmulator) -> None:
    body = subscription(eventFilters=[{"key": "platformId", "value": "sms"}, {"key": "status", "value": "sent"}])
    five = [create(api, body) for _ in range(5)]
    reordered = {**body, "eventFilters": body["eventFilters"][::-1]}  # filter order does not make it different
    response = api.session.post(base_url(api), json=reordered)
    assert response.status_code == 422
    validate_operation(response.json(), "POST", BASE, 422)
    other = create(api, {**body, "eventFilters": body["eventFilters"][:1]})
    # A PATCH is judged against the others: one of the five may keep its filters, a sixth may not take them.
    kept = api.session.patch(f"{base_url(api)}/{five[0]['id']}", json={"eventFilters": reordered["eventFilters"]})
    assert kept.status_code == 200, kept.text
    taken = api.session.patch(f"{base_url(api)}/{other['id']}", json={"eventFilters": body["eventFilters"]})
    assert_error(taken, 422)


@pytest.mark.parametrize(
    "changes, status",
    [
        ({}, 422),
        ({"service": "numbers"}, 422),
        ({"event": "sms.inbound"}, 422),
        ({"colour": "blue"}, 422),
        ({"url": "ftp://hooks.example.com"}, 422),
        ({"status": "paused"}, 422),
        ({"eventFilters": [{"key": "channelId", "value": "nope"}]}, 422),
        ({"signingKey": 7}, 422),
    ],
)
def test_invalid_patches(api: RunningEmulator, changes: Dict[str, Any], status: int) -> None:
    created = create(api, subscription())
    one = f"{base_url(api)}/{created['id']}"
    body = assert_error(api.session.patch(one, json=changes), status)
    if not changes:
        assert "at least one field" in body["message"]
    assert api.session.get(one).json() == created


@pytest.mark.parametrize(
    "changes, named",
    [({"service": "numbers"}, "service"), ({"event": "sms.inbound", "service": "numbers"}, "service"),
     ({"url": "https://hooks.example.com/other", "event": "sms.inbound"}, "event")],
)
def test_a_patch_of_a_field_fixed_at_creation_says_to_create_a_new_one(
    api: RunningEmulator, changes: Dict[str, Any], named: str
) -> None:
    created = create(api, subscription())
    body = assert_error(api.session.patch(f"{base_url(api)}/{created['id']}", json=changes), 422)
    assert body["message"] == f"{named} cannot be changed; create a new subscription instead"
    assert body["details"] == {"field": named}


def test_unreadable_patch_gets_400(api: RunningEmulator) -> None:
    created = create(api, subscription())
    headers = {"Content-Type": "application/json"}
    response = api.session.patch(f"{base_url(api)}/{created['id']}", data=b"{", headers=headers)
    assert_error(response, 400)


def test_unknown_organization_or_workspace_is_404(api: RunningEmulator) -> None:
    assert_error(api.session.post(base_url(api, str(uuid.uuid4())), json=subscription()), 404)
    assert_error(api.session.get(base_url(api, str(uuid.uuid4()))), 404)


def test_the_list_ignores_reverse_which_bird_documents_only_for_connectors(api: RunningEmulator) -> None:
    created = [create(api, subscription())["id"] for _ in range(3)]
    for reverse in ("true", "false", "maybe"):
        response = api.session.get(base_url(api), params={"reverse": reverse, "limit": 100})
        assert response.status_code == 200, response.text
        listed = [item["id"] for item in response.json()["results"]]
        assert [i for i in listed if i in created] == created  # oldest first, whatever reverse says
