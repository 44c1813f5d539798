"""Create an object on Bird so that one resource ends with exactly one object, or none and an error that
names whatever it left behind: the rules, and why each holds, are in docs/exactly-once.md. Whether and when to
POST again is the client's :meth:`~pulumi_bird.api.client.BirdClient.retry_delay` (``repeatable=True``)."""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Generic, Hashable, Iterable, Iterator, Optional, Protocol, TypeVar

from . import errors
from .client import BirdClient
from .retry import RetryPolicy, backoff_delay
from .values import as_utc, is_uuid

log: logging.Logger = logging.getLogger(__name__)

# A hard stop for the POST loop whatever the client's policy says (the client's budget ends it far sooner).
MAX_CREATE_ATTEMPTS = 10
# Pauses between attempts of a recovery look-up that failed as a whole (Bird's list may lag its writes).
LOOKUP_RETRY_POLICY = RetryPolicy(base_delay=0.5, max_delay=2.0)
# A look-up that settles an ambiguous POST is tried this often as a whole (the client retries each request):
# giving up leaves an object that may be ours and no message can name, so it is worth a little more patience.
LOOKUP_ATTEMPTS = 3
# The one settle rule of every look-up that decides whether an object exists (docs/exactly-once.md): Bird's lists
# may lag its writes by 2-5 s (our own assumption: Bird documents no lag), and this window leaves room to spare.
LIST_SETTLE_SECONDS = 8.0
LIST_SETTLE_ENV = "PULUMI_BIRD_LIST_SETTLE_SECONDS"
MAX_LIST_SETTLE = 120.0
SETTLE_INTERVAL = 1.0
# A bound on the looks of one settle whatever the clock says.
MAX_SETTLE_LOOKS = 30
# Bird's answers to a POST that mean "maybe": Bird may have committed it (a 5xx, no answer, or a 2xx whose body
# could not be read). Not a redirect: the client never follows one, and nothing processed the request there.
AMBIGUOUS: tuple[type[errors.BirdError], ...] = (
    errors.ServerError,
    errors.APIConnectionError,
    errors.UnexpectedResponseError,
)


class BirdObject(Protocol):
    """What the create needs of an object Bird returns (read-only, so any model with these fields fits)."""

    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> Optional[datetime]: ...


T = TypeVar("T", bound=BirdObject)


class AmbiguousCreateError(errors.BirdError):
    """A create whose outcome could not be settled exactly; the message names every object that may be ours."""


class IdenticalObjectError(errors.BirdError):
    """An object identical to the one a create would make already exists (a leftover of an interrupted run, or
    an object made outside the stack); the message names them."""


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
remember_owned = REGISTRY.own


def not_owned(objects: Iterable[T]) -> list[T]:
    return [o for o in objects if not REGISTRY.owns(o.id)]


# --- the create ----------------------------------------------------------------------------------------------


def list_settle_seconds() -> float:
    """The settle time: :data:`LIST_SETTLE_SECONDS`, or what ``PULUMI_BIRD_LIST_SETTLE_SECONDS`` says (a number
    that is not one, or out of range, is ignored with a warning)."""
    raw = os.environ.get(LIST_SETTLE_ENV, "").strip()
    if not raw:
        return LIST_SETTLE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_LIST_SETTLE:
        log.warning("%s=%r is not a number of seconds from 0 to %g: using %g", LIST_SETTLE_ENV, raw[:20],
                    MAX_LIST_SETTLE, LIST_SETTLE_SECONDS)
        return LIST_SETTLE_SECONDS
    return seconds


def _ids(objects: Iterable[BirdObject]) -> str:
    return ", ".join(o.id or repr(o.id) for o in objects)


