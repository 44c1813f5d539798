"""Fault injection for the Bird emulator (``emu.faults``; examples in docs/testing.md): canned error answers,
latency, failing channels, provisioning times per number. Stranger answers go through ``answer_hooks``.
"""

from __future__ import annotations

import dataclasses
import random
import re
import threading
from typing import Any, Dict, List, Optional, Pattern

from pulumi_bird.emulator.backend import BirdBackend, non_negative


@dataclasses.dataclass
class FaultRule:
    """The next ``remaining`` (None: every) requests matching ``method`` and ``path`` get ``status``.

    ``commit``: the request is carried out first, as a gateway timeout can hide a write that happened. A
    ``probability`` below 1 fires the rule with that chance; a request let pass counts nothing down and goes on to
    later rules. ``fired`` counts the requests the rule answered.
    """

    method: str
    path: Pattern[str]
    status: int
    remaining: Optional[int]
    retry_after: Optional[float] = None
    commit: bool = False
    body: Optional[Dict[str, Any]] = None
    probability: float = 1.0
    fired: int = 0


class Faults:
    """The faults of one emulator. Thread-safe; rules apply in the order they were added."""

    def __init__(self, backend: BirdBackend, seed: Optional[int] = None) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._rules: List[FaultRule] = []
        self._random = random.Random(seed)
        self.latency = 0.0

    def seed(self, seed: Optional[int]) -> None:
        """Reseed the random source of ``probability`` rules, so a run with fractions repeats exactly."""
        with self._lock:
            self._random.seed(seed)

    @property
    def latency(self) -> float:
        """Seconds the server waits before it writes each response."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._latency = non_negative(seconds, "latency")

    def add(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: Optional[int] = 1,
        retry_after: Optional[float] = None,
        commit: bool = False,
        body: Optional[Dict[str, Any]] = None,
        probability: float = 1.0,
    ) -> FaultRule:
        """Answer the next ``times`` requests matching ``method`` (or ``*``) and ``path_regex`` (searched in the path)
        with ``status``, an Error body (or ``body``) and, with ``retry_after``, a Retry-After header in seconds.

        See :class:`FaultRule` for ``commit`` and ``probability`` (0 < p <= 1); rules are tried in the order added,
        each drawing on its own: with 30 % 429 then 10 % 503, a request gets a 503 with chance 0.7 x 0.1.
        """
        if not 400 <= status <= 599:
            raise ValueError("a fault answers with a 4xx or 5xx status")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every request)")
        if not 0.0 < probability <= 1.0:
            raise ValueError("probability must be above 0 and at most 1")
        rule = FaultRule(
            method.upper(), re.compile(path_regex), status, times, retry_after, commit, body, float(probability)
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> Optional[FaultRule]:
        """The first rule for this method (or ``*``) whose pattern is found in the path and that fires, counted as
        fired (a rule with ``times`` left goes once they are spent); None when no rule fires."""
        with self._lock:
            for rule in self._rules:
                if rule.method in ("*", method.upper()) and rule.path.search(path) and (
                        rule.probability == 1.0 or self._random.random() < rule.probability):
                    rule.fired += 1
                    rule.remaining = None if rule.remaining is None else rule.remaining - 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    @property
    def rules(self) -> List[FaultRule]:
        """The rules still active, in the order they are tried."""
        with self._lock:
            return list(self._rules)

    def fail_channel(self, phone_number_id: str, error_message: str) -> None:
        """Channels on this number end in status error, stage inactive with ``error_message`` once provisioned."""
        self._backend.set_channel_failure(phone_number_id, error_message)

    def set_provision_seconds(self, phone_number_id: str, seconds: float) -> None:
        """Provisioning time for connectors created from now on for this number (overrides the default)."""
        self._backend.set_number_provision_seconds(phone_number_id, seconds)

    def clear(self) -> None:
        """Remove every rule, the latency, channel failures and per-number provisioning times."""
        with self._lock:
            self._rules.clear()
        self.latency = 0.0
        self._backend.clear_overrides()

