"""A process-wide pace for GETs to one workspace, so that many channels waiting at once stay under Bird's
rate limit (GET: 50 requests per second per workspace; https://docs.bird.com/api/api-access/rate-limits)."""

from __future__ import annotations

import threading
import time
from typing import Callable

# Our share of Bird's 50 GET/s: other clients (the dashboard, other stacks) use the workspace too.
GETS_PER_SECOND = 30.0
# Requests that may go at once before the pace applies (a preview's worth of reads, a burst of polls).
BURST = 30.0


class TokenBucket:
    """``acquire()`` waits until a token is free; tokens refill at ``rate`` per second up to ``burst``."""

    def __init__(self, rate: float = GETS_PER_SECOND, burst: float = BURST, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens, self._stamp = burst, clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; the seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> None:
        wait = self.reserve()
        if wait > 0:
            sleep(wait)


_buckets: dict[tuple[str, str], TokenBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for(api_url: str, workspace_id: str) -> TokenBucket:
    """The one bucket of this process for GETs to ``workspace_id`` at ``api_url``."""
    key = (api_url, workspace_id)
    with _buckets_lock:
        if key not in _buckets:
            _buckets[key] = TokenBucket()
        return _buckets[key]