def create_exactly_once(
    *,
    identity: Hashable,
    what: str,
    post: Callable[[], T],
    like: Callable[[], Iterable[T]],
    delete: Callable[[T], None],
    matches: Callable[[T], bool] = lambda _: True,
    listed_before: Optional[Callable[[], Iterable[Any]]] = None,
    existing_like: Optional[Callable[[], Iterable[T]]] = None,
    allow_identical: bool = False,
    explain_conflict: Optional[Callable[[errors.ConflictError], errors.BirdError]] = None,
    retry: BirdClient,
) -> T:
    """Create one object of ``identity`` (docs/exactly-once.md says why the result is exact).

    :param post: POSTs the object once (the client retries 429s; it never repeats a POST that may have landed).
    :param like: the look-alikes Bird lists now (every page: no timestamp may exclude one).
    :param delete: removes one of our own duplicates (a 404 must count as done).
    :param matches: whether Bird's answer to the POST is the object posted (its echoed fields); an answer that
        is not, or whose id is not a UUID, is ambiguous: it is never adopted, and the object is looked for.
    :param listed_before: what Bird listed before the first POST (the process's one listing of the kind; none of
        it can be ours, look-alike or not), read once before it.
    :param existing_like: look-alikes that exist before the POST, confirmed: when given, finding one that this
        process does not own fails the create (an interrupted run's leftover), unless ``allow_identical``.
    :param retry: the client, which decides whether and when to POST again (and whose clocks and sleep are used).
    """
    with REGISTRY.hold(identity):
        before: set[str] = {o.id for o in listed_before()} if listed_before is not None else set()
        if existing_like is not None:
            found = not_owned(existing_like())
            if found and not allow_identical:
                raise IdenticalObjectError(retry.redact(  # it quotes ids Bird lists: no secret may ride along
                    f"{what}: an identical object already exists on Bird ({_ids(found)}), perhaps left by an "
                    f"interrupted run. Adopt it with adopt_id={found[0].id!r}, delete it, or set "
                    f"allow_identical=True to create another one"))
            before |= {o.id for o in found}
        try:
            created = _Create(what, post, like, delete, matches, before, explain_conflict, retry).run()
        except AmbiguousCreateError as exc:  # it quotes ids and answers from Bird: no secret may ride along
            raise exc.with_summary(retry.redact(str(exc.args[0]))) from None
        REGISTRY.own(created.id)
        return created


class _Create(Generic[T]):
    """The attempts of one create, and the look-ups between them."""

    def __init__(
        self, what: str, post: Callable[[], T], like: Callable[[], Iterable[T]], delete: Callable[[T], None],
        matches: Callable[[T], bool], before: set[str],
        explain_conflict: Optional[Callable[[errors.ConflictError], errors.BirdError]], retry: BirdClient,
    ) -> None:
        self.what, self.post, self.like, self.delete, self.matches = what, post, like, delete, matches
        self.before, self.explain_conflict, self.retry = before, explain_conflict, retry
        self.started = retry.now()
        self.settle = list_settle_seconds()
        self.ambiguous: list[errors.BirdError] = []

    def candidates(self) -> list[T]:
        """Look-alikes that may be our own attempts: not listed before the first POST, not owned by a sibling;
        once each. No timestamp is consulted (docs/exactly-once.md, "Evidence, not clocks")."""
        return list({o.id: o for o in not_owned(self.like()) if o.id not in self.before}.values())

    def run(self) -> T:
        for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
            try:
                created = self._post()
            except errors.ConflictError as exc:
                found = self.look_up() if self.ambiguous else []  # an attempt of ours may hold the number
                if found:
                    return _settle(self.what, found, len(self.ambiguous), self.delete)
                raise self.conflict(exc) from None
            except AMBIGUOUS as exc:
                self.ambiguous.append(exc)
                log.warning("create of %s failed ambiguously (%s); looking it up", self.what, exc)
                found = self.look_up()
                if found:
                    return _settle(self.what, found, len(self.ambiguous), self.delete)
                # It did not land (Bird lists nothing, also after the settle time): the client decides whether
                # and when to POST again.
                delay = self.retry.retry_delay(exc, attempt, self.started, repeatable=True)
                if delay is None:
                    break
                self.retry.pause(delay)
                continue
            if self.ambiguous:
                self._remove_late_duplicates(created)
            return created
        raise AmbiguousCreateError(
            f"{self.what}: {len(self.ambiguous)} POST(s) failed in a way that may have created it (last: "
            f"{self.ambiguous[-1]}), and no look-alike absent from the listing taken before the first POST was "
            f"listed within {self.settle:g}s of each, so none is known to exist. If one appears, adopt it "
            "with adopt_id"
        )

    def conflict(self, exc: errors.ConflictError) -> errors.BirdError:
        """The 409 to raise, explained; after ambiguous POSTs it says that the holder may be one of them."""
        conflict = self.explain_conflict(exc) if self.explain_conflict else exc
        if not self.ambiguous:
            return conflict
        return conflict.with_summary(
            f"{conflict.args[0]}. {len(self.ambiguous)} earlier POST(s) of this create failed in a way that may "
            f"have created it ({self.ambiguous[-1]}) and Bird did not list it within {self.settle:g}s: the holder "
            "may be this create's own; if so, adopt it with adopt_id")

    def _post(self) -> T:
        """One POST; an answer that is not the object posted (other id form or echoed fields) is ambiguous."""
        created = self.post()
        if not is_uuid(created.id):
            raise errors.UnexpectedResponseError(
                self.retry.redact(f"Bird's answer names no usable id ({created.id!r:.60}): not taken"))
        if not self.matches(created) or created.id in self.before or REGISTRY.owns(created.id):
            raise errors.UnexpectedResponseError(
                f"Bird's answer is object {created.id}, which is not the one posted: not taken")
        return created

    def look_up(self, enough: int = 1) -> list[T]:
        """Candidates, looked for until ``enough`` are listed or the settle time has passed since now (the
        answer being settled) with at least one look succeeding after that: the one settle rule."""
        settled = self.retry.now() + self.settle
        failure: Optional[errors.BirdError] = None
        failures = 0
        for _ in range(MAX_SETTLE_LOOKS):
            try:
                found = self.candidates()
            except errors.BirdError as exc:
                failure, failures = exc, failures + 1
                if failures >= LOOKUP_ATTEMPTS:
                    break
                self.retry.pause(backoff_delay(failures, LOOKUP_RETRY_POLICY))
                continue
            if len(found) >= enough or self.retry.now() >= settled:
                return found
            self.retry.pause(SETTLE_INTERVAL)
        if failure is None:
            return []
        raise AmbiguousCreateError(
            f"{self.what}: {len(self.ambiguous)} POST(s) failed in a way that may have created it "
            f"({self.ambiguous[-1]}), and looking for it failed too ({failure}). Nothing was deleted. Look for a "
            f"look-alike of {self.what} and adopt it with adopt_id, or delete it"
        )

    def _remove_late_duplicates(self, created: T) -> None:
        """After a successful POST that followed ambiguous ones: earlier attempts that landed late are ours and
        go. Looked for under the settle rule (a late one may not be listed yet), until as many as the ambiguous
        POSTs are found. The object just created is returned whatever happens here (every warning names it)."""
        attempts = len(self.ambiguous)
        self.before.add(created.id)
        try:
            late = self.look_up(enough=attempts)
        except AmbiguousCreateError as failure:
            log.warning("%s: created %s, but checking whether %d earlier ambiguous attempt(s) also landed failed "
                        "(%s); look for a look-alike of %s and delete it", self.what, created.id, attempts, failure,
                        created.id)
            return
        if len(late) > attempts:
            log.warning("%s: created %s; %d look-alikes appeared meanwhile (%s), more than our attempts: left alone",
                        self.what, created.id, len(late), self.retry.redact(_ids(late)))  # ids Bird lists
            return
        leftovers = _delete_all(self.what, [o for o in late if is_uuid(o.id)], self.delete)
        if leftovers:
            log.warning("%s: created %s; deleting our earlier duplicate(s) %s failed: delete them by hand",
                        self.what, created.id, ", ".join(leftovers))


