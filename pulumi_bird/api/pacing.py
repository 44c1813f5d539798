"""The per-workspace request budget of Bird's limits (https://docs.bird.com/api/api-access/rate-limits), as
docs/performance.md ("GET budget") and docs/troubleshooting.md (429s) describe it; callers wait in order of
priority (when their request became due). Nothing here is global: budgets belong to the client's configuration."""

from __future__ import annotations

import collections
import heapq
import itertools
import math
import threading
import time
from dataclasses import KW_ONLY, dataclass, field
from typing import Callable, Deque, Optional, overload

# Bird's GET limit per workspace and second.
DEFAULT_GETS_PER_SECOND = 50.0
# The window Bird counts in, and a margin on top for clocks read at slightly different moments (the round trip
# itself is already accounted for: a GET counts until one window after its answer).
WINDOW_SECONDS = 1.0
WINDOW_MARGIN = 0.01
# After a 429 the limit is halved, then grows back to the configured limit over this many seconds.
RECOVERY_SECONDS = 10.0
# The least the limit drops to after repeated 429s.
MIN_FACTOR = 0.1
# The longest a 429's Retry-After holds the workspace's GETs (the client's own cap on waiting for one,
# RetryPolicy.max_retry_after): a Retry-After of an hour, or "inf", must not freeze every GET of the workspace.
MAX_HOLD = 30.0
# A waiter that is not first in line re-checks at least this often (it is also woken whenever the line moves).
IDLE_RECHECK = 1.0


@dataclass(eq=False, slots=True)
class Slot:
    """One GET let go by a :class:`GetPacer`; call :meth:`done` when its answer (or failure) is in."""

    pacer: GetPacer
    sent_at: float

    def done(self) -> None:
        pacer = self.pacer
        with pacer._lock:
            if self in pacer._in_flight:
                pacer._in_flight.discard(self)
                pacer._answered.append(pacer._clock())
                pacer._wake_first()


