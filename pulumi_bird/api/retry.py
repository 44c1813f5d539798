"""Retry decisions and backoff as small pure functions; the client is their only user."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Optional

# Methods whose repetition cannot create a second object. POST is not among them: a POST that failed after
# Bird may have committed it is resolved by the resource (look up, then adopt or remove), never by a blind
# retry. A 429 is retried for every method: Bird documents that a rate-limited request was not processed.
IDEMPOTENT_METHODS = frozenset({"GET", "DELETE", "PATCH", "HEAD"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long the client retries (docs/troubleshooting.md, "Rate limits and 5xx"): a 429 for
    ``total_seconds``, a 5xx or connection failure of a method safe to repeat ``max_attempts`` times in all."""

    max_attempts: int = 5
    total_seconds: float = 20.0
    # A bound on 429 retries whatever the clock says (the 20 s hold far fewer at the backoff's pace).
    max_rate_limited_attempts: int = 40
    base_delay: float = 0.2
    max_delay: float = 5.0
    # A Retry-After longer than this is not waited for: the error is raised instead.
    max_retry_after: float = 30.0


NO_RETRY = RetryPolicy(max_attempts=1, max_rate_limited_attempts=1)


def backoff_delay(attempt: int, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> float:
    """Full-jitter exponential backoff for retry number ``attempt`` (1-based): uniform in [d/2, d] with
    d = min(max_delay, base_delay * 2**(attempt-1)). The lower half bound keeps retries from firing at once."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
    return ceiling / 2 + rand() * ceiling / 2


def parse_retry_after(value: Optional[str], now: Optional[datetime] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or junk."""
    if not value:
        return None
    value = value.strip()
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def is_retryable(method: str, status: Optional[int]) -> bool:
    """Whether an answer (``status``) or a connection failure (``status`` None) may be retried."""
    return status == 429 or (method.upper() in IDEMPOTENT_METHODS and (status is None or status >= 500))
