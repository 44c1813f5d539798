"""The readiness waiter and scheduler with an injected clock and sleep (no real waiting), over ``responses``:
the poll schedule, every terminal state of the waiter, tolerated hiccups, and the per-workspace scheduler."""

from __future__ import annotations

import itertools
import json

import pytest
import requests
import responses

from helpers import API, CID, CONNECTORS, KEY, WS, FakeClock, poll_schedule
from pulumi_bird.api import errors
from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.connectors import wait_connector_ready
from pulumi_bird.api.pacing import WINDOW_MARGIN, GetBudget
from pulumi_bird.api.readiness import (
    FIRST_POLL_DELAY,
    NOT_FOUND_GRACE,
    POLL_MAX_INTERVAL,
    POLL_MIN_INTERVAL,
    SIBLING_GAP,
    SIBLING_MAX_HOLD,
    ReadinessScheduler,
    poll_interval,
    scheduler_for,
)
from pulumi_bird.api.retry import NO_RETRY

STATUS = f"{CONNECTORS}/{CID}/status"


def channel(status: str, stage: str, **extra) -> dict:
    return {"channel": {"status": status, "stage": stage, **extra}}


PENDING = channel("pending", "provisioning")
ACTIVE = channel("ok", "active", channelId="ch-1")


def active_after(clock: FakeClock, seconds: float, polls: list[float]):
    """A status endpoint whose channel is active ``seconds`` after the fake clock's start; records poll times."""
    def answer(_request):
        polls.append(clock.now)
        return 200, {}, json.dumps(ACTIVE if clock.now >= seconds else PENDING)
    return answer


def waiter(clock: FakeClock, **kwargs):
    client = BirdClient(KEY, API, sleep=clock.sleep, clock=clock, **kwargs)
    return lambda timeout=600.0: wait_connector_ready(client, WS, CID, timeout, sleep=clock.sleep, clock=clock)


# --- the schedule ---------------------------------------------------------------------------------------------


def test_the_first_poll_waits_and_intervals_stay_in_bounds():
    times = poll_schedule(600)
    assert times[0] == FIRST_POLL_DELAY > 0  # never right after the POST: that poll always misses
    gaps = [round(b - a, 9) for a, b in itertools.pairwise(times)]
    assert all(POLL_MIN_INTERVAL <= g <= POLL_MAX_INTERVAL for g in gaps)
    assert gaps == sorted(gaps)  # slower channels are polled less often
    assert poll_interval(0) == POLL_MIN_INTERVAL and poll_interval(10_000) == POLL_MAX_INTERVAL


@pytest.mark.parametrize("active_after_s,max_late,max_polls", [(3.0, 0.75, 10), (60.0, 4.5, 23)])
def test_the_schedule_meets_the_single_channel_figures(active_after_s, max_late, max_polls):
    times = poll_schedule(active_after_s)
    assert times[-1] - active_after_s <= max_late and len(times) <= max_polls
    # whenever between 1 s and 10 min the channel becomes active, it is seen at most 26 % or 4.5 s late
    for tenth in range(10, 6000, 7):
        seen = next(t for t in poll_schedule(tenth / 10) if t >= tenth / 10)
        assert seen - tenth / 10 <= max(POLL_MIN_INTERVAL, min(POLL_MAX_INTERVAL, 0.26 * seen)) + 1e-9


# --- the waiter's states --------------------------------------------------------------------------------------


@responses.activate
def test_ready_returns_the_status_after_polls_on_the_schedule(clock):
    polls: list[float] = []
    responses.add_callback(responses.GET, STATUS, callback=active_after(clock, 3.0, polls))
    status = waiter(clock)()
    assert status.channel.ready and status.channel.channel_id == "ch-1"
    assert polls == pytest.approx(poll_schedule(3.0))


@responses.activate
def test_error_raises_with_birds_message_and_stops_polling(clock):
    responses.get(STATUS, json=PENDING)
    responses.get(STATUS, json=channel("error", "provisioning", errorMessage="number lacks SMS capability"))
    with pytest.raises(errors.ReadinessError, match=r"failed to provision \(status error, stage provisioning\): number lacks SMS capability") as caught:
        waiter(clock)()
    assert not caught.value.timed_out and caught.value.connector_id == CID
    assert len(responses.calls) == 2


@responses.activate
def test_a_channel_going_away_is_a_failure(clock):
    responses.get(STATUS, json=channel("pending", "deprovisioning"))
    with pytest.raises(errors.ReadinessError, match="Bird gave no reason"):
        waiter(clock)()


