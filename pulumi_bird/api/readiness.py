"""One readiness scheduler per workspace: when each waiting create polls its channel's status (the schedule,
sibling holds included, is in docs/performance.md, "Readiness")."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any, Callable, Optional

from . import errors
from .client import BirdClient
from .models import STAGE_ACTIVE, STAGE_INACTIVE, STATUS_OK, ChannelStatus, ConnectorStatus
from .pacing import GetPacer

log: logging.Logger = logging.getLogger(__name__)

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
# The least time worth a last look at a channel after a failed poll at the deadline (seconds).
LAST_LOOK_MIN_SECONDS = 1.0
# A bound on the re-checks of one wait (each one sleeps; evidence changes only when a sibling polls).
MAX_HOLDS = 10_000


def poll_interval(elapsed: float) -> float:
    """Seconds from a poll made ``elapsed`` seconds after the POST to the next one."""
    return min(POLL_MAX_INTERVAL, max(POLL_MIN_INTERVAL, POLL_FRACTION * elapsed))


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

    def __enter__(self) -> "Turn":
        return self

    def __exit__(self, *exc: object) -> None:
        with self.scheduler.lock:
            self.scheduler._turns.pop(id(self), None)

    def wait(self, deadline: float) -> float:
        """Sleep until this poll may go out (never past ``deadline``); that time, the priority to send it with."""
        scheduler = self.scheduler
        for _ in range(MAX_HOLDS):
            wake = min(scheduler.eligible_at(self), deadline)
            delay = wake - scheduler.clock()
            if delay <= 0:
                return wake
            scheduler.sleep(delay)  # a sibling's poll meanwhile may extend the hold: check again
        return min(scheduler.clock(), deadline)

    def polled(self, *, not_ready: bool = False) -> None:
        """The poll went out: the next one is due a poll interval from now. ``not_ready``: Bird answered
        that the channel is still provisioning (evidence for its younger siblings; a failed poll is none)."""
        now = self.scheduler.clock()
        with self.scheduler.lock:
            self.polls += 1
            self.scheduler.polls += 1
            age = now - self.registered_at
            if not_ready:
                self.not_ready_at_age = age
            self.due = now + poll_interval(age)


class ReadinessScheduler:
    """The waiting connectors of one workspace and when each polls next (``clock`` and ``sleep`` injectable, so
    the schedule and the waiter can be tested without waiting; the polls queue for the GET budget in the client)."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.lock: threading.Lock = threading.Lock()
        self._turns: dict[int, Turn] = {}
        self.polls: int = 0  # polls of every turn so far, for logs and benchmarks

    def register(self, connector_id: str) -> Turn:
        """Start waiting for ``connector_id``, just created: its first poll is due FIRST_POLL_DELAY from now."""
        turn = Turn(self, connector_id, self.clock())
        with self.lock:
            self._turns[id(turn)] = turn
        return turn

    def waiting(self) -> list[Turn]:
        with self.lock:
            return sorted(self._turns.values(), key=lambda t: t.due)

    def eligible_at(self, turn: Turn) -> float:
        """When ``turn`` may poll: its own due time, or later while an older sibling's evidence says its
        channel cannot be ready yet (at most SIBLING_MAX_HOLD later)."""
        with self.lock:
            hold = turn.due
            for other in self._turns.values():
                age = other.not_ready_at_age
                if other is turn or age is None or not 0 <= turn.registered_at - other.registered_at <= SIBLING_GAP:
                    continue
                hold = max(hold, turn.registered_at + age + poll_interval(age))
            return min(hold, turn.due + SIBLING_MAX_HOLD)


# The scheduler of each workspace's pacer (one per workspace of a client configuration's budget); it goes
# with its budget.
_by_pacer: "weakref.WeakKeyDictionary[GetPacer, ReadinessScheduler]" = weakref.WeakKeyDictionary()
_by_pacer_lock = threading.Lock()


def scheduler_for(pacer: Optional[GetPacer]) -> ReadinessScheduler:
    """The one scheduler of the workspace whose GET budget is ``pacer`` (a new, private one without a pacer)."""
    if pacer is None:
        return ReadinessScheduler()
    with _by_pacer_lock:
        return _by_pacer.setdefault(pacer, ReadinessScheduler())


# --- the waiter ------------------------------------------------------------------------------------------------

# A hard stop for the loop whatever the clock says (a week of polls at the minimum interval is far less).
MAX_POLLS = 100_000
# Just after a POST, Bird may not serve the new connector's status yet: a 404 this early means "not yet".
NOT_FOUND_GRACE = 30.0
# Poll failures the waiter rides out (the client has retried them already): the channel may be fine.
_HICCUPS: tuple[type[errors.BirdError], ...] = (
    errors.RateLimitError, errors.ServerError, errors.APIConnectionError, errors.UnexpectedResponseError,
)


