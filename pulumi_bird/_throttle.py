"""The GET budget of a workspace: never more than Bird's limit in any sliding second, and all of it usable.

Bird allows 50 GETs per second per workspace (https://docs.bird.com/api/api-access/rate-limits) and answers
429 beyond. A :class:`GetPacer` hands out send times so that no window of one second (plus a small margin for
the time a request takes to reach Bird) holds more than the limit, whatever the pattern of demand: it keeps
the times of the last ``limit`` GETs and lets the next one go when the oldest of them has left the window. So
a burst uses the whole budget at once and a steady stream runs at exactly the limit, never above.

Callers wait in order of their *priority* (a time: when their request became due; plain requests use "now"),
so a readiness poll that has waited longest goes first (see :mod:`pulumi_bird._readiness`).

A 429 slows the whole workspace, not just the request it answered: nothing more is sent until its
``Retry-After`` (one window when absent) has passed, and the limit is halved, recovering linearly to the
configured one over :data:`RECOVERY_SECONDS` (another client shares the workspace: back off, then probe).

A :class:`GetBudget` holds one pacer per workspace. It belongs to the client's configuration: the provider
builds one per process from ``bird:getRateLimit`` (see :func:`pulumi_bird.config.get_budget`), tests build
their own with a fake clock. Nothing here is global.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import math
import threading
import time
from typing import Callable, Deque, Optional

# Bird's GET limit per workspace and second.
DEFAULT_GETS_PER_SECOND = 50.0
# The window Bird counts in, and a margin on top: our send time and Bird's arrival time differ by the
# network and the scheduling of our threads, so a GET sent exactly one window after another can arrive a
# little less than one window after it. 30 ms costs 3 % of the budget.
WINDOW_SECONDS = 1.0
WINDOW_MARGIN = 0.03
# After a 429 the limit is halved, then grows back to the configured limit over this many seconds.
RECOVERY_SECONDS = 10.0
# The least the limit drops to after repeated 429s.
MIN_FACTOR = 0.1
# A waiter that is not first in line re-checks at least this often (it is also woken whenever the line moves).
IDLE_RECHECK = 1.0


class GetPacer:
    """The sliding-window GET budget of one workspace.

    ``clock`` gives the time; ``sleep``, when given, replaces the condition wait (for single-threaded tests with
    a fake clock). :meth:`next_free` and :meth:`take` are the pure core; :meth:`acquire` blocks.
    """

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
        self.limit = int(per_second)
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: Deque[float] = collections.deque(maxlen=self.limit)
        self._hold_until = -math.inf
        self._slowed_at = -math.inf
        self._slowed_factor = 1.0
        self._lock = threading.Lock()
        # callers waiting, first in line first: (priority, arrival, the condition only that caller waits on)
        self._line: list[tuple[float, int, threading.Condition]] = []
        self._seq = itertools.count()
        self.rate_limited = 0  # 429s reported, for logs and benchmarks

    # --- the pure core (call with the lock held, or single-threaded) -------------------------------------------

    def current_limit(self, now: float) -> int:
        """The GETs allowed per window at ``now``: the configured limit, or less while recovering from a 429."""
        factor = min(1.0, self._slowed_factor + (1.0 - self._slowed_factor) * max(0.0, now - self._slowed_at) / RECOVERY_SECONDS)
        return max(1, int(self.limit * factor))

    def next_free(self, now: float) -> float:
        """The earliest time, not before ``now``, at which one more GET keeps every window within the limit."""
        at = max(now, self._hold_until)
        allowed = self.current_limit(at)
        if len(self._sent) >= allowed:
            # the allowed-th most recent GET must have left the window
            at = max(at, self._sent[-allowed] + self.window)
        return at

    def take(self, now: float) -> bool:
        """Record a GET sent at ``now`` if the budget allows it; False (and nothing recorded) otherwise."""
        if self.next_free(now) > now:
            return False
        self._sent.append(now)
        return True

    def slow_down(self, retry_after: Optional[float]) -> None:
        """A 429 answered a GET of this workspace: hold every GET for ``retry_after`` seconds (one window when
        Bird gave none), and halve the limit (recovering over RECOVERY_SECONDS)."""
        with self._lock:
            now = self._clock()
            self.rate_limited += 1
            pause = self.window if retry_after is None else retry_after
            self._hold_until = max(self._hold_until, now + pause)
            self._slowed_factor = max(MIN_FACTOR, self.current_limit(now) / self.limit / 2)
            self._slowed_at = self._hold_until  # the first in line sees the hold when its wait ends

    # --- blocking ------------------------------------------------------------------------------------------

    def acquire(self, priority: Optional[float] = None) -> float:
        """Wait until this caller is first in line (lowest ``priority``; default: now) and the budget has room;
        returns the time the GET may be sent (now). Only the first in line watches the clock; the others sleep
        until they move up (one wake-up per GET, however long the line)."""
        with self._lock:
            entry = (self._clock() if priority is None else priority, next(self._seq), threading.Condition(self._lock))
            heapq.heappush(self._line, entry)
            try:
                while True:
                    now = self._clock()
                    if self._line[0] is entry:
                        at = self.next_free(now)
                        if at <= now and self.take(now):
                            heapq.heappop(self._line)
                            self._wake_first()
                            return now
                        self._pause(entry[2], at - now)
                    else:
                        self._pause(entry[2], IDLE_RECHECK)
            except BaseException:
                if entry in self._line:
                    self._line.remove(entry)
                    heapq.heapify(self._line)
                    self._wake_first()
                raise

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


class GetBudget:
    """One :class:`GetPacer` per workspace, all with the same limit and clock."""

    def __init__(
        self,
        per_second: float = DEFAULT_GETS_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Optional[Callable[[float], None]] = None,
        window: float = WINDOW_SECONDS + WINDOW_MARGIN,
    ) -> None:
        GetPacer(per_second)  # validates the limit now rather than at the first GET
        self.per_second = per_second
        self.clock = clock
        self.sleep = sleep
        self.window = window
        self._pacers: dict[str, GetPacer] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GetBudget(per_second={self.per_second:g}, workspaces={len(self._pacers)})"

    def for_workspace(self, workspace_id: str) -> GetPacer:
        with self._lock:
            pacer = self._pacers.get(workspace_id)
            if pacer is None:
                pacer = self._pacers[workspace_id] = GetPacer(
                    self.per_second, window=self.window, clock=self.clock, sleep=self.sleep)
            return pacer
