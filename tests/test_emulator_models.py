"""The emulator's backend without HTTP: a fake clock for provisioning, paging properties, and
a check that the contract really rejects what Bird forbids (so the other tests are not vacuous)."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import FakeClock
from openapi_schema import validate_named, validate_operation
from pulumi_bird.emulator import DEFAULT_ORGANIZATION_ID, DEFAULT_WORKSPACE_ID, BirdBackend
from pulumi_bird.emulator.backend import Conflict, NotFound, PageRequest, Unprocessable, fake_phone_number

WS, ORG = DEFAULT_WORKSPACE_ID, DEFAULT_ORGANIZATION_ID
STATUS = "/workspaces/{workspaceId}/connectors/{connectorId}/status"



def sms(number: str) -> Dict[str, Any]:
    arguments = {"phoneNumberId": number, "channelMessageType": "promotional"}
    return {"name": "promo", "connectorTemplateRef": "sms-messagebird:1", "arguments": arguments}


def test_provisioning_follows_the_clock() -> None:
    clock = FakeClock(1000.0)
    backend = BirdBackend(provision_seconds=10, clock=clock)
    created = backend.create_connector(WS, sms(str(uuid.uuid4())))
    clock.now += 9.99
    assert backend.get_connector_status(WS, created["id"])["channel"]["stage"] == "provisioning"
    clock.now += 0.01
    status = backend.get_connector_status(WS, created["id"])
    assert (status["channel"]["status"], status["channel"]["stage"]) == ("ok", "active")
    assert backend.get_connector(WS, created["id"])["channel"]["channelId"] == status["channel"]["channelId"]


def test_a_failure_set_after_creation_shows_once_provisioned_and_can_heal() -> None:
    clock, number = FakeClock(1000.0), str(uuid.uuid4())
    backend = BirdBackend(provision_seconds=1, clock=clock)
    created = backend.create_connector(WS, sms(number))
    backend.set_channel_failure(number, "number not verified")
    assert backend.get_connector_status(WS, created["id"])["channel"]["status"] == "pending"
    clock.now += 1
    assert backend.get_connector_status(WS, created["id"])["channel"]["errorMessage"] == "number not verified"
    backend.set_channel_failure(number, None)
    assert backend.get_connector_status(WS, created["id"])["channel"]["status"] == "ok"


def test_status_bodies_validate_in_every_state() -> None:
    clock, number = FakeClock(1000.0), str(uuid.uuid4())
    backend = BirdBackend(provision_seconds=1, clock=clock)
    created = backend.create_connector(WS, sms(number))
    seen = []

    def status() -> None:
        body = backend.get_connector_status(WS, created["id"])
        validate_operation(body, "GET", STATUS, 200)
        seen.append((body["channel"]["stage"], body["channel"]["status"]))

    status()
    clock.now += 1
    status()
    backend.set_channel_failure(number, "rejected")
    status()
    assert seen == [("provisioning", "pending"), ("active", "ok"), ("inactive", "error")]  # every state, once each


def test_backend_errors() -> None:
    backend = BirdBackend(provision_seconds=0)
    number = str(uuid.uuid4())
    backend.create_connector(WS, sms(number))
    with pytest.raises(Conflict):
        backend.create_connector(WS, sms(number))
    with pytest.raises(NotFound):
        backend.create_connector(str(uuid.uuid4()), sms(str(uuid.uuid4())))
    with pytest.raises(NotFound):
        backend.delete_connector(WS, str(uuid.uuid4()))
    with pytest.raises(Unprocessable):
        backend.create_connector(WS, {"name": "x"})  # no template
    with pytest.raises(NotFound):
        backend.get_signing_key(ORG, WS, str(uuid.uuid4()))
    with pytest.raises(ValueError):
        backend.provision_seconds = -1


def test_fake_phone_numbers_are_stable_e164() -> None:
    number_id = str(uuid.uuid4())
    assert fake_phone_number(number_id) == fake_phone_number(number_id)
    assert fake_phone_number(number_id).startswith("+") and len(fake_phone_number(number_id)) <= 16
    assert fake_phone_number(number_id)[1:].isdigit()


def make(backend: BirdBackend, template_ref: str) -> str:
    """Create a connector of a template that takes any arguments; return its id."""
    return backend.create_connector(WS, {"name": "c", "connectorTemplateRef": template_ref})["id"]


def _walk(backend: BirdBackend, limit: int, reverse: bool) -> List[List[str]]:
    pages: List[List[str]] = []
    token = None
    for _ in range(200):
        page = backend.list_connectors(WS, PageRequest(limit=limit, page_token=token, reverse=reverse))
        pages.append([c["id"] for c in page["results"]])
        token = page.get("nextPageToken")
        if token is None:
            return pages
    raise AssertionError("paging did not end")


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 45), limit=st.integers(1, 100), reverse=st.booleans())
def test_pages_cover_every_connector_once_in_order(count: int, limit: int, reverse: bool) -> None:
    backend = BirdBackend(provision_seconds=0)
    created = [make(backend, "telegram:1") for _ in range(count)]
    pages = _walk(backend, limit, reverse)
    assert [cid for page in pages for cid in page] == (created[::-1] if reverse else created)
    assert all(len(page) == limit for page in pages[:-1]) and len(pages[-1]) <= limit
    assert len(pages) == max(1, -(-count // limit))


def test_paging_survives_deletes_between_pages() -> None:
    backend = BirdBackend(provision_seconds=0)
    created = [make(backend, "facebook:1") for _ in range(6)]
    first = backend.list_connectors(WS, PageRequest(limit=3))
    backend.delete_connector(WS, created[2])  # the last item of the first page
    backend.delete_connector(WS, created[3])
    second = backend.list_connectors(WS, PageRequest(limit=3, page_token=first["nextPageToken"]))
    assert [c["id"] for c in second["results"]] == created[4:] and "nextPageToken" not in second


def test_a_webhook_token_is_no_connector_token() -> None:
    backend = BirdBackend()
    for i in range(3):
        backend.create_webhook(ORG, WS, {"service": "numbers", "event": f"e{i}", "url": "https://a.example.com"})
    token = backend.list_webhooks(ORG, WS, PageRequest(limit=1))["nextPageToken"]
    with pytest.raises(Unprocessable):
        backend.list_connectors(WS, PageRequest(page_token=token))


def test_the_contract_rejects_what_bird_forbids() -> None:
    connector = BirdBackend(provision_seconds=0).create_connector(WS, sms(str(uuid.uuid4())))
    validate_named(connector, "Connector")
    for broken in ({**connector, "extra": 1}, {**connector, "id": "nope"}, {**connector, "createdAt": "yesterday"}):
        with pytest.raises(jsonschema.ValidationError):
            validate_named(broken, "Connector")
    with pytest.raises(jsonschema.ValidationError):
        validate_named({"channel": {"status": "sleeping"}}, "ConnectorStatus")
    validate_named({"channel": None, "number": None}, "ConnectorStatus")
    with pytest.raises(jsonschema.ValidationError):
        validate_named({"code": "Bad", "message": "short"}, "Error")


def test_provisioning_by_reads_ignores_the_clock() -> None:
    clock = FakeClock(1000.0)
    backend = BirdBackend(provision_seconds=0, clock=clock, provision_reads=3)
    created = backend.create_connector(WS, sms(str(uuid.uuid4())))
    clock.now += 10_000
    stages = [backend.get_connector_status(WS, created["id"])["channel"]["stage"] for _ in range(5)]
    assert stages == ["provisioning"] * 3 + ["active"] * 2
    backend.provision_reads = 0  # applies to connectors created from now on
    later = backend.create_connector(WS, sms(str(uuid.uuid4())))
    assert backend.get_connector_status(WS, later["id"])["channel"]["stage"] == "active"  # at its first read
    with pytest.raises(ValueError, match="provision_reads must be None or a non-negative integer"):
        backend.provision_reads = -1
