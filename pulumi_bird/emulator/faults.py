"""Fault injection for the Bird emulator: canned error answers, latency, failing channels, provisioning times.

Tests reach these through ``emu.faults``; the server consults them on every request (see ``server.py``
for the order in which they apply). Rate limits live in ``ratelimits.py``.

A rule answers matching requests with an error, either scripted (the next ``times`` requests) or for a
fraction of them (``probability``, drawn from a seedable random source), and either before the request
is carried out or after it (``commit=True``: the write happened, the client sees an error)::

    emu.faults.seed(7)                                                       # repeatable fractions
    emu.faults.add("POST", r"/connectors$", 429, times=None, probability=0.3, retry_after=1)
    emu.faults.add("POST", r"/connectors$", 503, times=None, probability=0.1)
    emu.faults.add("POST", r"/connectors$", 502, times=None, probability=0.5, commit=True)
    emu.faults.add("GET", r"/connectors$", 503, times=3)                     # the next 3 list GETs fail

Hostile answers, the kind a real service gives when something is off (each one is a test's scenario)::

    emu.faults.clock_offset = -3600       # Bird's clock an hour behind ours: createdAt and the Date header
    emu.faults.list_lag = 3               # lists show a new object 3 s after it was made
    emu.faults.repeat_list_items = True   # every list item twice
    emu.faults.patch_answer("POST", r"/connectors$", {"id": "not-a-uuid"})        # the 2xx says something else
    emu.faults.patch_answer("POST", r"/connectors$", {}, drop=("createdAt",))     # or leaves a field out
    emu.faults.trickle("GET", r"/status$", seconds_per_byte=0.5)                  # the answer, a byte at a time
    emu.faults.add("GET", r"/status$", 429, retry_after=3600)                     # a huge Retry-After
    emu.faults.add("DELETE", r"/connectors/", 410)                               # Gone
    emu.faults.fail_channel(number_id, f"refused key {key}")                      # errorMessage echoing a key
    emu.faults.created_at_offset = -300   # createdAt 5 min behind the Date header (two clocks, not one)
    emu.faults.bare_numbers = True        # the numbers list shows 3197010520000, without its +
    emu.faults.numbers_loop = True        # every numbers page names the first page as the next one
    emu.faults.freeze_lists()             # lists keep showing objects as they are now (deleted, changed later)
"""

from __future__ import annotations

import dataclasses
import random
import re
import threading
from typing import Any, Dict, List, Optional, Pattern

from pulumi_bird.emulator.backend import BirdBackend, encode_page_token