@responses.activate
def test_timeout_raises_timed_out_after_a_last_poll_at_the_deadline(clock):
    polls: list[float] = []
    responses.add_callback(responses.GET, STATUS, callback=active_after(clock, 1e9, polls))
    with pytest.raises(errors.ReadinessError, match=r"was not active after 20s \(status pending, stage provisioning\); raise ready_timeout") as caught:
        waiter(clock)(20.0)
    assert caught.value.timed_out
    assert polls[-1] == pytest.approx(20.0) and clock.now == pytest.approx(20.0)
    assert polls[:-1] == pytest.approx([t for t in poll_schedule(20.0) if t < 20.0])


@responses.activate
def test_transient_failures_count_as_not_ready_yet(clock):
    responses.get(STATUS, status=503, json={"code": "UNAVAILABLE", "message": "try later"})
    responses.get(STATUS, body=requests.ConnectionError("reset"))
    responses.get(STATUS, status=200, body="<html>proxy</html>", content_type="text/html")
    responses.get(STATUS, json=ACTIVE)
    assert waiter(clock, retry=NO_RETRY)().channel.ready
    assert len(responses.calls) == 4


@responses.activate
def test_timeout_after_failures_names_the_last_failure(clock):
    responses.get(STATUS, status=503, json={"code": "UNAVAILABLE", "message": "try later"})
    with pytest.raises(errors.ReadinessError, match=r"last poll failed: Bird failed to handle the request") as caught:
        waiter(clock)(3.0)
    assert caught.value.timed_out


@responses.activate
def test_not_found_is_not_yet_at_first_then_an_error(clock):
    responses.get(STATUS, status=404, json={"code": "NOT_FOUND", "message": "no such connector"})
    with pytest.raises(errors.NotFoundError):
        waiter(clock)()
    assert NOT_FOUND_GRACE < clock.now < NOT_FOUND_GRACE + POLL_MAX_INTERVAL + 1
    assert len(responses.calls) > 1


# --- the scheduler --------------------------------------------------------------------------------------------


def test_turns_are_due_in_order_and_rescheduled_from_when_they_really_polled(clock):
    scheduler = ReadinessScheduler(clock=clock, sleep=clock.sleep)
    first = scheduler.register("c1")
    clock.now = 0.3
    second = scheduler.register("c2")
    assert [t.connector_id for t in scheduler.waiting()] == ["c1", "c2"]
    assert (first.due, second.due) == (FIRST_POLL_DELAY, 0.3 + FIRST_POLL_DELAY)
    assert first.wait(deadline=100) == FIRST_POLL_DELAY and clock.now == FIRST_POLL_DELAY
    clock.now = 4.0  # the budget held the poll back: the next one is due an interval from when it went out
    first.polled()
    assert first.due == pytest.approx(4.0 + poll_interval(4.0)) and first.polls == 1
    assert [t.connector_id for t in scheduler.waiting()] == ["c2", "c1"]
    with second:
        pass
    assert [t.connector_id for t in scheduler.waiting()] == ["c1"]
    assert scheduler.polls == 1


def test_a_wait_never_sleeps_past_the_deadline(clock):
    turn = ReadinessScheduler(clock=clock, sleep=clock.sleep).register("c1")
    assert turn.wait(deadline=0.2) == 0.2 and clock.now == 0.2


def test_one_scheduler_per_workspace_budget():
    budget = GetBudget(50)
    a, b = budget.for_workspace("a"), budget.for_workspace("b")
    assert scheduler_for(a) is scheduler_for(a)
    assert scheduler_for(b) is not scheduler_for(a)
    assert scheduler_for(None) is not scheduler_for(None)  # no budget: nothing shared


@responses.activate
def test_polls_queue_for_the_workspace_budget_with_their_due_time(clock):
    budget = GetBudget(1, clock=clock, sleep=clock.sleep)
    pacer = budget.for_workspace(WS)
    polls: list[float] = []
    responses.add_callback(responses.GET, STATUS, callback=active_after(clock, 1.2, polls))
    pacer.acquire().done()  # another GET of the workspace at 0 s
    pacer.acquire().done()  # and one at 1.01 s, when the waiter starts: its first poll (due 1.51 s) waits until 2.02 s
    priorities: list = []
    acquire = pacer.acquire
    pacer.acquire = lambda priority=None, **kw: (priorities.append(priority), acquire(priority, **kw))[1]  # type: ignore[method-assign]
    status = waiter(clock, get_budget=budget)()
    assert status.channel.ready
    assert polls == pytest.approx([2 * (1 + WINDOW_MARGIN)])
    assert priorities == pytest.approx([1 + WINDOW_MARGIN + FIRST_POLL_DELAY])  # queued as of its due time


