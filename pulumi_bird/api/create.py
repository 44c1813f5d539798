"""Create an object on Bird so that one resource ends with exactly one object, or none and an error that
names whatever it left behind.

Why this is needed: a POST answered with a 5xx, whose answer was lost, or whose 2xx body could not be read
may still have been committed by Bird. Bird has no idempotency key and no field we could fill with a nonce of
our own (connector arguments are the template's, a webhook URL is the user's), so the only way to learn what
happened is to look for the object afterwards. What makes that exact:

* **Look-alike identity.** Two objects are look-alikes when every field Bird echoes back is equal (name,
  template and the declared arguments of a connector; service, event, URL, template and filters of a
  subscription). Objects that differ only in what Bird never echoes (signing keys, security arguments) are
  indistinguishable to a look-up, so they share one identity.
* **One attempt per identity at a time.** Every create holds the lock of its identity from before its first
  POST until its outcome is settled. Within one provider process (one host serves every dynamic resource of
  a deployment) no sibling can POST a look-alike while we look, so a new look-alike is ours, unless another
  process made it.
* **What this process owns is never a candidate.** Objects this process created or adopted for a resource
  are remembered; a later look-up of a sibling never adopts or deletes them.
* **Counting.** A look-up after ``k`` ambiguous POSTs may find at most ``k`` new look-alikes that are ours.
  Finding more proves someone else created look-alikes meanwhile: nothing is adopted or deleted and the error
  names every candidate and how to adopt one (``adopt_id``).

Across processes (two stacks creating identical objects in one workspace at the same moment) exactness cannot
be had: if our POST was not committed and the other stack's identical object appeared within our attempt, we
would adopt it. The window is the seconds of one failed attempt, and only objects equal in every echoed field
are at risk; see the README's "Exactly one object per resource".

Retrying: the client retries every request that is safe to repeat, 429s included (Bird says a rate-limited
request was not processed). A POST that may have landed cannot be retried by the client on its own: whether
it is safe to POST again is learnt only from this look-up. So the look-up runs here, between attempts, and
the client still decides: :meth:`~pulumi_bird.api.client.BirdClient.retry_delay` with ``repeatable=True`` (the
look-up proved the POST did not land) applies the client's own retry rules, backoff and 20 s budget.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Callable, Hashable, Iterable, Iterator, Optional, Protocol, Sequence, TypeVar

from . import errors
from .retry import RetryPolicy, backoff_delay
from .values import as_utc, utc_now

log: logging.Logger = logging.getLogger(__name__)

# A hard stop for the POST loop whatever the client's policy says (the client's budget ends it far sooner).
MAX_CREATE_ATTEMPTS = 10
# Pauses between attempts of a recovery look-up that failed as a whole (Bird's list may lag its writes).
LOOKUP_RETRY_POLICY = RetryPolicy(base_delay=0.5, max_delay=2.0)
# A look-up that settles an ambiguous POST is tried this often as a whole (each of its requests is already
# retried by the client). Giving up leaves an object that may be ours and that no message can name by id, so
# it is worth a little more patience than any other read.
LOOKUP_ATTEMPTS = 3
# Bird stamps createdAt with its own clock; ours may differ. A look-up for our attempt reads newest first and
# stops at objects older than the attempt's start minus this margin.
CLOCK_SKEW = timedelta(minutes=2)
# Bird's answers to a POST that mean "maybe": Bird may have committed it (a 5xx, no answer, or a 2xx whose body
# could not be read). A redirect is not among them: the client never follows one for a write, and nothing at
# the redirecting URL processed the request.
AMBIGUOUS: tuple[type[errors.BirdError], ...] = (
    errors.ServerError,
    errors.APIConnectionError,
    errors.UnexpectedResponseError,
)


class RetryAdvisor(Protocol):
    """What the create needs of the client to retry the client's way (see :class:`~pulumi_bird.api.client.BirdClient`)."""

    def now(self) -> float: ...

    def pause(self, seconds: float) -> None: ...

    def retry_delay(
        self, failure: errors.BirdError, attempt: int, started: float, *, repeatable: bool = False
    ) -> Optional[float]: ...


class BirdObject(Protocol):
    """What the create needs of an object Bird returns (read-only, so any model with these fields fits)."""

    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> Optional[datetime]: ...


T = TypeVar("T", bound=BirdObject)


