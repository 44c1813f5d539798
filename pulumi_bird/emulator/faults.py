"""Fault injection for the Bird emulator: canned error answers, latency, failing channels, a GET rate limit.

Tests reach these through ``emu.faults`` and ``emu.get_rate_limit``; the server consults them on every
request (see ``server.py`` for the order in which they apply).
"""

from __future__ import annotations

import collections
import dataclasses
import re
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Pattern

from pulumi_bird.emulator.models import BirdBackend

# The window of the GET rate limit: Bird states its limits per second.
RATE_WINDOW_SECONDS = 1.0


@dataclasses.dataclass
class FaultRule:
    """The next ``remaining`` requests matching ``method`` and ``path`` get ``status`` instead of an answer.

    ``remaining=None`` means every matching request. With ``commit`` the request is carried out first and
    the error returned afterwards, the way a gateway timeout can hide a write that did happen.
    """

    method: str
    path: Pattern[str]
    status: int
    remaining: Optional[int]
    retry_after: Optional[float] = None
    commit: bool = False
    body: Optional[Dict[str, Any]] = None

    def matches(self, method: str, path: str) -> bool:
        """Same method (or ``*``) and the pattern found in the path (``re.search``; anchor it to be exact)."""
        return self.method in ("*", method.upper()) and self.path.search(path) is not None


class Faults:
    """The faults of one emulator. Thread-safe; rules apply in the order they were added."""

    def __init__(self, backend: BirdBackend) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._rules: List[FaultRule] = []
        self.latency = 0.0

    @property
    def latency(self) -> float:
        """Seconds the server waits before it writes each response."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self._latency = float(seconds)

    def add(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: Optional[int] = 1,
        retry_after: Optional[float] = None,
        commit: bool = False,
        body: Optional[Dict[str, Any]] = None,
    ) -> FaultRule:
        """Answer the next ``times`` requests matching ``method`` and ``path_regex`` with ``status``.

        The answer carries an Error body (``body`` replaces it) and, with ``retry_after``, a Retry-After
        header in seconds. ``commit=True`` carries the operation out before answering with the error.
        Returns the rule; its ``remaining`` counts down as it fires.
        """
        if not 400 <= status <= 599:
            raise ValueError("a fault answers with a 4xx or 5xx status")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every request)")
        rule = FaultRule(method.upper(), re.compile(path_regex), status, times, retry_after, commit, body)
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> Optional[FaultRule]:
        """The first rule matching this request, counted as fired; None when no rule matches."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    self._fire(rule)
                    return rule
        return None

    def _fire(self, rule: FaultRule) -> None:
        if rule.remaining is None:
            return
        rule.remaining -= 1
        if rule.remaining == 0:
            self._rules.remove(rule)

    def fail_channel(self, phone_number_id: str, error_message: str) -> None:
        """Channels on this number end in status error, stage inactive with ``error_message`` once provisioned."""
        self._backend.set_channel_failure(phone_number_id, error_message)

    def heal_channel(self, phone_number_id: str) -> None:
        """Undo :meth:`fail_channel` for this number."""
        self._backend.set_channel_failure(phone_number_id, None)

    def set_provision_seconds(self, phone_number_id: str, seconds: float) -> None:
        """Provisioning time for connectors created from now on for this number (overrides the default)."""
        self._backend.set_number_provision_seconds(phone_number_id, seconds)

    def clear(self) -> None:
        """Remove every rule, the latency, channel failures and per-number provisioning times."""
        with self._lock:
            self._rules.clear()
        self.latency = 0.0
        self._backend.clear_overrides()


class RateLimiter:
    """A sliding one-second window of accepted requests per key (the workspace)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._accepted: Dict[str, Deque[float]] = collections.defaultdict(collections.deque)

    def allow(self, key: str, per_second: Optional[int]) -> bool:
        """Whether one more request under ``key`` fits in the window; ``None`` means no limit."""
        if per_second is None:
            return True
        now = self._clock()
        with self._lock:
            window = self._accepted[key]
            while window and now - window[0] >= RATE_WINDOW_SECONDS:
                window.popleft()
            if len(window) >= per_second:
                return False
            window.append(now)
            return True
