"""One readiness scheduler per workspace: when each waiting create polls its channel's status.

Bird gives no provisioning time (https://docs.bird.com/api/channels-api/api-reference/channel-connectors), and
a channel is never active the moment its connector is created, so the poll schedule is:

- the first poll :data:`FIRST_POLL_DELAY` after the POST (a poll right after it always misses);
- then every :data:`POLL_FRACTION` of the time waited so far, at least :data:`POLL_MIN_INTERVAL` and at most
  :data:`POLL_MAX_INTERVAL` apart: a channel is seen active at most 26 % late and never more than 4.5 s late,
  and a slow channel costs few calls (a channel active after 3 s: 6 polls; after 60 s: 23).

Every waiting create registers its connector with the scheduler of its workspace and gets a :class:`Turn`.
The turn sleeps until its poll is due, then queues for the workspace's GET budget (:mod:`pulumi_bird.api.pacing`)
with its due time as priority: when many channels wait at once, polls go out in order of when each became due,
never beyond the budget, and a channel's next poll is scheduled from when its last one really went out, so a
backlog does not pile up polls of channels that were just read.

Siblings: channels created within :data:`SIBLING_GAP` of each other (one ``pulumi up``) provision alike. When
an older sibling was still provisioning at an age of ``a`` seconds, a younger one cannot be expected ready
before it reaches ``a`` plus the schedule's interval, so its poll is held until then: a burst of channels is
probed like one channel by its oldest members, and the budget is kept for polls that can succeed. A hold
never delays a poll by more than :data:`SIBLING_MAX_HOLD` past the channel's own schedule, so a fast channel
among slow siblings is still seen.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Callable, Optional

from .pacing import GetPacer

# Seconds from the POST to the first status poll.
FIRST_POLL_DELAY = 0.5
# Then the next poll after this share of the time waited so far, within these bounds (seconds).
POLL_FRACTION = 0.26
POLL_MIN_INTERVAL = 0.5
POLL_MAX_INTERVAL = 4.5
# Channels registered at most this far apart are siblings (created by one deployment).
SIBLING_GAP = 2.0
# The most a sibling's evidence delays a poll past the channel's own schedule (seconds).
SIBLING_MAX_HOLD = POLL_MAX_INTERVAL
# A bound on the re-checks of one wait (each one sleeps; evidence changes only when a sibling polls).
MAX_HOLDS = 10_000


def poll_interval(elapsed: float) -> float:
    """Seconds from a poll made ``elapsed`` seconds after the POST to the next one."""
    return min(POLL_MAX_INTERVAL, max(POLL_MIN_INTERVAL, POLL_FRACTION * elapsed))


def poll_schedule(until: float) -> list[float]:
    """The seconds after the POST at which an unhindered waiter polls, up to the first poll at or after
    ``until`` (a channel active after ``until`` seconds is seen at the last one)."""
    times = [FIRST_POLL_DELAY]
    while times[-1] < until:
        times.append(times[-1] + poll_interval(times[-1]))
    return times


class Turn:
    """One connector waiting for its channel: when its next poll is due, and how many it has made."""

    def __init__(self, scheduler: "ReadinessScheduler", connector_id: str, registered_at: float) -> None:
        self.scheduler = scheduler
        self.connector_id = connector_id
        self.registered_at = registered_at
        self.due: float = registered_at + FIRST_POLL_DELAY
        self.polls: int = 0
        # The age (seconds since registering) at which the channel was last seen still provisioning.
        self.not_ready_at_age: Optional[float] = None

    def __repr__(self) -> str:
        return f"Turn({self.connector_id!r}, due={self.due:.2f}, polls={self.polls})"

    def __enter__(self) -> "Turn":
        return self

    def __exit__(self, *exc: object) -> None:
        self.scheduler.done(self)

    def wait(self, deadline: float) -> float:
        """Sleep until this poll is due (never past ``deadline``); the priority to send it with."""
        return self.scheduler.wait_for(self, deadline)

    def polled(self, *, not_ready: bool = False) -> None:
        """The poll went out: the next one is due a poll interval from now. ``not_ready``: Bird answered
        that the channel is still provisioning (evidence for its younger siblings; a failed poll is none)."""
        self.scheduler.polled(self, not_ready=not_ready)


class ReadinessScheduler:
    """The waiting connectors of one workspace and when each polls next.

    ``pacer`` is the workspace's GET budget, which the polls queue for (None: not paced). ``clock`` and
    ``sleep`` are injectable, so the schedule and the waiter can be tested without waiting.
    """

    def __init__(
        self,
        pacer: Optional[GetPacer] = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pacer = pacer
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._turns: dict[int, Turn] = {}
        self.polls: int = 0  # polls of every turn so far, for logs and benchmarks

    def register(self, connector_id: str) -> Turn:
        """Start waiting for ``connector_id``, just created: its first poll is due FIRST_POLL_DELAY from now."""
        turn = Turn(self, connector_id, self._clock())
        with self._lock:
            self._turns[id(turn)] = turn
        return turn

    def waiting(self) -> list[Turn]:
        """The registered turns, the next due first."""
        with self._lock:
            return sorted(self._turns.values(), key=lambda t: t.due)

    def eligible_at(self, turn: Turn) -> float:
        """When ``turn`` may poll: its own due time, or later while an older sibling's evidence says its
        channel cannot be ready yet (at most SIBLING_MAX_HOLD later)."""
        with self._lock:
            hold = turn.due
            for other in self._turns.values():
                age = other.not_ready_at_age
                if other is turn or age is None or not 0 <= turn.registered_at - other.registered_at <= SIBLING_GAP:
                    continue
                hold = max(hold, turn.registered_at + age + poll_interval(age))
            return min(hold, turn.due + SIBLING_MAX_HOLD)

    def wait_for(self, turn: Turn, deadline: float) -> float:
        """Sleep until ``turn`` is eligible (never past ``deadline``); returns that time (the poll's priority)."""
        for _ in range(MAX_HOLDS):
            wake = min(self.eligible_at(turn), deadline)
            delay = wake - self._clock()
            if delay <= 0:
                return wake
            self._sleep(delay)  # a sibling's poll meanwhile may extend the hold: check again
        return min(self._clock(), deadline)

    def polled(self, turn: Turn, *, not_ready: bool = False) -> None:
        now = self._clock()
        with self._lock:
            turn.polls += 1
            self.polls += 1
            age = now - turn.registered_at
            if not_ready:
                turn.not_ready_at_age = age
            turn.due = now + poll_interval(age)

    def done(self, turn: Turn) -> None:
        with self._lock:
            self._turns.pop(id(turn), None)


# The scheduler of each workspace's pacer (one per workspace of a client configuration's budget); it goes
# with its budget.
_by_pacer: "weakref.WeakKeyDictionary[GetPacer, ReadinessScheduler]" = weakref.WeakKeyDictionary()
_by_pacer_lock = threading.Lock()


def scheduler_for(pacer: Optional[GetPacer]) -> ReadinessScheduler:
    """The one scheduler of the workspace whose GET budget is ``pacer`` (a new, private one without a pacer)."""
    if pacer is None:
        return ReadinessScheduler()
    with _by_pacer_lock:
        scheduler = _by_pacer.get(pacer)
        if scheduler is None:
            scheduler = _by_pacer[pacer] = ReadinessScheduler(pacer)
        return scheduler