# --- siblings -------------------------------------------------------------------------------------------------


def test_an_older_siblings_miss_holds_a_younger_channels_poll(clock):
    scheduler = ReadinessScheduler(clock=clock, sleep=clock.sleep)
    older = scheduler.register("older")
    clock.now = 0.4
    younger = scheduler.register("younger")
    clock.now = 1.5
    older.polled(not_ready=True)  # still provisioning at age 1.5: the younger one cannot be ready before 1.5 + 0.5
    assert scheduler.eligible_at(younger) == pytest.approx(0.4 + 1.5 + poll_interval(1.5))
    assert scheduler.eligible_at(older) == older.due  # a younger sibling's evidence never holds an older one
    assert younger.wait(deadline=100) == pytest.approx(2.4) and clock.now == pytest.approx(2.4)


def test_a_hold_is_bounded_and_needs_a_sibling_still_waiting(clock):
    scheduler = ReadinessScheduler(clock=clock, sleep=clock.sleep)
    slow = scheduler.register("slow")
    clock.now = 0.1
    fast = scheduler.register("fast")
    clock.now = 60.0
    slow.polled(not_ready=True)
    assert scheduler.eligible_at(fast) == fast.due + SIBLING_MAX_HOLD  # a slow sibling delays it at most this
    slow.polled(not_ready=False)  # a failed poll is no evidence: the old evidence stands
    assert slow.not_ready_at_age == pytest.approx(60.0)
    with slow:
        pass
    assert scheduler.eligible_at(fast) == fast.due  # a sibling that is done holds nothing


def test_channels_created_apart_are_not_siblings(clock):
    scheduler = ReadinessScheduler(clock=clock, sleep=clock.sleep)
    first = scheduler.register("first")
    clock.now = SIBLING_GAP + 0.1
    later = scheduler.register("later")
    first.polled(not_ready=True)
    assert scheduler.eligible_at(later) == later.due


@responses.activate
def test_the_waiter_reports_not_ready_and_waits_out_a_siblings_hold(clock):
    scheduler = ReadinessScheduler(clock=clock, sleep=clock.sleep)
    sibling = scheduler.register("sibling")
    clock.now = 1.0
    sibling.polled(not_ready=True)  # age 1.0: channels registered now are held until age 1.5
    twin = scheduler.register("twin")  # registered with the waiter below: the waiter's misses hold it
    polls: list[float] = []
    twin_eligible: list[float] = []
    answer = active_after(clock, 3.5, polls)

    def status(request):
        twin_eligible.append(scheduler.eligible_at(twin))
        return answer(request)

    responses.add_callback(responses.GET, STATUS, callback=status)
    client = BirdClient(KEY, API, sleep=clock.sleep, clock=clock)
    assert wait_connector_ready(client, WS, CID, 600, clock=clock, sleep=clock.sleep, scheduler=scheduler).channel.ready
    assert polls == pytest.approx([2.5, 3.0, 3.0 + poll_interval(2.0)])  # held to age 1.5 by the sibling, then its own schedule
    # the waiter reported each "still provisioning" as evidence: at its second poll (age 2.0) the twin is held
    # by its miss at age 1.5, not just by the sibling's at age 1.0
    assert twin_eligible[1] == pytest.approx(1.0 + 1.5 + poll_interval(1.5))


@responses.activate
def test_a_wait_registers_with_the_scheduler_of_its_workspace_budget():
    budget = GetBudget(50)
    client = BirdClient(KEY, API, get_budget=budget)
    shared = scheduler_for(budget.for_workspace(WS))
    seen: list[list[str]] = []

    def status(_request):
        seen.append([t.connector_id for t in shared.waiting()])
        return 200, {}, json.dumps(ACTIVE)

    responses.add_callback(responses.GET, STATUS, callback=status)
    assert wait_connector_ready(client, WS, CID, 10.0).channel.ready  # the real clock: one poll, 0.5 s in
    assert seen == [[CID]] and shared.waiting() == [] and shared.polls == 1
