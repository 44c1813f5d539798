"""Reads that meet in one process are answered from list pages (pulumi_bird.api.reads), against the emulator.

The readers below keep a fixed number of reads in flight, each starting when another ends, as the engine's
step executor does with ``--parallel``; the last test goes through the SDK's provider host.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

import pytest

from hostile_emulator import HostileEmulator
from pulumi_bird.api import reads
from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.pacing import GetBudget
from pulumi_bird.api.retry import RetryPolicy
from pulumi_bird.emulator import BirdEmulator

SMS = "sms-messagebird:1"


@pytest.fixture
def emu() -> Iterator[BirdEmulator]:
    with BirdEmulator(provision_seconds=0.0) as e:
        yield e


def client_of(emu: BirdEmulator) -> BirdClient:
    return BirdClient(emu.access_key, emu.url, retry=RetryPolicy(max_attempts=2, base_delay=0.01))


def seed_connectors(emu: BirdEmulator, count: int) -> list[str]:
    return [emu.backend.create_connector(emu.workspace_id, {
        "name": f"c{i}", "connectorTemplateRef": SMS,
        "arguments": {"phoneNumberId": str(uuid.uuid4()), "channelMessageType": "transactional"}})["id"]
        for i in range(count)]


def seed_subscriptions(emu: BirdEmulator, count: int) -> list[str]:
    return [emu.backend.create_webhook(emu.organization_id, emu.workspace_id, {
        "service": "channels", "event": "channel.updated", "url": f"https://hooks{i}.example.com/bird",
        "eventFilters": [{"key": "channelId", "value": str(uuid.uuid4())}]})["id"]
        for i in range(count)]


def in_flight(work: list[Callable[[], Any]], parallel: int) -> list[Any]:
    """Run ``work`` with ``parallel`` at a time, each next one starting as one ends (the engine's way)."""
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda job: job(), work))


def kinds(emu: BirdEmulator) -> dict[str, int]:
    counted = {"list": 0, "by_id": 0, "status": 0}
    for r in emu.requests:
        if r.method != "GET":
            continue
        if r.path.endswith(("/connectors", "/webhook-subscriptions")):
            counted["list"] += 1
        elif r.path.endswith("/status"):
            counted["status"] += 1
        else:
            counted["by_id"] += 1
    return counted


def test_at_32_in_flight_reads_travel_in_waves_answered_by_one_listing_each(emu):
    """The status GETs are paced at 50/s, so reads end (and the next ones arrive) one by one: the batches must
    wait for the reads still working, not only for the first few milliseconds."""
    count = 160  # 2 pages
    ids = seed_connectors(emu, count)
    client = BirdClient(emu.access_key, emu.url, get_budget=GetBudget(50))
    emu.clear_requests()
    answers = in_flight([lambda cid=cid: reads.read_connector(client, emu.workspace_id, cid) for cid in ids], 32)
    assert [c.id for c, _ in answers] == ids
    assert all(s is not None and s.channel is not None for _, s in answers)
    counted = kinds(emu)
    assert counted["status"] == count  # one status GET per connector, as before
    # one by one: 160 GETs of connectors. Waves of ~32 reads cost 2 pages each: 10 in all.
    assert counted["list"] + counted["by_id"] <= 2 * count / 32 * 1.5, counted


def test_every_change_made_out_of_band_is_seen(emu):
    connectors, subscriptions = seed_connectors(emu, 40), seed_subscriptions(emu, 40)
    ws, org = emu.workspace_id, emu.organization_id
    client = client_of(emu)
    in_flight([lambda cid=cid: reads.find_connector(client, ws, cid) for cid in connectors], 16)  # pages known
    emu.backend._connectors[ws][connectors[3]].name = "renamed in the dashboard"
    emu.backend.delete_connector(ws, connectors[7])
    emu.backend.update_webhook(org, ws, subscriptions[5], {"url": "https://moved.example.com/bird"})
    emu.backend.delete_webhook(org, ws, subscriptions[9])
    work = [lambda cid=cid: reads.find_connector(client, ws, cid) for cid in connectors]
    work += [lambda sid=sid: reads.find_subscription(client, org, ws, sid) for sid in subscriptions]
    emu.clear_requests()
    found = in_flight(work, 16)
    got_connectors, got_subscriptions = found[:40], found[40:]
    assert got_connectors[3].name == "renamed in the dashboard"
    assert got_connectors[7] is None and got_subscriptions[9] is None
    assert got_subscriptions[5].url == "https://moved.example.com/bird"
    assert [c.id for c in got_connectors if c] == [c for i, c in enumerate(connectors) if i != 7]
    assert kinds(emu)["by_id"] <= 2 + 2  # the two deleted ones confirmed by id (a few lone reads may GET theirs)


