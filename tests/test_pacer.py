"""The per-workspace GET budget (pulumi_bird.api.pacing) with an injected clock: no sliding second ever holds
more than the limit, the budget is used fully, a 429 slows the whole workspace, and callers go in order of
priority. No test here sleeps for real; the one ordering test, with threads, polls the line on a fake clock."""

from __future__ import annotations

import random
import threading

import pytest

from helpers import FakeClock
from pulumi_bird.api.pacing import RECOVERY_SECONDS, WINDOW_MARGIN, GetBudget, GetPacer
from pulumi_bird.provider import config


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The most sends in any half-open window (t - window, t]."""
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - window:
            first += 1
        best = max(best, last - first + 1)
    return best


def run(pacer: GetPacer, clock: FakeClock, arrivals: list[float]) -> list[float]:
    """Send one GET per arrival time (in order, one caller at a time); the times they were let go."""
    sent = []
    for at in arrivals:
        clock.now = max(clock.now, at)
        slot = pacer.acquire()
        slot.done()  # answered at once
        sent.append(slot.sent_at)
    return sent


@pytest.mark.parametrize("seed", range(5))
def test_no_sliding_second_ever_holds_more_than_the_limit(seed):
    rng = random.Random(seed)
    clock = FakeClock()
    pacer = GetPacer(50, clock=clock, sleep=clock.sleep)
    arrivals, t = [], 0.0
    for _ in range(2000):  # bursts, lulls and steady streams
        t += rng.choice([0.0, 0.0, 0.001, 0.01, 0.02, 0.3, 1.7])
        arrivals.append(t)
    sent = run(pacer, clock, arrivals)
    assert max_in_any_window(sent, 1.0 + WINDOW_MARGIN) <= 50
    # ... and it is used fully: each GET goes as soon as the window allows, never later
    for i, (at, went) in enumerate(zip(arrivals, sent)):
        earliest = max(at, sent[i - 50] + 1.0 + WINDOW_MARGIN) if i >= 50 else at
        assert went == pytest.approx(earliest), i


@pytest.mark.parametrize("seed", range(3))
def test_however_late_requests_arrive_no_second_at_bird_holds_more_than_the_limit(seed):
    """GETs reach Bird after a random delay and answer after another: Bird's count, taken at arrival, never
    exceeds the limit in any sliding second, and the budget still goes at nearly the full rate."""
    rng = random.Random(seed)
    clock = FakeClock()
    pacer = GetPacer(50, clock=clock, sleep=clock.sleep)
    arrivals: list[float] = []
    answers: list[tuple[float, int, object]] = []  # (answer time, tiebreak, slot)
    waiting, order = 400, 0
    for _ in range(100_000):
        while waiting and (slot := pacer.take(clock.now)) is not None:
            waiting -= 1
            arrive = clock.now + rng.uniform(0.0, 0.08)  # up to 80 ms on the way, far beyond the margin
            arrivals.append(arrive)
            order += 1
            answers.append((arrive + rng.uniform(0.0, 0.05), order, slot))
        answers.sort(key=lambda a: a[:2])
        if not waiting and not answers:
            break
        next_free = pacer.next_free(clock.now) if waiting else float("inf")
        if answers and answers[0][0] <= next_free:
            clock.now = max(clock.now, answers[0][0])
            answers.pop(0)[2].done()
        else:
            clock.now = next_free
    assert waiting == 0 and len(arrivals) == 400
    assert max_in_any_window(arrivals, 1.0) <= 50
    assert clock.now < 400 / 50 * 1.2  # a round trip per window is all it costs


def test_gets_on_their_way_count_until_answered_and_then_a_window_more():
    clock = FakeClock()
    pacer = GetPacer(2, clock=clock, sleep=clock.sleep)
    first, second = pacer.take(0.0), pacer.take(0.0)
    assert first is not None and second is not None and pacer.take(0.0) is None
    assert pacer.next_free(0.0) == float("inf")  # both still on their way: wait for an answer
    clock.now = 0.4
    first.done()
    assert pacer.next_free(0.4) == pytest.approx(0.4 + pacer.window)  # one on its way + one answered at 0.4
    clock.now = 0.5
    second.done()
    second.done()  # twice is once
    assert pacer.next_free(0.5) == pytest.approx(0.4 + pacer.window)
    assert pacer.next_free(2.0) == 2.0


def test_a_burst_takes_the_whole_budget_at_once_then_the_steady_limit():
    clock = FakeClock()
    pacer = GetPacer(50, clock=clock, sleep=clock.sleep)
    sent = run(pacer, clock, [0.0] * 200)
    window = 1.0 + WINDOW_MARGIN
    assert sent == pytest.approx([(i // 50) * window for i in range(200)])


@pytest.mark.parametrize("limit", [1, 7, 50])
def test_the_limit_is_settable(limit):
    clock = FakeClock()
    pacer = GetBudget(limit, clock=clock, sleep=clock.sleep).for_workspace("ws")
    sent = run(pacer, clock, [0.0] * (3 * limit))
    assert max_in_any_window(sent, 1.0 + WINDOW_MARGIN) == limit


def test_workspaces_have_budgets_of_their_own():
    clock = FakeClock()
    budget = GetBudget(2, clock=clock, sleep=clock.sleep)
    run(budget.for_workspace("a"), clock, [0.0, 0.0])
    assert budget.for_workspace("a") is budget.for_workspace("a")
    assert budget.for_workspace("b").acquire().sent_at == 0.0  # "a" being spent does not hold "b"
    assert budget.for_workspace("a").next_free(0.0) == pytest.approx(1.0 + WINDOW_MARGIN)


def test_a_429_holds_the_workspace_for_retry_after_and_halves_the_limit():
    clock = FakeClock()
    pacer = GetPacer(50, clock=clock, sleep=clock.sleep)
    clock.now = 10.0
    pacer.slow_down(retry_after=3.0)
    assert pacer.next_free(10.0) == 13.0
    assert pacer.current_limit(13.0) == 25
    sent = run(pacer, clock, [10.0] * 60)
    assert sent[:25] == [13.0] * 25 and sent[25] >= 14.0  # half the budget in the first window after the hold
    # the limit grows back to the configured one
    assert pacer.current_limit(13.0 + RECOVERY_SECONDS / 2) == 37
    assert pacer.current_limit(13.0 + RECOVERY_SECONDS) == 50


def test_a_429_without_retry_after_holds_one_window_and_repeated_429s_keep_slowing():
    clock = FakeClock()
    pacer = GetPacer(50, clock=clock, sleep=clock.sleep)
    pacer.slow_down(None)
    assert pacer.next_free(0.0) == pytest.approx(pacer.window)
    pacer.slow_down(None)
    pacer.slow_down(None)
    assert pacer.current_limit(clock.now) == 6 and pacer.rate_limited == 3
    for _ in range(20):
        pacer.slow_down(None)
    assert pacer.current_limit(clock.now) == 5  # never below a tenth


def test_the_limit_must_be_at_least_one():
    with pytest.raises(ValueError, match="at least 1 per second"):
        GetBudget(0.5)


def test_callers_go_in_order_of_priority_not_arrival():
    clock = FakeClock(0.0)  # moved by hand: the slot frees only once both callers are in line
    pacer = GetPacer(1, window=0.3, clock=clock)
    pacer.acquire().done()  # spends the budget: the next slot is 0.3 s away on this clock
    order: list[str] = []

    def caller(name: str, priority: float) -> None:
        slot = pacer.acquire(priority)
        order.append(name)
        slot.done()

    late = threading.Thread(target=caller, args=("due later", 1e9))
    late.start()
    early = threading.Thread(target=caller, args=("due first", -1e9))
    early.start()
    for _ in range(3000):  # a bounded poll (30 s at most): both in line
        with pacer._lock:
            if len(pacer._line) == 2:
                break
        threading.Event().wait(0.01)
    else:
        pytest.fail("the callers never both queued")
    clock.now = 1.0  # the slot frees: the first in line takes it at its next look at the clock
    for _ in range(3000):
        if order:
            break
        threading.Event().wait(0.01)
    clock.now = 100.0  # and the next one
    late.join(30)
    early.join(30)
    assert order == ["due first", "due later"]


def test_config_sets_the_rate_and_checks_it(monkeypatch):
    monkeypatch.delenv("BIRD_GET_RATE_LIMIT", raising=False)
    assert config.current_settings({}).get_rate_limit == 50
    assert config.current_settings({"bird:getRateLimit": "20"}).get_rate_limit == 20
    monkeypatch.setenv("BIRD_GET_RATE_LIMIT", "12.5")
    assert config.current_settings({}).get_rate_limit == 12.5
    for bad in ("0", "51", "fast", "nan"):
        with pytest.raises(config.ConfigError, match="bird:getRateLimit / BIRD_GET_RATE_LIMIT must be a number"):
            config.current_settings({"bird:getRateLimit": bad})
    assert ("bird:getRateLimit", "BIRD_GET_RATE_LIMIT") in config.ALL_KEYS


def test_the_provider_shares_one_budget_per_api_and_limit():
    first = config.get_budget("http://127.0.0.1:1", 50)
    assert config.get_budget("http://127.0.0.1:1", 50) is first
    assert config.get_budget("http://127.0.0.1:1", 20) is not first
    assert config.get_budget("http://127.0.0.1:2", 50) is not first
    client = config.make_client(config.Settings(access_key="k-1234", api_url="http://127.0.0.1:1"))
    assert client.get_budget is first


# --- through the provider host, against the emulator with Bird's limits ---------------------------------------


def test_the_host_keeps_to_bird_get_rate_limit_and_a_429_slows_the_workspace():
    """bird:getRateLimit reaches the host; no second holds more GETs than it; an injected 429 with Retry-After
    on one channel's status holds the polls of every channel of the workspace."""
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from engine_double import ProviderHost, registered_inputs
    from pulumi_bird import VoiceChannel
    from pulumi_bird.emulator import BirdEmulator

    count, limit = 12, 5
    with BirdEmulator(provision_seconds=0.0, rate_limits=True) as emu:
        config = {"bird:accessKey": emu.access_key, "bird:apiUrl": emu.url, "bird:workspaceId": emu.workspace_id,
                  "bird:getRateLimit": str(limit)}
        names = [f"v{i}" for i in range(count)]
        regs = registered_inputs(lambda: [VoiceChannel(n, phone_number_id=str(uuid.uuid4())) for n in names])
        with ProviderHost(config=config) as host:
            checked = [host.check(regs[n].urn, regs[n].inputs).inputs for n in names]
            emu.faults.add("GET", r"/status$", 429, retry_after=2)  # the first status poll of the workspace
            emu.clear_requests()
            with ThreadPoolExecutor(count) as pool:
                results = list(pool.map(lambda i: host.create(regs[names[i]].urn, checked[i]), range(count)))
        gets = sorted(r.started for r in emu.requests if r.method == "GET")
        limited = [r.finished for r in emu.requests if r.status == 429]
    assert all(r.outs["channel_id"] for r in results)
    assert max_in_any_window(gets) <= limit, gets
    assert len(limited) == 1
    # once the 429 was answered, nothing of the workspace was read during its Retry-After, whoever's poll it
    # was (GETs already on their way when it was answered may arrive just after: 0.1 s of slack)
    assert not [t for t in gets if limited[0] + 0.1 < t < limited[0] + 1.9], (limited, gets)