def _settle(what: str, found: list[T], attempts: int, delete: Callable[[T], None]) -> T:
    """Keep the oldest of our attempts and delete the others, but only when they can all be ours."""
    unusable = [o for o in found if not is_uuid(o.id)]
    if unusable:
        raise AmbiguousCreateError(
            f"{what}: after {attempts} ambiguous POST(s), Bird lists look-alikes whose ids are not Bird ids "
            f"({_ids(unusable)}); nothing was adopted or deleted. Candidates: {_ids(found)}: check them in Bird and "
            f"delete what is not wanted")
    if len(found) > attempts:
        raise AmbiguousCreateError(
            f"{what}: after {attempts} ambiguous POST(s), {len(found)} look-alikes appeared ({_ids(found)}): more than "
            f"this create could have made, so someone else is creating identical objects. Nothing was deleted. "
            f"Adopt the right one with adopt_id=<id> and delete the others")
    ordered = sorted(found, key=lambda o: as_utc(o.created_at))
    kept, extra = ordered[0], ordered[1:]
    leftovers = _delete_all(what, extra, delete)
    if leftovers:
        raise AmbiguousCreateError(
            f"{what}: kept {kept.id}, but deleting the duplicate(s) {', '.join(leftovers)} of its retried create "
            f"failed; they are still on Bird: delete them by hand. The resource was not created: adopt {kept.id} "
            f"with adopt_id={kept.id!r}")
    return kept


def _delete_all(what: str, objects: Iterable[T], delete: Callable[[T], None]) -> list[str]:
    failed = []
    for duplicate in objects:
        log.warning("deleting duplicate %s %s left by a retried create", what, duplicate.id)
        try:
            delete(duplicate)
        except errors.BirdError:
            failed.append(duplicate.id)
    return failed


_SNAPSHOTS: dict[Hashable, list[Any]] = {}


def snapshot(key: Hashable, load: Callable[[], Iterable[Any]]) -> list[Any]:
    """One listing per key for the whole process, taken on first use (the look-up before a create): every
    create of the process shares it, so its cost does not grow with the number of resources being created.
    Objects this process makes later are not in it (and are owned); the caller confirms the ones it lists."""
    with REGISTRY.hold(("listing", key)):  # one listing per key, even when many creates ask at once
        if key not in _SNAPSHOTS:
            _SNAPSHOTS[key] = list(load())
        return _SNAPSHOTS[key]
