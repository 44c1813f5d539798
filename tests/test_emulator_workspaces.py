"""Several workspaces of one organization on the emulator (a fleet of customer workspaces, examples/fleet): each with
its own numbers inventory, its own objects and its own rate budget, seeded with ``workspaces=N`` and
``numbers_per_workspace=K`` or ``--workspaces N --numbers-per-workspace K``.
"""

from __future__ import annotations

import signal
import uuid
from typing import Iterator, List

import pytest
import requests

from helpers import ACCESS_KEY, FakeClock, api_session, first_line, start_process, stop_process
from pulumi_bird.emulator import (
    DEFAULT_NUMBERS,
    DEFAULT_ORGANIZATION_ID,
    DEFAULT_WORKSPACE_ID,
    BirdEmulator,
    RateLimits,
    seeded_number,
    seeded_workspace_id,
)
from pulumi_bird.testing.fixtures import start_emulator


@pytest.fixture
def fleet() -> Iterator[BirdEmulator]:
    with start_emulator(provision_seconds=0, clock=FakeClock(100.0), workspaces=3, numbers_per_workspace=2) as emu:
        yield emu


def listed_numbers(session: requests.Session, emu: BirdEmulator, workspace_id: str) -> List[str]:
    answer = session.get(f"{emu.url}/workspaces/{workspace_id}/numbers", params={"limit": 99})
    assert answer.status_code == 200, answer.text
    return [n["number"] for n in answer.json()["results"]]


def create_sms_connector(session: requests.Session, emu: BirdEmulator, workspace_id: str) -> requests.Response:
    return session.post(f"{emu.url}/workspaces/{workspace_id}/connectors", json={
        "name": "sms", "connectorTemplateRef": "sms-messagebird:1",
        "arguments": {"phoneNumberId": str(uuid.uuid4()), "channelMessageType": "transactional"}})


def test_each_workspace_has_its_own_numbers(fleet: BirdEmulator) -> None:
    assert fleet.workspace_ids == [DEFAULT_WORKSPACE_ID, seeded_workspace_id(2), seeded_workspace_id(3)]
    assert len(set(fleet.workspace_ids)) == 3
    with api_session(fleet.access_key) as session:
        first, second, third = (listed_numbers(session, fleet, ws) for ws in fleet.workspace_ids)
        unknown = session.get(f"{fleet.url}/workspaces/{seeded_workspace_id(4)}/numbers")
    assert first == [n for n, _, _ in DEFAULT_NUMBERS] + [seeded_number(1, 0), seeded_number(1, 1)]
    assert second == [seeded_number(2, 0), seeded_number(2, 1)]
    assert third == [seeded_number(3, 0), seeded_number(3, 1)]
    assert unknown.status_code == 404
    assert all(n["capabilities"] == ["sms", "voice"] for n in fleet.backend.list_all_numbers(seeded_workspace_id(2)))


def test_a_number_added_to_one_workspace_is_not_in_the_others(fleet: BirdEmulator) -> None:
    fleet.add_number("+3197010999999", ["sms"], workspace_id=seeded_workspace_id(3))
    with api_session(fleet.access_key) as session:
        assert "+3197010999999" in listed_numbers(session, fleet, seeded_workspace_id(3))
        assert "+3197010999999" not in listed_numbers(session, fleet, seeded_workspace_id(2))


def test_each_workspace_holds_its_own_objects(fleet: BirdEmulator) -> None:
    with api_session(fleet.access_key) as session:
        made = create_sms_connector(session, fleet, seeded_workspace_id(2))
        assert made.status_code in (200, 201), made.text
        webhooks = (f"{fleet.url}/organizations/{DEFAULT_ORGANIZATION_ID}/workspaces/{seeded_workspace_id(3)}"
                    f"/webhook-subscriptions")
        assert session.get(webhooks).status_code == 200  # every seeded workspace belongs to the organization
    assert [c["id"] for c in fleet.backend.list_all_connectors(seeded_workspace_id(2))] == [made.json()["id"]]
    assert fleet.backend.list_all_connectors(DEFAULT_WORKSPACE_ID) == []
    assert fleet.backend.list_all_connectors(seeded_workspace_id(3)) == []


def test_each_workspace_has_its_own_rate_budget(fleet: BirdEmulator) -> None:
    fleet.rate_limits = RateLimits(get=2, post=1)
    with api_session(fleet.access_key) as session:
        second = [session.get(f"{fleet.url}/workspaces/{seeded_workspace_id(2)}/numbers").status_code
                  for _ in range(3)]
        third = [session.get(f"{fleet.url}/workspaces/{seeded_workspace_id(3)}/numbers").status_code
                 for _ in range(2)]
        posts = [create_sms_connector(session, fleet, ws).status_code for ws in fleet.workspace_ids]
    assert second == [200, 200, 429]
    assert third == [200, 200]  # the second workspace's exhausted budget is not the third's
    assert 429 not in posts  # one POST per workspace: each within its own limit


def test_seeded_ids_and_numbers_are_fixed_and_checked() -> None:
    assert seeded_workspace_id(1) == DEFAULT_WORKSPACE_ID
    assert seeded_number(8, 31) == "+31970100080031"
    with pytest.raises(ValueError, match="1 to 999"):
        seeded_workspace_id(0)
    with pytest.raises(ValueError, match="at least 1"):
        BirdEmulator(workspaces=0)
    with pytest.raises(ValueError, match="numbers_per_workspace"):
        BirdEmulator(numbers_per_workspace=-1)


def test_a_custom_first_workspace_gets_the_first_seeded_numbers() -> None:
    custom = "0b8f7c0e-1111-4222-8333-444455556666"
    emu = BirdEmulator(workspace_id=custom, workspaces=2, numbers_per_workspace=1, numbers=())
    assert emu.workspace_ids == [custom, seeded_workspace_id(2)]
    assert [n["number"] for n in emu.backend.list_all_numbers(custom)] == [seeded_number(1, 0)]


def test_the_command_line_seeds_workspaces_and_announces_them() -> None:
    process = start_process(["--port", "0", "--access-key", ACCESS_KEY, "--workspaces", "3",
                             "--numbers-per-workspace", "2"])
    try:
        url = first_line(process.stdout)
        with api_session() as session:
            answer = session.get(f"{url}/workspaces/{seeded_workspace_id(3)}/numbers")
    finally:
        code = stop_process(process, signal.SIGTERM)
    stderr = process.stderr.read().splitlines()
    process.stdout.close()
    process.stderr.close()
    assert code == 0
    assert answer.status_code == 200
    assert [n["number"] for n in answer.json()["results"]] == [seeded_number(3, 0), seeded_number(3, 1)]
    assert f"workspace {seeded_workspace_id(3)} organization {DEFAULT_ORGANIZATION_ID}" in stderr
    assert (f"numbers {seeded_number(3, 0)} to {seeded_number(3, 1)} in workspace {seeded_workspace_id(3)} "
            f"(sms,voice)") in stderr