def wait_connector_ready(
    client: BirdClient,
    workspace_id: str,
    connector_id: str,
    timeout: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    scheduler: Optional[ReadinessScheduler] = None,
) -> ConnectorStatus:
    """Poll ``/status`` until the channel is ok/active with its id; raise ReadinessError when it fails or time
    runs out, within ``timeout`` plus one request deadline (:data:`~pulumi_bird.api.client.REQUEST_DEADLINE`).

    Terminal at once: status ``error``, or stage ``deprovisioning``/``deprovisioned`` (Bird's ``errorMessage``
    quoted, redacted). Stage ``inactive`` may come before provisioning, so it is waited out. Failed polls (the
    client has retried already), and a 404 in the first NOT_FOUND_GRACE seconds, count as "not ready yet"; when
    time runs out after a failed poll, one last look is taken, so that a channel is not rolled back for one poll
    that merely failed. The polls are scheduled by the scheduler of the workspace's GET budget (``scheduler``
    overrides it; ``sleep`` or ``clock`` give the wait a private one on those, for tests).
    """
    if scheduler is None and sleep is time.sleep and clock is time.monotonic:
        scheduler = scheduler_for(client.pacer(workspace_id))
    with (scheduler or ReadinessScheduler(clock=clock, sleep=sleep)).register(connector_id) as turn:
        return _Wait(client, workspace_id, connector_id, timeout, turn, clock).run()


class _Wait:
    """One wait for one channel: the polls, what they saw, and the verdicts."""

    def __init__(
        self, client: BirdClient, workspace_id: str, connector_id: str, timeout: float, turn: Turn,
        clock: Callable[[], float],
    ) -> None:
        self.client, self.workspace_id, self.connector_id = client, workspace_id, connector_id
        self.timeout, self.turn, self.clock = timeout, turn, clock
        self.started = turn.registered_at
        self.deadline = self.started + timeout
        self.inactive_since: Optional[float] = None
        self.hiccup: Optional[errors.BirdError] = None
        self.channel: Optional[ChannelStatus] = None

    def run(self) -> ConnectorStatus:
        for _ in range(MAX_POLLS):
            priority = self.turn.wait(self.deadline)
            status = self.poll(priority=priority, deadline=self.on_client_clock(self.deadline))
            if status is not None:
                return status
            if self.clock() >= self.deadline:
                return self.last_look()
        raise self.timed_out()

    def poll(self, **options: Any) -> Optional[ConnectorStatus]:
        """One poll: the status when the channel is ready; None when it is not yet; raises when it failed."""
        status: Optional[ConnectorStatus] = None
        try:
            status = self.client.get_connector_status(self.workspace_id, self.connector_id, **options)
            self.hiccup = None
        except _HICCUPS as exc:
            self.hiccup = exc
        except errors.NotFoundError as exc:
            if self.clock() - self.started > NOT_FOUND_GRACE:
                raise
            self.hiccup = exc
        channel = status.channel if status is not None else None
        self.turn.polled(not_ready=channel is not None and not channel.ready and not channel.failed)
        if channel is None:
            return None
        self.channel = channel
        if channel.ready:
            return status
        if channel.failed or channel.going_away:
            reason = self.client.redact(channel.error_message) if channel.error_message else "Bird gave no reason"
            raise errors.ReadinessError(
                f"the channel of connector {self.connector_id} failed to provision "
                f"({self.client.redact(f'status {channel.status}, stage {channel.stage}')}): {reason}",
                connector_id=self.connector_id,
            )
        if channel.stage == STAGE_INACTIVE:
            self.inactive_since = self.clock() if self.inactive_since is None else self.inactive_since
        else:
            self.inactive_since = None
        log.debug("connector %s: %s; next poll in %.2fs", self.connector_id, self.state(),
                  max(0.0, self.turn.due - self.clock()))
        return None

    def last_look(self) -> ConnectorStatus:
        """After the deadline: one more poll if the last one failed and time is left within one request
        deadline past the deadline; else the timeout."""
        left = self.deadline + self.client.request_deadline - self.clock()
        if self.hiccup is not None and left > LAST_LOOK_MIN_SECONDS:
            status = self.poll(deadline=self.on_client_clock(self.clock()), attempt_seconds=left)
            if status is not None:
                return status
        raise self.timed_out()

    def on_client_clock(self, moment: float) -> float:
        """``moment`` of the waiter's clock on the client's (tests may give the two different clocks)."""
        return self.client.now() + (moment - self.clock())

    def state(self) -> str:
        channel = self.channel
        if self.hiccup is not None:
            return f"last poll failed: {self.hiccup}"
        if channel is None:
            return "no channel yet"
        said = self.client.redact(f"status {channel.status}, stage {channel.stage}")  # Bird's words, no secret
        if channel.status == STATUS_OK and channel.stage == STAGE_ACTIVE and not channel.channel_id:
            return f"{said}, but Bird gave no channel id"
        if self.inactive_since is not None:
            return f"{said} for the last {self.clock() - self.inactive_since:.0f}s"
        return said

    def timed_out(self) -> errors.ReadinessError:
        return errors.ReadinessError(
            f"the channel of connector {self.connector_id} was not active after {self.timeout:g}s "
            f"({self.state()}); raise ready_timeout if Bird is slow to provision",
            connector_id=self.connector_id,
            timed_out=True,
        )