@dataclasses.dataclass
class FaultRule:
    """The next ``remaining`` requests matching ``method`` and ``path`` get ``status`` instead of an answer.

    ``remaining=None`` means every matching request. With ``commit`` the request is carried out first and
    the error returned afterwards, the way a gateway timeout can hide a write that did happen. With a
    ``probability`` below 1 each matching request fires the rule only with that chance; a request the
    rule lets pass neither counts down ``remaining`` nor stops later rules from being considered.
    ``fired`` counts the requests the rule answered.
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

    def matches(self, method: str, path: str) -> bool:
        """Same method (or ``*``) and the pattern found in the path (``re.search``; anchor it to be exact)."""
        return self.method in ("*", method.upper()) and self.path.search(path) is not None


@dataclasses.dataclass
class AnswerPatch:
    """The next ``remaining`` 2xx answers to matching requests (carried out as usual) get ``values`` merged
    into their JSON body and the ``drop`` keys removed (``remaining=None``: every one)."""

    method: str
    path: Pattern[str]
    values: Dict[str, Any]
    drop: tuple
    remaining: Optional[int]
    fired: int = 0


@dataclasses.dataclass
class Trickle:
    """The next ``remaining`` answers to matching requests (status line, headers and body) are written one byte
    every ``seconds_per_byte``."""

    method: str
    path: Pattern[str]
    seconds_per_byte: float
    remaining: Optional[int]
    fired: int = 0


def _take(rules: List[Any], method: str, path: str) -> Optional[Any]:
    """The first of ``rules`` (AnswerPatch or Trickle) matching the request, counted down."""
    for rule in rules:
        if rule.method in ("*", method.upper()) and rule.path.search(path):
            rule.fired += 1
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
            return rule
    return None


class Faults:
    """The faults of one emulator. Thread-safe; rules apply in the order they were added."""

    def __init__(self, backend: BirdBackend, seed: Optional[int] = None) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._rules: List[FaultRule] = []
        self._random = random.Random(seed)
        self._patches: List[AnswerPatch] = []
        self._trickles: List[Trickle] = []
        self.latency = 0.0
        self.repeat_list_items = False
        self.bare_numbers = False
        self.numbers_loop = False

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
        probability: float = 1.0,
    ) -> FaultRule:
        """Answer the next ``times`` requests matching ``method`` and ``path_regex`` with ``status``.

        ``method`` is an HTTP method or ``*``; ``path_regex`` is searched in the path (no query string).
        The answer carries an Error body (``body`` replaces it) and, with ``retry_after``, a Retry-After
        header in seconds. ``commit=True`` carries the operation out before answering with the error.
        ``probability`` (0 < p <= 1) fires the rule for that fraction of matching requests; rules are
        tried in the order added and each draws on its own, so with 30 % 429 then 10 % 503 a request
        gets a 503 with chance 0.7 x 0.1. Returns the rule; ``remaining`` counts down and ``fired`` up.
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
        """The first rule matching this request, counted as fired; None when no rule matches."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                self._fire(rule)
                return rule
        return None

    @property
    def rules(self) -> List[FaultRule]:
        """The rules still active, in the order they are tried."""
        with self._lock:
            return list(self._rules)

    def _fire(self, rule: FaultRule) -> None:
        rule.fired += 1
        if rule.remaining is None:
            return
        rule.remaining -= 1
        if rule.remaining == 0:
            self._rules.remove(rule)

    # -- hostile answers -------------------------------------------------------------------------------------

    @property
    def clock_offset(self) -> float:
        """Seconds Bird's wall clock is ahead of ours (negative: behind); createdAt, updatedAt and Date follow."""
        return self._backend.clock_offset

    @clock_offset.setter
    def clock_offset(self, seconds: float) -> None:
        self._backend.clock_offset = float(seconds)

    @property
    def created_at_offset(self) -> float:
        """Seconds createdAt (and updatedAt) run ahead of the Date header (negative: behind): Bird's objects
        stamped by another clock than its answers. Adds to ``clock_offset``, which moves both."""
        return self._backend.created_at_offset

    @created_at_offset.setter
    def created_at_offset(self, seconds: float) -> None:
        self._backend.created_at_offset = float(seconds)

    @property
    def list_lag(self) -> float:
        """Seconds a new object stays out of lists (GETs by id see it at once)."""
        return self._backend.list_lag

    @list_lag.setter
    def list_lag(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("list_lag must not be negative")
        self._backend.list_lag = float(seconds)

    def patch_answer(
        self, method: str, path_regex: str, values: Dict[str, Any], *, drop: tuple = (), times: Optional[int] = 1
    ) -> AnswerPatch:
        """Merge ``values`` into the JSON body of the next ``times`` 2xx answers to matching requests and remove
        the ``drop`` keys (after the request was carried out): a foreign id, a malformed one, a missing field."""
        rule = AnswerPatch(method.upper(), re.compile(path_regex), dict(values), tuple(drop), times)
        with self._lock:
            self._patches.append(rule)
        return rule

    def trickle(self, method: str, path_regex: str, seconds_per_byte: float, times: Optional[int] = 1) -> Trickle:
        """Write the next ``times`` answers to matching requests one byte every ``seconds_per_byte`` (the server
        gives up when the client goes away)."""
        if seconds_per_byte < 0:
            raise ValueError("seconds_per_byte must not be negative")
        rule = Trickle(method.upper(), re.compile(path_regex), float(seconds_per_byte), times)
        with self._lock:
            self._trickles.append(rule)
        return rule

    def shape_answer(self, method: str, path: str, status: int, body: Any) -> tuple[Any, float]:
        """The body to send for a carried-out answer, after patches and repeated list items, and the seconds
        per byte to write it at (0: at once)."""
        with self._lock:
            patch = _take(self._patches, method, path) if 200 <= status < 300 and isinstance(body, dict) else None
            trickle = _take(self._trickles, method, path)
            repeat, bare, loop = self.repeat_list_items, self.bare_numbers, self.numbers_loop
        if patch is not None:
            body = {k: v for k, v in {**body, **patch.values}.items() if k not in patch.drop}
        listing = isinstance(body, dict) and isinstance(body.get("results"), list)
        if repeat and listing:
            body = dict(body, results=[item for item in body["results"] for _ in (0, 1)])
        numbers = listing and path.endswith("/numbers")
        if bare and numbers:
            body = dict(body, results=[_bare(item) for item in body["results"]])
        if loop and numbers:  # a valid token, always the same: "after the start", the first page again
            body = dict(body, nextPageToken=encode_page_token("numbers", 0))
        return body, trickle.seconds_per_byte if trickle is not None else 0.0

    def freeze_lists(self) -> None:
        """Connector and subscription lists keep showing the objects as they are now, whatever happens to them
        later, until :meth:`clear` (GETs by id stay current): a list far behind out-of-band changes."""
        self._backend.freeze_lists()

    def fail_channel(self, phone_number_id: str, error_message: str) -> None:
        """Channels on this number end in status error, stage inactive with ``error_message`` once provisioned."""
        self._backend.set_channel_failure(phone_number_id, error_message)

    def set_provision_seconds(self, phone_number_id: str, seconds: float) -> None:
        """Provisioning time for connectors created from now on for this number (overrides the default)."""
        self._backend.set_number_provision_seconds(phone_number_id, seconds)

    def clear(self) -> None:
        """Remove every rule and hostile answer, the latency, channel failures and per-number provisioning
        times."""
        with self._lock:
            self._rules.clear()
            self._patches.clear()
            self._trickles.clear()
        self.latency = 0.0
        self.repeat_list_items = self.bare_numbers = self.numbers_loop = False
        self._backend.clear_overrides()


def _bare(item: Any) -> Any:
    """A numbers list item with its number shown without the + (digits only)."""
    if isinstance(item, dict) and isinstance(item.get("number"), str):
        return dict(item, number=item["number"].lstrip("+"))
    return item

