"""Reads of many connectors and webhook subscriptions in one workspace, gathered into a batch per workspace and
kind and answered from one listing when that takes fewer pages than the batch has reads (the design, its
guarantees and figures are in docs/performance.md, "Refresh in list pages")."""

from __future__ import annotations

import logging
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from . import errors
from .client import MAX_PAGE_SIZE, BirdClient
from .connectors import status_of
from .models import Connector, ConnectorStatus, WebhookSubscription

log: logging.Logger = logging.getLogger(__name__)

# How long a batch stays open at least: the reads the engine sends at once arrive over a few milliseconds
# (one gRPC call each); a lone read (a refresh of one resource, a get()) waits this long before its own GET.
GATHER_MIN_SECONDS = 0.05
# How long a batch stays open at most, whatever else is working: a wave of 32 status GETs takes 0.64 s at
# 50/s; past this the reads waiting are answered rather than wait on a slow request elsewhere.
GATHER_MAX_SECONDS = 2.0
# How long a read waits for the listing of its batch at most (the client's own retries end long before).
LISTING_WAIT_SECONDS = 600.0


@dataclass
class _Batch:
    """Reads of one kind waiting for one listing; ``found`` is filled when it is ``done``."""

    opened_at: float
    ids: set[str] = field(default_factory=set)
    members: int = 0  # reads waiting in it (two reads of one id are two members)
    found: dict[str, Any] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Kind:
    """One kind of object in one workspace: how to list them all and how to read one by id (None when gone)."""

    key: tuple[str, ...]
    list_all: Callable[[BirdClient], Iterator[Any]]
    find_one: Callable[[BirdClient, str], Optional[Any]]


class WorkspaceReads:
    """The reads of one workspace in this process: how many are in progress, and the open batch of each kind.

    ``clock`` is injectable for tests; waits use a condition that every change of state notifies."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed = threading.Condition()
        self.active: int = 0  # reads in progress
        self.waiting: int = 0  # of them, those waiting in an open batch
        self._open: dict[tuple[str, ...], _Batch] = {}
        self.pages: dict[tuple[str, ...], int] = {}  # pages the last complete listing of each kind took

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Count one read as in progress (open batches wait for it) for the duration of the block."""
        with self._changed:
            self.active += 1
        try:
            yield
        finally:
            with self._changed:
                self.active -= 1
                self._changed.notify_all()

    def find(self, kind: Kind, client: BirdClient, object_id: str) -> Optional[Any]:
        """The object by id, answered from a listing that began after this call when that pays, else by its own
        GET; None when Bird says it is gone. Call inside :meth:`reading`."""
        batch, leader = self._join(kind.key, object_id)
        if leader:
            try:
                self._gather(kind.key, batch)
                reads = len(batch.ids)
                if reads >= 2 and self.pages.get(kind.key, 0) < reads:  # the listing takes fewer pages than reads
                    self._list(kind, client, batch)
            finally:
                batch.done.set()
        else:
            batch.done.wait(LISTING_WAIT_SECONDS)
        if object_id in batch.found:
            return batch.found[object_id]
        return kind.find_one(client, object_id)

    def _join(self, key: tuple[str, ...], object_id: str) -> tuple[_Batch, bool]:
        with self._changed:
            batch = self._open.get(key)
            leader = batch is None
            if batch is None:
                batch = self._open[key] = _Batch(self._clock())
            batch.ids.add(object_id)
            batch.members += 1
            self.waiting += 1
            self._changed.notify_all()
        return batch, leader

    def _gather(self, key: tuple[str, ...], batch: _Batch) -> None:
        """Keep the batch open until every read of the workspace waits in a batch (after GATHER_MIN_SECONDS)
        or GATHER_MAX_SECONDS have passed; then close it, so that later reads open the next one."""
        with self._changed:
            for _ in range(100_000):  # a bound on wake-ups; the deadline ends the wait long before
                age = self._clock() - batch.opened_at
                if age >= GATHER_MAX_SECONDS or (age >= GATHER_MIN_SECONDS and self.waiting >= self.active):
                    break
                left = (GATHER_MIN_SECONDS if age < GATHER_MIN_SECONDS else GATHER_MAX_SECONDS) - age
                self._changed.wait(max(left, 0.001))
            del self._open[key]
            self.waiting -= batch.members
            self._changed.notify_all()

    def _list(self, kind: Kind, client: BirdClient, batch: _Batch) -> None:
        """Fill ``batch.found`` from a listing of at most len(ids) - 1 pages; a failing listing finds nothing."""
        cap = (len(batch.ids) - 1) * MAX_PAGE_SIZE
        seen: dict[str, Any] = {}
        complete = True
        try:
            for item in kind.list_all(client):
                seen[item.id] = item
                if len(seen) >= cap:  # stop before the generator asks for the next page
                    complete = False
                    break
        except errors.BirdError:
            return  # every read of the batch GETs its own object
        if complete:
            self.pages[kind.key] = max(1, math.ceil(len(seen) / MAX_PAGE_SIZE))
        else:
            self.pages[kind.key] = max(self.pages.get(kind.key, 0), len(batch.ids))  # at least this many
        batch.found = {object_id: seen[object_id] for object_id in batch.ids if object_id in seen}
        log.debug("%s: %d reads answered from a listing of %d objects (%s); %d read by id", "/".join(kind.key),
                  len(batch.found), len(seen), "complete" if complete else "stopped early", len(batch.ids) - len(batch.found))


