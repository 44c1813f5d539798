"""Bird's rate limits on the emulator: sliding one-second windows per workspace and method, 429 with
Retry-After and an Error body beyond them, and the rate figures benchmarks read (tests/hostile_emulator.py).

A fake clock drives the windows, so every count here is exact whatever the machine's load.
"""

from __future__ import annotations

import uuid
from typing import Iterator, List

import pytest
import requests

from helpers import FakeClock, api_session, emulator_process
from hostile_emulator import HostileEmulator, RateCounter, RateStats
from openapi_schema import validate_named
from pulumi_bird.emulator import BIRD_RATE_LIMITS, DEFAULT_WORKSPACE_ID, RateLimits
from pulumi_bird.emulator.__main__ import build_parser, main, rate_limits_from
from pulumi_bird.emulator.ratelimits import retry_after_header
from pulumi_bird.emulator.responses import ApiRequest, ApiResponse

CONNECTORS = f"/workspaces/{DEFAULT_WORKSPACE_ID}/connectors"



class Api:
    """Raw HTTP against one in-process emulator whose clock the test holds."""

    def __init__(self, emulator: HostileEmulator, clock: FakeClock) -> None:
        self.emulator, self.clock = emulator, clock
        self.session = api_session(emulator.access_key)

    def get(self, path: str = CONNECTORS) -> requests.Response:
        return self.session.get(self.emulator.url + path)

    def post_webhook(self, workspace: str = DEFAULT_WORKSPACE_ID) -> requests.Response:
        # An unreadable body: admitted or refused by the limiter first, then a quick 400 from the handler.
        path = f"/organizations/{self.emulator.organization_id}/workspaces/{workspace}/webhook-subscriptions"
        return self.session.post(self.emulator.url + path, data=b"{")

    def gets(self, count: int) -> List[int]:
        return [self.get().status_code for _ in range(count)]


@pytest.fixture
def api() -> Iterator[Api]:
    clock = FakeClock(500.0)
    with HostileEmulator(provision_seconds=0, clock=clock) as emulator:
        http = Api(emulator, clock)
        with http.session:
            yield http


def assert_rate_limited(response: requests.Response, retry_after: str, wait: float) -> None:
    assert response.status_code == 429, response.text
    validate_named(response.json(), "Error")
    assert response.headers["Retry-After"] == retry_after
    assert response.json()["details"]["retryAfterSeconds"] == pytest.approx(wait, abs=1e-3)


def test_limits_are_off_by_default_but_the_rates_are_counted(api: Api) -> None:
    assert api.emulator.rate_limits is None
    assert api.gets(60) == [200] * 60
    stats = api.emulator.rate_stats()
    assert stats == RateStats(gets=60, peak_gets_per_second=60)


def test_birds_limits_refuse_the_51st_get_and_the_501st_post_in_a_second(api: Api) -> None:
    api.emulator.rate_limits = True
    assert api.emulator.rate_limits == BIRD_RATE_LIMITS == RateLimits(get=50, post=500)
    assert api.gets(50) == [200] * 50
    assert_rate_limited(api.get(), "1", 1.0)
    posts = [api.post_webhook().status_code for _ in range(501)]
    assert posts == [400] * 500 + [429]
    stats = api.emulator.rate_stats()
    assert (stats.gets, stats.rate_limited_gets, stats.peak_gets_per_second) == (51, 1, 51)
    assert (stats.posts, stats.rate_limited_posts, stats.peak_posts_per_second) == (501, 1, 501)
    assert stats.too_many_requests == 2


def test_the_window_slides_and_retry_after_says_when_a_slot_frees(api: Api) -> None:
    api.emulator.rate_limits = RateLimits(get=3, post=None)
    assert api.gets(2) == [200, 200]
    api.clock.now += 0.25  # steps that add up exactly in binary floating point
    assert api.gets(1) == [200]  # three admitted: at 0, 0 and 0.25
    assert_rate_limited(api.get(), "1", 0.75)  # the first two leave the window at 1.0
    api.clock.now += 0.5
    assert_rate_limited(api.get(), "1", 0.25)
    api.clock.now += 0.25
    assert api.gets(3) == [200, 200, 429]  # both slots of time 0 are free again, not the one of 0.25
    api.clock.now += 0.25
    assert api.gets(2) == [200, 429]
    assert api.emulator.rate_stats().rate_limited_gets == 4


def test_refused_requests_take_no_slot(api: Api) -> None:
    api.emulator.rate_limits = RateLimits(get=1)
    assert api.gets(5) == [200, 429, 429, 429, 429]
    api.clock.now += 1.0
    assert api.gets(1) == [200]  # the refused four did not extend the wait


def test_each_workspace_and_each_method_has_its_own_budget(api: Api) -> None:
    other = str(uuid.uuid4())
    api.emulator.backend.add_workspace(other, api.emulator.organization_id)
    api.emulator.rate_limits = RateLimits(get=2, post=1)
    assert api.gets(3) == [200, 200, 429]
    assert [api.get(f"/workspaces/{other}/connectors").status_code for _ in range(3)] == [200, 200, 429]
    assert [api.post_webhook().status_code for _ in range(2)] == [400, 429]
    assert [api.post_webhook(other).status_code for _ in range(2)] == [400, 429]
    deleted = api.session.delete(f"{api.emulator.url}{CONNECTORS}/{uuid.uuid4()}")
    assert deleted.status_code == 404  # DELETE is not limited
    assert api.emulator.rate_stats(other) == RateStats(
        gets=3, posts=2, peak_gets_per_second=3, peak_posts_per_second=2, rate_limited_gets=1,
        rate_limited_posts=1, too_many_requests=2,
    )


