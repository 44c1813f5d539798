"""Bird's per-workspace rate limits (bird-api.md: 50 GET and 500 POST per second, beyond that a 429 and nothing
done), enforced over a sliding second only when asked (docs/testing.md). Choices where Bird says nothing: refused
requests take no slot in the window (Bird did not process them); only GET and POST are limited and counted (Bird
states no limit for PATCH or DELETE); the exact wait is in the Error body's ``details.retryAfterSeconds``.
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
LIMITED_METHODS = ("GET", "POST")


@dataclasses.dataclass(frozen=True)
class RateLimits:
    """Requests per second a workspace may make, per method; ``None`` leaves that method unlimited. The defaults are
    Bird's documented limits per workspace."""

    get: Optional[int] = 50
    post: Optional[int] = 500

    def __post_init__(self) -> None:
        for name in ("get", "post"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"rate limit {name} must be a positive integer or None, not {value!r}")

    def for_method(self, method: str) -> Optional[int]:
        """The limit of ``method`` (None when it has none)."""
        return {"GET": self.get, "POST": self.post}.get(method.upper())


BIRD_RATE_LIMITS = RateLimits()

RateLimitsSetting = Union[None, bool, RateLimits]


def as_rate_limits(setting: RateLimitsSetting) -> Optional[RateLimits]:
    """``True`` -> Bird's limits, ``False``/``None`` -> no enforcement, a :class:`RateLimits` as given."""
    if setting is None or isinstance(setting, (bool, RateLimits)):
        return BIRD_RATE_LIMITS if setting is True else setting or None
    raise TypeError(f"rate_limits must be None, a bool or a RateLimits, not {type(setting).__name__}")


class RateKeeper:
    """Sliding one-second windows of admitted requests per (workspace, method), thread-safe. Admissions are kept
    while no limit is enforced too, so a limit set at run time counts the second so far."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: Dict[Tuple[str, str], Deque[float]] = {}

    def admit(self, workspace_id: str, method: str, limit: Optional[int]) -> Optional[float]:
        """None when admitted under ``limit`` (None: none; it takes a slot), else the seconds until a slot frees."""
        if method not in LIMITED_METHODS:  # as routed: upper case
            return None
        now = self._clock()
        with self._lock:
            window = self._windows.setdefault((workspace_id, method), collections.deque())
            while window and now - window[0] >= WINDOW_SECONDS:
                window.popleft()
            if limit is not None and len(window) >= limit:
                return max(0.0, window[-limit] + WINDOW_SECONDS - now)
            window.append(now)
            return None


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds (the header's form), rounded up, never 0 for a real wait."""
    return str(max(1, math.ceil(seconds - 1e-9)))