_lock = threading.Lock()
_workspaces: dict[tuple[str, str], WorkspaceReads] = {}


def workspace_reads(api_url: str, workspace_id: str) -> WorkspaceReads:
    with _lock:
        return _workspaces.setdefault((api_url, workspace_id), WorkspaceReads())


def connectors_of(workspace_id: str) -> Kind:
    """Every connector of a workspace, whatever its template (one listing serves every connector resource)."""
    return Kind(
        ("connectors",),
        lambda client: client.list_connectors(workspace_id),
        lambda client, connector_id: client.find_connector(workspace_id, connector_id),
    )


def find_connector(client: BirdClient, workspace_id: str, connector_id: str) -> Optional[Connector]:
    """The connector (None when gone), from a listing shared with the reads in progress when that pays."""
    reads = workspace_reads(client.api_url, workspace_id)
    with reads.reading():
        return reads.find(connectors_of(workspace_id), client, connector_id)


def read_connector(
    client: BirdClient, workspace_id: str, connector_id: str
) -> tuple[Optional[Connector], Optional[ConnectorStatus]]:
    """A connector and its status, as a refresh or ``get()`` reads them: the connector from a shared listing
    when that pays, its status by its own GET (Bird lists no statuses). (None, None) when it is gone."""
    reads = workspace_reads(client.api_url, workspace_id)
    with reads.reading():
        connector: Optional[Connector] = reads.find(connectors_of(workspace_id), client, connector_id)
        if connector is None:
            return None, None
        try:
            status: Optional[ConnectorStatus] = client.get_connector_status(workspace_id, connector_id)
        except errors.NotFoundError:
            status = None
    return connector, status_of(client, connector, status)


def find_subscription(
    client: BirdClient, organization_id: str, workspace_id: str, subscription_id: str
) -> Optional[WebhookSubscription]:
    """The webhook subscription (None when gone), as :func:`find_connector` reads a connector."""
    kind = Kind(("webhook-subscriptions", organization_id),
                lambda bird: bird.list_webhook_subscriptions(organization_id, workspace_id),
                lambda bird, object_id: bird.find_webhook_subscription(organization_id, workspace_id, object_id))
    reads = workspace_reads(client.api_url, workspace_id)
    with reads.reading():
        return reads.find(kind, client, subscription_id)
