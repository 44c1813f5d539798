"""Create an object on Bird so that one call leaves exactly one object, or none and an error.

A POST that fails with a 5xx, loses its answer, or is answered with a body we cannot read may still have
been committed by Bird. Before anything is retried or reported, the objects like ours that did not exist
before the first POST are looked up: one is adopted, any others are duplicates of our own attempts and
are deleted. The snapshot taken before the first POST is what keeps a look-up from adopting someone
else's object (or the old object of a create-before-delete replacement).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Callable, Iterable, Optional, Protocol, TypeVar

from . import errors

log = logging.getLogger(__name__)

# An ambiguous create is looked up, then retried at most this often in all.
MAX_CREATE_ATTEMPTS = 3
# Pause before posting again after an ambiguous failure that left nothing behind (grows per attempt).
RETRY_PAUSE = 0.6
# What makes a failed POST ambiguous: Bird may have committed it. (ValueError: a 2xx body we cannot read.)
AMBIGUOUS = (errors.ServerError, errors.APIConnectionError, ValueError)


class BirdObject(Protocol):
    id: str
    created_at: Optional[datetime]


T = TypeVar("T", bound=BirdObject)


def as_utc(moment: Optional[datetime]) -> datetime:
    if moment is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def create_exactly_once(
    post: Callable[[], T],
    find_like: Callable[[], Iterable[T]],
    delete: Callable[[T], None],
    *,
    what: str,
    explain_conflict: Optional[Callable[[errors.ConflictError], errors.BirdError]] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """POST with ``post``; ``find_like`` lists the objects that look like ours; ``delete`` removes one
    (a 404 must count as done)."""
    existing = {obj.id for obj in find_like()}

    def settle(keep: Optional[str] = None) -> Optional[T]:
        new = sorted((o for o in find_like() if o.id not in existing), key=lambda o: as_utc(o.created_at))
        if not new:
            return None
        kept = next((o for o in new if o.id == keep), new[0])
        for duplicate in new:
            if duplicate.id != kept.id:
                log.warning("deleting duplicate %s %s left by a retried create", what, duplicate.id)
                delete(duplicate)
        return kept

    ambiguous: Optional[Exception] = None
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        try:
            created = post()
        except errors.ConflictError as exc:
            found = settle() if ambiguous else None  # our own earlier attempt may hold the slot
            if found is not None:
                return found
            raise (explain_conflict(exc) if explain_conflict else exc) from None
        except AMBIGUOUS as exc:
            ambiguous = exc
            log.warning("create of %s failed ambiguously (%s); looking it up", what, exc)
            found = settle()
            if found is not None:
                return found
            if attempt < MAX_CREATE_ATTEMPTS:
                sleep(RETRY_PAUSE * attempt)
            continue
        if ambiguous is not None:  # an earlier attempt may have landed after all: keep only this one
            settle(keep=created.id)
        return created
    assert ambiguous is not None
    raise ambiguous
