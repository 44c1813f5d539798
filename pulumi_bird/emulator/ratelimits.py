"""Bird's per-workspace rate limits, enforced over a sliding second, and the request-rate figures benchmarks read.

Bird allows each workspace 50 GET and 500 POST requests per second; beyond that it answers 429 and the
request was not carried out (bird-api.md, "Rate limits"). The emulator enforces this only when asked
(``BirdEmulator(rate_limits=True)``, ``--rate-limits``), so plain tests stay fast. Whether enforced or
not, it counts every GET and POST per workspace and keeps the peak number seen in any one-second window.

Choices where Bird says nothing:
- the window slides: a request is admitted when fewer than ``limit`` requests were *admitted* in the last
  second; refused requests take no slot (Bird did not process them);
- only GET and POST are limited and counted (Bird states no limit for PATCH or DELETE);
- the 429 carries ``Retry-After`` in whole seconds, rounded up (the header holds integers), and the exact
  wait in the Error body's ``details.retryAfterSeconds``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
import time
from typing import Callable, Deque, Dict, Optional, Tuple, Union

# Bird's limits are stated per second.
WINDOW_SECONDS = 1.0
# Bird's documented limits per workspace.
BIRD_GET_PER_SECOND = 50
BIRD_POST_PER_SECOND = 500
LIMITED_METHODS = ("GET", "POST")


@dataclasses.dataclass(frozen=True)
class RateLimits:
    """Requests per second a workspace may make, per method; ``None`` leaves that method unlimited."""

    get: Optional[int] = BIRD_GET_PER_SECOND
    post: Optional[int] = BIRD_POST_PER_SECOND

    def __post_init__(self) -> None:
        for name in ("get", "post"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"rate limit {name} must be a positive integer or None, not {value!r}")

    def for_method(self, method: str) -> Optional[int]:
        """The limit of ``method`` (None when it has none)."""
        return {"GET": self.get, "POST": self.post}.get(method.upper())


# What Bird enforces.
BIRD_RATE_LIMITS = RateLimits()

RateLimitsSetting = Union[None, bool, RateLimits]


def as_rate_limits(setting: RateLimitsSetting) -> Optional[RateLimits]:
    """``True`` -> Bird's limits, ``False``/``None`` -> no enforcement, a :class:`RateLimits` as given."""
    if setting is True:
        return BIRD_RATE_LIMITS
    if setting is None or setting is False:
        return None
    if isinstance(setting, RateLimits):
        return setting
    raise TypeError(f"rate_limits must be None, a bool or a RateLimits, not {type(setting).__name__}")


@dataclasses.dataclass(frozen=True)
class RateStats:
    """What one workspace sent: totals, peaks in any one-second window, and the 429s it got.

    ``peak_gets_per_second`` counts every GET that arrived (refused ones too): it is the rate the
    client sent, which is what a benchmark compares with Bird's 50/s. ``rate_limited_*`` count 429s
    from the limiter; ``too_many_requests`` counts every 429 answered to the workspace, injected faults
    included.
    """

    gets: int = 0
    posts: int = 0
    peak_gets_per_second: int = 0
    peak_posts_per_second: int = 0
    rate_limited_gets: int = 0
    rate_limited_posts: int = 0
    too_many_requests: int = 0

    def as_json(self) -> Dict[str, int]:
        """camelCase, for the emulator's stats endpoint."""
        return {
            "gets": self.gets,
            "posts": self.posts,
            "peakGetsPerSecond": self.peak_gets_per_second,
            "peakPostsPerSecond": self.peak_posts_per_second,
            "rateLimitedGets": self.rate_limited_gets,
            "rateLimitedPosts": self.rate_limited_posts,
            "tooManyRequests": self.too_many_requests,
        }


@dataclasses.dataclass
class _MethodWindow:
    arrived: Deque[float] = dataclasses.field(default_factory=collections.deque)
    admitted: Deque[float] = dataclasses.field(default_factory=collections.deque)
    total: int = 0
    peak: int = 0
    refused: int = 0


def _expire(window: Deque[float], now: float) -> None:
    while window and now - window[0] >= WINDOW_SECONDS:
        window.popleft()


class RateKeeper:
    """Sliding one-second windows per (workspace, method): admission under limits, totals and peaks.

    Thread-safe. Memory per workspace is bounded by what arrives within one second.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: Dict[Tuple[str, str], _MethodWindow] = {}
        self._too_many: Dict[str, int] = collections.Counter()

    def admit(self, workspace_id: str, method: str, limits: Optional[RateLimits]) -> Optional[float]:
        """Count one arriving request; None when admitted, else the seconds until the window frees a slot."""
        method = method.upper()
        if method not in LIMITED_METHODS:
            return None
        limit = limits.for_method(method) if limits is not None else None
        now = self._clock()
        with self._lock:
            window = self._windows.setdefault((workspace_id, method), _MethodWindow())
            _expire(window.arrived, now)
            _expire(window.admitted, now)
            window.arrived.append(now)
            window.total += 1
            window.peak = max(window.peak, len(window.arrived))
            if limit is not None and len(window.admitted) >= limit:
                window.refused += 1
                return max(0.0, window.admitted[-limit] + WINDOW_SECONDS - now)
            window.admitted.append(now)
            return None

    def count_too_many_requests(self, workspace_id: str) -> None:
        """Count a 429 answered to the workspace (from the limiter or an injected fault)."""
        with self._lock:
            self._too_many[workspace_id] += 1

    def stats(self, workspace_id: str) -> RateStats:
        """The figures of one workspace since the start or the last :meth:`reset`."""
        with self._lock:
            get = self._windows.get((workspace_id, "GET"), _MethodWindow())
            post = self._windows.get((workspace_id, "POST"), _MethodWindow())
            return RateStats(
                gets=get.total,
                posts=post.total,
                peak_gets_per_second=get.peak,
                peak_posts_per_second=post.peak,
                rate_limited_gets=get.refused,
                rate_limited_posts=post.refused,
                too_many_requests=self._too_many.get(workspace_id, 0),
            )

    def workspaces(self) -> Tuple[str, ...]:
        """The workspaces that sent a counted request or got a 429."""
        with self._lock:
            return tuple(sorted({ws for ws, _ in self._windows} | set(self._too_many)))

    def reset(self) -> None:
        """Forget every window, total, peak and 429 count."""
        with self._lock:
            self._windows.clear()
            self._too_many.clear()


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds (the header's form), rounded up, never 0 for a real wait."""
    return str(max(1, math.ceil(seconds - 1e-9)))