def test_limits_can_change_and_be_lifted_at_run_time(api: Api) -> None:
    api.emulator.rate_limits = RateLimits(get=1)
    assert api.gets(2) == [200, 429]
    api.emulator.rate_limits = None
    assert api.gets(3) == [200, 200, 200]
    api.emulator.rate_limits = RateLimits(get=2)
    assert_rate_limited(api.get(), "1", 1.0)  # four GETs were admitted in this second already


def test_injected_429s_count_too(api: Api) -> None:
    api.emulator.faults.add("GET", r"/connectors$", 429, times=2, retry_after=3)
    assert api.gets(3) == [429, 429, 200]
    stats = api.emulator.rate_stats()
    assert (stats.too_many_requests, stats.rate_limited_gets) == (2, 0)


def test_the_peak_is_the_most_requests_in_any_one_second_window() -> None:
    clock = FakeClock(500.0)
    counter = RateCounter(clock)
    request = ApiRequest("GET", f"/workspaces/{DEFAULT_WORKSPACE_ID}/connectors", {}, {})
    for moment in (0.0, 0.3, 0.6, 0.99, 1.0, 1.25, 2.5, 2.6):
        clock.now = 500.0 + moment
        counter(request, ApiResponse(200))
    # 0.3, 0.6, 0.99, 1.0 and 1.25 fit in [0.3, 1.3); 0.0 left the window at 1.0.
    assert counter.stats(DEFAULT_WORKSPACE_ID).peak_gets_per_second == 5
    assert counter.stats(DEFAULT_WORKSPACE_ID).gets == 8
    counter.reset()
    assert counter.stats(DEFAULT_WORKSPACE_ID) == RateStats()


@pytest.mark.parametrize("wait, header", [(0.001, "1"), (0.5, "1"), (1.0, "1"), (1.2, "2"), (0.0, "1")])
def test_retry_after_is_whole_seconds_rounded_up(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header


@pytest.mark.parametrize("limits", [{"get": 0}, {"post": -5}, {"get": 2.5}, {"get": True}])
def test_rate_limits_must_be_positive_integers(limits: dict) -> None:
    with pytest.raises(ValueError, match="must be a positive integer or None"):
        RateLimits(**limits)


def test_the_figures_reset_and_unauthorized_requests_are_not_counted(api: Api) -> None:
    api.emulator.rate_limits = RateLimits(get=2)
    api.gets(3)
    assert api.emulator.rate_stats() == RateStats(
        gets=3, peak_gets_per_second=3, rate_limited_gets=1, too_many_requests=1)
    with requests.Session() as stranger:
        stranger.trust_env = False
        assert stranger.get(api.emulator.url + CONNECTORS).status_code == 401
    assert api.emulator.rate_stats().gets == 3
    api.emulator.reset_rate_stats()
    assert api.emulator.rate_stats() == RateStats()


def test_the_emulator_users_get_has_no_stats_endpoint(api: Api) -> None:
    assert api.get("/_emulator/rate-stats").status_code == 404


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], None),
        (["--rate-limits"], RateLimits(get=50, post=500)),
        (["--get-rate", "30"], RateLimits(get=30, post=500)),
        (["--post-rate", "7"], RateLimits(get=50, post=7)),
        (["--rate-limits", "--get-rate", "10", "--post-rate", "20"], RateLimits(get=10, post=20)),
    ],
)
def test_the_command_line_sets_the_limits(argv: List[str], expected: RateLimits) -> None:
    assert rate_limits_from(build_parser().parse_args(argv)) == expected


@pytest.mark.parametrize(("argv", "named"), [
    (["--get-rate", "0"], "--get-rate"), (["--post-rate", "-1"], "--post-rate"),
    (["--provision-seconds", "-1"], "--provision-seconds"), (["--provision-seconds", "nan"], "--provision-seconds"),
    (["--release-seconds", "inf"], "--release-seconds"), (["--provision-reads", "-1"], "--provision-reads"),
    (["--workspaces", "0"], "--workspaces"), (["--numbers-per-workspace", "-1"], "--numbers-per-workspace"),
    (["--port", "70000"], "--port"), (["--workspaces", "two"], "--workspaces")])
def test_the_command_line_refuses_a_bad_number_naming_the_option(argv: List[str], named: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"error: argument {named}: " in capsys.readouterr().err


def test_the_cli_process_enforces_its_get_rate() -> None:
    with emulator_process(0.1, "--get-rate", "1") as running:
        url = f"{running.url}{CONNECTORS}"
        first = running.session.get(url)
        # One GET per second: the next one within the same second (a loopback round trip) is refused.
        statuses = [running.session.get(url).status_code for _ in range(3)]
    assert first.status_code == 200 and 429 in statuses