def test_a_read_is_never_answered_from_a_listing_that_began_before_it(emu):
    ids = seed_connectors(emu, 3)
    ws = emu.workspace_id
    client = client_of(emu)
    workspace = reads.WorkspaceReads()
    listed, release = threading.Event(), threading.Event()

    def slow_listing(c: BirdClient) -> Iterator[Any]:
        items = list(c.list_connectors(ws))  # what Bird had when the listing began
        listed.set()
        release.wait(10)
        return iter(items)

    kind = reads.Kind(("connectors",), slow_listing, lambda c, cid: c.find_connector(ws, cid))

    def read(cid: str) -> Any:
        with workspace.reading():
            return workspace.find(kind, client, cid)

    with ThreadPoolExecutor(3) as pool:
        first = [pool.submit(read, cid) for cid in ids[:2]]
        assert listed.wait(10)
        emu.backend._connectors[ws][ids[0]].name = "renamed after the listing began"
        later = pool.submit(read, ids[0])
        for _ in range(1000):  # until the later read waits in a batch of its own
            if workspace.waiting == 1:
                break
            threading.Event().wait(0.01)
        else:
            pytest.fail("the later read never waited for a batch of its own")
        release.set()
        assert first[0].result(10).name == "c0"  # asked before the change: either answer is fresh enough
        assert later.result(10).name == "renamed after the listing began"


def test_a_failing_listing_falls_back_to_reads_by_id(emu):
    ids = seed_connectors(emu, 20)
    client = client_of(emu)
    emu.faults.add("GET", r"/connectors$", 500, times=None)
    emu.clear_requests()
    found = in_flight([lambda cid=cid: reads.find_connector(client, emu.workspace_id, cid) for cid in ids], 20)
    assert [c.id for c in found] == ids
    assert kinds(emu)["by_id"] == 20


def test_a_listing_costs_no_more_than_the_reads_it_replaces(emu):
    ids = seed_connectors(emu, 250)  # 3 pages
    client = client_of(emu)
    ws = emu.workspace_id
    emu.clear_requests()
    assert reads.find_connector(client, ws, ids[0]).id == ids[0]
    assert kinds(emu) == {"list": 0, "by_id": 1, "status": 0}  # a lone read: its own GET
    emu.clear_requests()
    pair = in_flight([lambda cid=cid: reads.find_connector(client, ws, cid) for cid in (ids[1], ids[-1])], 2)
    assert [c.id for c in pair] == [ids[1], ids[-1]]
    # the page count is not known yet: one page at most (n - 1), then the read it did not find GETs its own
    assert kinds(emu)["list"] <= 1 and sum(kinds(emu).values()) <= 2 + 1
    emu.clear_requests()
    pair = in_flight([lambda cid=cid: reads.find_connector(client, ws, cid) for cid in (ids[2], ids[-2])], 2)
    assert kinds(emu) == {"list": 0, "by_id": 2, "status": 0}  # now known to take more pages than 2 reads


def test_through_the_host_a_refresh_at_16_in_flight_sees_every_change_in_few_gets_and_connections():
    """The acceptance in small: N channels and N subscriptions, 16 in flight, Bird's limits enforced."""
    from engine_double import ProviderHost, registered_inputs
    from pulumi_bird import SmsChannel, WebhookSubscription

    count, parallel = 64, 16
    with HostileEmulator(provision_seconds=0.0, rate_limits=True) as emu:  # it counts the request rates
        ws, org = emu.workspace_id, emu.organization_id
        connectors, subscriptions = seed_connectors(emu, count), seed_subscriptions(emu, count)
        regs = registered_inputs(lambda: (
            SmsChannel("sms", phone_number_id=str(uuid.uuid4()), channel_message_type="transactional"),
            WebhookSubscription("hook", service="channels", event="channel.updated", url="https://a.example.com")))
        state = {"workspace_id": ws, "organization_id": org}
        emu.backend._connectors[ws][connectors[1]].name = "renamed"
        emu.backend.delete_connector(ws, connectors[2])
        emu.backend.update_webhook(org, ws, subscriptions[3], {"url": "https://moved.example.com/bird"})
        config = {"bird:accessKey": emu.access_key, "bird:apiUrl": emu.url, "bird:workspaceId": ws,
                  "bird:organizationId": org}
        with ProviderHost(config=config) as host:
            def refresh(reg: Any, rid: str) -> Callable[[], Any]:
                props = {**reg.inputs, **state}
                return lambda: host.read(reg.urn, rid, properties=props, inputs=props, timeout=60)

            work = [refresh(regs["sms"], cid) for cid in connectors] + [refresh(regs["hook"], s) for s in subscriptions]
            emu.clear_requests()
            emu.reset_rate_stats()
            opened = emu.connections_opened
            results = in_flight(work, parallel)
            connections = emu.connections_opened - opened
        stats = emu.rate_stats()
        gets = sum(1 for r in emu.requests if r.method == "GET")
    assert results[1].outs["name"] == "renamed" and results[2].id == ""
    assert results[count + 3].outs["url"] == "https://moved.example.com/bird"
    assert all(r.id for i, r in enumerate(results) if i != 2)
    assert stats.rate_limited_gets + stats.too_many_requests == 0
    assert gets <= 1.1 * count + 6 * (2 * count / parallel), gets  # one-by-one: 3 x count
    assert connections <= 2 * parallel, connections  # one per request: 3 x count