class GetPacer:
    """The sliding-window GET budget of one workspace: a GET counts from its sending until one window after its
    answer (Bird counted it somewhere in between). ``sleep`` replaces the condition wait (tests, fake ``clock``)."""

    def __init__(
        self,
        per_second: float = DEFAULT_GETS_PER_SECOND,
        *,
        window: float = WINDOW_SECONDS + WINDOW_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Optional[Callable[[float], None]] = None,
    ) -> None:
        if not per_second >= 1:
            raise ValueError(f"a GET rate limit must be at least 1 per second, got {per_second!r}")
        self.limit: int = int(per_second)
        self.window = window
        self._clock = clock
        self._sleep = sleep
        # GETs on their way, and the times the latest answers came back (ascending; older ones no longer matter)
        self._in_flight: set[Slot] = set()
        self._answered: Deque[float] = collections.deque(maxlen=self.limit)
        self._hold_until = -math.inf
        self._slowed_at = -math.inf
        self._slowed_factor = 1.0
        self._lock = threading.Lock()
        # callers waiting, first in line first: (priority, arrival, the condition only that caller waits on)
        self._line: list[tuple[float, int, threading.Condition]] = []
        self._seq = itertools.count()
        self.rate_limited: int = 0  # 429s reported, for logs and benchmarks

    # --- the pure core (call with the lock held, or single-threaded) -------------------------------------------

    def current_limit(self, now: float) -> int:
        """The GETs allowed per window at ``now``: the configured limit, or less while recovering from a 429."""
        factor = min(1.0, self._slowed_factor + (1.0 - self._slowed_factor) * max(0.0, now - self._slowed_at) / RECOVERY_SECONDS)
        return max(1, int(self.limit * factor))

    def next_free(self, now: float) -> float:
        """The earliest time, not before ``now``, at which one more GET keeps every window within the limit
        (infinity while the GETs on their way fill the budget: the next answer tells)."""
        at = max(now, self._hold_until)
        allowed = self.current_limit(at)
        room = allowed - len(self._in_flight)
        if room <= 0:
            return math.inf
        recent = [t for t in self._answered if t > at - self.window]
        if len(recent) >= room:
            # enough of them must have left the window: the room-th most recent answer
            at = max(at, recent[-room] + self.window)
        return at

    def take(self, now: float) -> Optional[Slot]:
        """Let a GET go at ``now`` if the budget allows it (a Slot to mark done); None otherwise."""
        if self.next_free(now) > now:
            return None
        slot = Slot(self, now)
        self._in_flight.add(slot)
        return slot

    def slow_down(self, retry_after: Optional[float]) -> None:
        """A 429 answered a GET of this workspace: hold every GET for ``retry_after`` seconds (one window when
        Bird gave none), and halve the limit (recovering over RECOVERY_SECONDS)."""
        with self._lock:
            now = self._clock()
            self.rate_limited += 1
            # capped: the client does not wait longer than MAX_HOLD for one answer, and neither does the workspace
            pause = self.window if retry_after is None else min(retry_after, MAX_HOLD)
            self._hold_until = max(self._hold_until, now + pause)
            self._slowed_factor = max(MIN_FACTOR, self.current_limit(now) / self.limit / 2)
            self._slowed_at = self._hold_until  # the first in line sees the hold when its wait ends

    # --- blocking ------------------------------------------------------------------------------------------

    @overload
    def acquire(self, priority: Optional[float] = None) -> Slot: ...

    @overload
    def acquire(self, priority: Optional[float] = None, *, timeout: float) -> Optional[Slot]: ...

    def acquire(self, priority: Optional[float] = None, *, timeout: Optional[float] = None) -> Optional[Slot]:
        """Wait until this caller is first in line (lowest ``priority``; default: now) and the budget has room,
        and return the GET's Slot (send now, ``done()`` when answered); None once ``timeout`` seconds have passed,
        whatever hold a 429 put on the workspace. Only the first in line watches the clock: one wake-up per GET."""
        with self._lock:
            start = self._clock()
            ends = math.inf if timeout is None else start + max(0.0, timeout)
            entry = (start if priority is None else priority, next(self._seq), threading.Condition(self._lock))
            heapq.heappush(self._line, entry)
            try:
                while True:
                    now = self._clock()
                    if self._line[0] is entry:
                        slot = self.take(now)
                        if slot is not None:
                            heapq.heappop(self._line)
                            return slot
                        wait = min(self.next_free(now) - now, IDLE_RECHECK)
                    else:
                        wait = IDLE_RECHECK
                    if now >= ends:
                        return None
                    self._pause(entry[2], min(wait, ends - now))
            finally:  # out of the line (served, timed out or interrupted): the next in line watches the clock now
                if entry in self._line:
                    self._line.remove(entry)
                    heapq.heapify(self._line)
                self._wake_first()

    def _wake_first(self) -> None:
        if self._line:
            self._line[0][2].notify()

    def _pause(self, condition: threading.Condition, seconds: float) -> None:
        if self._sleep is None:
            condition.wait(seconds)
        else:
            self._lock.release()
            try:
                self._sleep(seconds)
            finally:
                self._lock.acquire()


@dataclass(eq=False)
class GetBudget:
    """One :class:`GetPacer` per workspace, all with the same limit and clock."""

    per_second: float = DEFAULT_GETS_PER_SECOND
    _: KW_ONLY
    clock: Callable[[], float] = time.monotonic
    sleep: Optional[Callable[[float], None]] = None
    window: float = WINDOW_SECONDS + WINDOW_MARGIN
    _pacers: dict[str, GetPacer] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        GetPacer(self.per_second)  # validates the limit now rather than at the first GET

    def for_workspace(self, workspace_id: str) -> GetPacer:
        with self._lock:
            if workspace_id not in self._pacers:
                self._pacers[workspace_id] = GetPacer(
                    self.per_second, window=self.window, clock=self.clock, sleep=self.sleep)
            return self._pacers[workspace_id]


# Bird's POST limit per workspace and second (the same page as the GET limit). 512 creates at once already
# reach ~480 POSTs/s through one host, so past that the limit is met, not just approached.
DEFAULT_POSTS_PER_SECOND = 500.0


@dataclass(eq=False)
class PostBudget(GetBudget):
    """One pacer per workspace for POSTs, at Bird's 500/s, with the same sliding window as GETs."""

    per_second: float = DEFAULT_POSTS_PER_SECOND