class AmbiguousCreateError(errors.BirdError):
    """A create whose outcome could not be settled exactly; the message names every object that may be ours."""

    def __init__(self, message: str, *, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates: list[str] = list(candidates)


class IdenticalObjectError(errors.BirdError):
    """An object identical to the one a create would make already exists (a leftover of an interrupted run, or
    an object made outside the stack)."""

    def __init__(self, message: str, *, existing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.existing: list[str] = list(existing)


def identity_key(*parts: Any) -> str:
    """A hashable, order-stable identity from JSON-like parts (dicts are compared by content)."""
    return json.dumps(parts, sort_keys=True, default=str)


# --- what this process owns, and one lock per identity ---------------------------------------------------


class _Registry:
    """Process-wide: the locks of identities being created, and the ids of objects this process made or
    adopted (never candidates of a sibling's look-up)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._users: dict[Hashable, int] = {}
        self._owned: set[str] = set()

    @contextmanager
    def hold(self, identity: Hashable) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(identity, threading.Lock())
            self._users[identity] = self._users.get(identity, 0) + 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                self._users[identity] -= 1
                if not self._users[identity]:  # nobody waits: forget the lock, so the table stays small
                    del self._users[identity], self._locks[identity]

    def own(self, object_id: str) -> None:
        with self._guard:
            self._owned.add(object_id)

    def owns(self, object_id: str) -> bool:
        with self._guard:
            return object_id in self._owned


REGISTRY = _Registry()


def remember_owned(object_id: str) -> None:
    """Mark an object as belonging to a resource of this process (created or adopted)."""
    REGISTRY.own(object_id)


def not_owned(objects: Iterable[T]) -> list[T]:
    return [o for o in objects if not REGISTRY.owns(o.id)]


# --- the create ----------------------------------------------------------------------------------------------


def _ids(objects: Iterable[BirdObject]) -> str:
    return ", ".join(o.id for o in objects)


def create_exactly_once(
    *,
    identity: Hashable,
    what: str,
    post: Callable[[], T],
    recent_like: Callable[[datetime], Iterable[T]],
    delete: Callable[[T], None],
    existing_like: Optional[Callable[[], Iterable[T]]] = None,
    allow_identical: bool = False,
    adopt_hint: str = "adopt_id",
    explain_conflict: Optional[Callable[[errors.ConflictError], errors.BirdError]] = None,
    retry: RetryAdvisor,
    now: Callable[[], datetime] = utc_now,
) -> T:
    """Create one object of ``identity`` (see the module docstring for why the result is exact).

    :param post: POSTs the object once (the client retries 429s; it never repeats a POST that may have landed).
    :param recent_like: look-alikes created at or after the given moment (read newest first, stopping there).
    :param delete: removes one of our own duplicates (a 404 must count as done).
    :param existing_like: look-alikes that exist before the POST: when given, finding one that this process does
        not own fails the create (an interrupted run's leftover), unless ``allow_identical``.
    :param adopt_hint: the input that adopts an existing object, named in errors.
    :param retry: the client, which decides whether and when to POST again (and whose clock and sleep are used).
    """
    with REGISTRY.hold(identity):
        before: set[str] = set()
        if existing_like is not None:
            found = not_owned(existing_like())
            if found and not allow_identical:
                raise IdenticalObjectError(
                    f"{what}: an identical object already exists on Bird ({_ids(found)}), perhaps left by an "
                    f"interrupted run. Adopt it with {adopt_hint}={found[0].id!r}, delete it, or set "
                    f"allow_identical=True to create another one",
                    existing=[o.id for o in found],
                )
            before = {o.id for o in found}
        created = _create(what, post, recent_like, delete, before, explain_conflict, retry, now)
        REGISTRY.own(created.id)
        return created


def _create(
    what: str,
    post: Callable[[], T],
    recent_like: Callable[[datetime], Iterable[T]],
    delete: Callable[[T], None],
    before: set[str],
    explain_conflict: Optional[Callable[[errors.ConflictError], errors.BirdError]],
    retry: RetryAdvisor,
    now: Callable[[], datetime],
) -> T:
    since = now() - CLOCK_SKEW
    started = retry.now()
    ambiguous: list[errors.BirdError] = []

    def candidates() -> list[T]:
        """New look-alikes that may be our own attempts: not there before, not owned by a sibling."""
        return [o for o in not_owned(recent_like(since)) if o.id not in before]

    def look_up() -> list[T]:
        failure: Optional[errors.BirdError] = None
        for attempt in range(1, LOOKUP_ATTEMPTS + 1):
            try:
                return candidates()
            except errors.BirdError as exc:
                failure = exc
                if attempt < LOOKUP_ATTEMPTS:
                    retry.pause(backoff_delay(attempt, LOOKUP_RETRY_POLICY))
        raise AmbiguousCreateError(
            f"{what}: {len(ambiguous)} POST(s) failed in a way that may have created it ({ambiguous[-1]}), and "
            f"looking for it failed too ({failure}). Nothing was deleted. Look for a look-alike created after "
            f"{since.isoformat()} and adopt it with adopt_id, or delete it"
        )

    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        try:
            created = post()
        except errors.ConflictError as exc:
            if ambiguous:  # an earlier attempt of ours may hold the slot (a number carries one connector)
                found = look_up()
                if found:
                    return _settle(what, found, len(ambiguous), delete)
            raise (explain_conflict(exc) if explain_conflict else exc) from None
        except AMBIGUOUS as exc:
            ambiguous.append(exc)
            log.warning("create of %s failed ambiguously (%s); looking it up", what, exc)
            found = look_up()
            if found:
                return _settle(what, found, len(ambiguous), delete)
            # It did not land (as far as Bird lists): the client decides whether and when to POST again.
            delay = retry.retry_delay(exc, attempt, started, repeatable=True)
            if delay is None:
                break
            retry.pause(delay)
            continue
        if ambiguous:
            _remove_late_duplicates(what, created, look_up, len(ambiguous), delete)
        return created
    raise AmbiguousCreateError(
        f"{what}: {len(ambiguous)} POST(s) failed in a way that may have created it (last: {ambiguous[-1]}), and no "
        f"look-alike created after {since.isoformat()} was found, so nothing was created (or Bird has not listed it "
        f"yet: if one appears, adopt it with adopt_id)"
    )


def _settle(what: str, found: list[T], attempts: int, delete: Callable[[T], None]) -> T:
    """Keep the oldest of our attempts and delete the others, but only when they can all be ours."""
    if len(found) > attempts:
        raise AmbiguousCreateError(
            f"{what}: after {attempts} ambiguous POST(s), {len(found)} look-alikes appeared ({_ids(found)}): more than "
            f"this create could have made, so someone else is creating identical objects. Nothing was deleted. "
            f"Adopt the right one with adopt_id=<id> and delete the others",
            candidates=[o.id for o in found],
        )
    ordered = sorted(found, key=lambda o: as_utc(o.created_at))
    kept, extra = ordered[0], ordered[1:]
    leftovers = _delete_all(what, extra, delete)
    if leftovers:
        raise AmbiguousCreateError(
            f"{what}: kept {kept.id}, but deleting the duplicate(s) {', '.join(leftovers)} of its retried create "
            f"failed; they are still on Bird: delete them by hand. The resource was not created: adopt {kept.id} "
            f"with adopt_id={kept.id!r}",
            candidates=[o.id for o in ordered],
        )
    return kept


def _remove_late_duplicates(
    what: str, created: T, candidates: Callable[[], list[T]], attempts: int, delete: Callable[[T], None]
) -> None:
    """After a successful POST that followed ambiguous ones: earlier attempts that landed late are ours and go.
    The object just created is returned whatever happens here (it is named in every warning)."""
    try:
        late = [o for o in candidates() if o.id != created.id]
    except errors.BirdError as failure:
        log.warning(
            "%s: created %s, but checking whether %d earlier ambiguous attempt(s) also landed failed (%s); "
            "look for a look-alike of %s and delete it", what, created.id, attempts, failure, created.id,
        )
        return
    if len(late) > attempts:
        log.warning("%s: created %s; %d look-alikes appeared meanwhile (%s), more than our attempts: left alone",
                    what, created.id, len(late), _ids(late))
        return
    leftovers = _delete_all(what, late, delete)
    if leftovers:
        log.warning("%s: created %s; deleting our earlier duplicate(s) %s failed: delete them by hand",
                    what, created.id, ", ".join(leftovers))


def _delete_all(what: str, objects: Iterable[T], delete: Callable[[T], None]) -> list[str]:
    """Delete each; the ids that could not be deleted."""
    failed = []
    for duplicate in objects:
        log.warning("deleting duplicate %s %s left by a retried create", what, duplicate.id)
        try:
            delete(duplicate)
        except errors.BirdError:
            failed.append(duplicate.id)
    return failed


def newest_first_since(objects: Iterable[T], since: datetime) -> Iterator[T]:
    """Objects of a newest-first listing down to ``since``: stops reading (and paging) at the first older one."""
    for obj in objects:
        if as_utc(obj.created_at) < since:
            return
        yield obj


class SnapshotCache:
    """One listing per key for the whole process, taken on first use (the look-up before a create).

    Looking for an interrupted run's leftover needs every look-alike that existed before this deployment; one
    listing per workspace and template serves every create of the process, so its cost does not grow with the
    number of resources being created. Objects made by this process later are not in it (and are owned, so
    never a leftover); objects it lists that were deleted since are dropped by the caller's confirmation.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._lists: dict[Hashable, list[Any]] = {}

    def get(self, key: Hashable, load: Callable[[], Iterable[Any]]) -> list[Any]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one listing per key, even when many creates ask at once
            if key not in self._lists:
                self._lists[key] = list(load())
            return self._lists[key]


SNAPSHOTS = SnapshotCache()
