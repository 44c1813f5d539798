"""The emulator's two hooks for a test's own answers: ``answer_hooks`` (observe or change each answer) and
``wall_clock`` (Bird's clock for createdAt, updatedAt and the Date header). tests/hostile_emulator.py builds on
them; here they are checked on their own, through raw HTTP."""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
from typing import Iterator, List, Tuple

import pytest

from helpers import api_session
from pulumi_bird.emulator import DEFAULT_WORKSPACE_ID, BirdEmulator
from pulumi_bird.emulator.responses import ApiRequest, ApiResponse

CONNECTORS = f"/workspaces/{DEFAULT_WORKSPACE_ID}/connectors"
# Bird's clock in these tests: far from today's, so no real clock can pass for it.
BIRD_NOW = datetime.datetime(2031, 5, 4, 3, 2, 1, 500000, tzinfo=datetime.timezone.utc)


@pytest.fixture
def emulator() -> Iterator[BirdEmulator]:
    with BirdEmulator(provision_seconds=0, wall_clock=lambda: BIRD_NOW) as emu:
        yield emu


def test_a_hook_sees_every_answer_as_decided_and_the_last_hook_has_the_last_word(emulator: BirdEmulator) -> None:
    seen: List[Tuple[str, str, int]] = []

    def observe(request: ApiRequest, response: ApiResponse) -> ApiResponse:
        seen.append((request.method, request.path, response.status))
        return response

    def rename(request: ApiRequest, response: ApiResponse) -> ApiResponse:
        if request.method == "POST":
            return dataclasses.replace(response, body={**response.body, "name": "renamed by a hook"})
        return response

    emulator.answer_hooks.extend([observe, rename])
    emulator.faults.add("GET", r"/connectors$", 503)
    with api_session(emulator.access_key) as session:
        assert session.get(emulator.url + CONNECTORS).status_code == 503
        created = session.post(emulator.url + CONNECTORS, json={"name": "c", "connectorTemplateRef": "telegram:1"})
    with api_session("wrong-key") as stranger:
        assert stranger.get(emulator.url + CONNECTORS).status_code == 401
    assert created.status_code == 201 and created.json()["name"] == "renamed by a hook"
    assert seen == [("GET", CONNECTORS, 503), ("POST", CONNECTORS, 201), ("GET", CONNECTORS, 401)]
    # The hook changed the answer, not what Bird stored.
    assert emulator.backend.get_connector(DEFAULT_WORKSPACE_ID, created.json()["id"])["name"] == "c"


def test_a_failing_hook_costs_the_client_a_500_not_its_connection(emulator: BirdEmulator) -> None:
    def broken(request: ApiRequest, response: ApiResponse) -> ApiResponse:
        raise RuntimeError("a bug in a test's hook")

    emulator.answer_hooks.append(broken)
    with api_session(emulator.access_key) as session:
        answer = session.get(emulator.url + CONNECTORS)
    assert answer.status_code == 500 and answer.json()["message"] == "the emulator failed on this request"


def test_the_wall_clock_sets_created_at_and_the_date_header(emulator: BirdEmulator) -> None:
    with api_session(emulator.access_key) as session:
        created = session.post(emulator.url + CONNECTORS, json={"name": "c", "connectorTemplateRef": "telegram:1"})
    assert created.json()["createdAt"] == "2031-05-04T03:02:01.500Z"
    assert email.utils.parsedate_to_datetime(created.headers["Date"]) == BIRD_NOW.replace(microsecond=0)


def test_the_wall_clock_stamps_the_numbers_inventory_too(emulator: BirdEmulator) -> None:
    emulator.add_number("+3197010520099", ["sms"])
    with api_session(emulator.access_key) as session:
        numbers = session.get(f"{emulator.url}/workspaces/{DEFAULT_WORKSPACE_ID}/numbers").json()["results"]
    assert len(numbers) == 4  # the three default numbers and the added one
    assert {number["createdAt"] for number in numbers} == {"2031-05-04T03:02:01.500Z"}


def test_a_hook_may_set_the_date_header_apart_from_created_at(emulator: BirdEmulator) -> None:
    """Bird's objects may be stamped by another clock than its answers' Date: the hook's Date is sent, alone."""
    date = "Tue, 01 Jan 2030 00:00:00 GMT"
    emulator.answer_hooks.append(lambda request, response: dataclasses.replace(
        response, headers={**response.headers, "Date": date}))
    with api_session(emulator.access_key) as session:
        created = session.post(emulator.url + CONNECTORS, json={"name": "c", "connectorTemplateRef": "telegram:1"})
    assert created.headers["Date"] == date  # requests joins repeated headers with ", ": one Date only
    assert created.json()["createdAt"] == "2031-05-04T03:02:01.500Z"
