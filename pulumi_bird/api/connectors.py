"""Finders, waiters and recovery for connectors: the remote logic shared by Connector, SmsChannel and
VoiceChannel (in the manner of terraform-provider-aws's find/status/wait functions)."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager, suppress
from typing import Any, Iterator, Optional

from . import errors
from .client import BirdClient
from .create import create_exactly_once, identity_key, snapshot
from .models import Connector, ConnectorStatus, CreateConnectorRequest
from .readiness import poll_interval
from .readiness import wait_connector_ready as wait_connector_ready  # the provider's import
from .values import iso

log: logging.Logger = logging.getLogger(__name__)


def status_of(client: BirdClient, connector: Connector, status: Optional[ConnectorStatus]) -> Optional[ConnectorStatus]:
    """``status`` when it can be ``connector``'s: the phone number and channel it names, where both show one, are
    the connector's. Otherwise a ForeignObjectError naming both, before anything is stored (Bird's status body
    carries no connector id, so these are all it can be checked by)."""
    if status is None:
        return None
    pairs = (("phone number", connector.phone_number_id, status.number.number_id if status.number else None),
             ("channel", connector.channel.channel_id if connector.channel else None,
              status.channel.channel_id if status.channel else None))
    for what, mine, theirs in pairs:
        if mine and theirs and mine != theirs:
            raise errors.ForeignObjectError(client.redact(  # it quotes Bird's answer: no secret may ride along
                f"the status read of connector {connector.id} names {what} {theirs!r:.60}, but the connector has "
                f"{mine}: not taken, nothing stored (a proxy or cache between us and Bird? check bird:apiUrl / "
                "BIRD_API_URL)"), method="GET", status=200)
    return status


def delete_connector_if_present(client: BirdClient, workspace_id: str, connector_id: str) -> None:
    """Delete; a connector that is already gone counts as deleted."""
    with suppress(errors.NotFoundError):
        client.delete_connector(workspace_id, connector_id)


def is_look_alike(connector: Connector, request: CreateConnectorRequest) -> bool:
    """Whether ``connector`` shows everything this create request would show: same name and template, and every
    declared argument it echoes (those Bird adds or does not echo are not compared; the phone number is read
    from ``number``)."""
    have = dict(connector.arguments or {})
    if connector.phone_number_id is not None:
        have["phoneNumberId"] = connector.phone_number_id
    return (
        connector.name == request.name
        and connector.connector_template_ref in (None, request.connector_template_ref)
        and all(have[key] == value for key, value in (request.arguments or {}).items() if key in have)
    )


# --- phone numbers: what this process knows better than Bird's 409 ---------------------------------------------
# Two of the 409s on a number are not a foreign holder (docs/troubleshooting.md): a sibling resource's connector
# (name it: adopting it is the wrong fix), or one this process deleted that Bird is still releasing (wait for it).

# How long explaining a 409 waits for a sibling's POST on the same number to be answered (the client's read
# timeout: the POST is answered, or failed, by then).
SIBLING_ANSWER_SECONDS = 30.0
# A hard stop for the POSTs on a number being released, whatever the clock says (ready_timeout ends it far sooner:
# attempts are spaced like readiness polls, 0.5-4.5 s apart).
MAX_RELEASE_ATTEMPTS = 1_000
# A deletion this old no longer explains a 409: a delete-before-replace creates right after its delete, and even a
# large `pulumi up` reaches the create within minutes.
RELEASE_MEMORY_SECONDS = 900.0

NumberKey = tuple[str, str, str]  # (workspace, template ref, phone number id)


class NumberNotReleasedError(errors.ConflictError):
    """409 on a phone number whose connector this process deleted: Bird has not released the number yet."""


class Claim:
    """One create of this process on a phone number: the resource it is for, and its connector once it has one."""

    def __init__(self, resource: Optional[str]) -> None:
        self.resource = resource
        self.connector_id: Optional[str] = None
        self.answered: threading.Event = threading.Event()  # clear while one of its POSTs is on its way
        self.answered.set()


class NumberLedger:
    """Process-wide, per phone number: the creates of this process on it, and the connectors it deleted from it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: dict[NumberKey, list[Claim]] = {}
        self._released: dict[NumberKey, dict[str, float]] = {}  # connector id -> when it was deleted (monotonic)

    @contextmanager
    def claim(self, key: Optional[NumberKey], resource: Optional[str]) -> Iterator[Claim]:
        """A create on ``key``'s number for ``resource``; kept while it holds a connector, so siblings can name it."""
        claim = Claim(resource)
        if key is None:
            yield claim
            return
        with self._lock:
            self._claims.setdefault(key, []).append(claim)
        try:
            yield claim
        finally:
            claim.answered.set()
            if claim.connector_id is None:
                with self._lock:
                    self._claims[key].remove(claim)

    def sibling_holding(self, key: NumberKey, holder_id: Optional[str], me: Claim, wait: float) -> Optional[Claim]:
        """The sibling create that holds the number (its connector is ``holder_id``; any sibling's when Bird's list
        did not show the holder), after waiting up to ``wait`` seconds for siblings' POSTs on their way."""
        with self._lock:
            others = [c for c in self._claims.get(key, []) if c is not me]
        deadline = time.monotonic() + wait
        for other in others:
            other.answered.wait(max(0.0, deadline - time.monotonic()))
            if other.connector_id is not None and holder_id in (None, other.connector_id):
                return other
        return None

    def note_deleted(self, key: NumberKey, connector_id: str) -> None:
        with self._lock:
            self._released.setdefault(key, {})[connector_id] = time.monotonic()
            self._claims[key] = [c for c in self._claims.get(key, []) if c.connector_id != connector_id]

    def deleted(self, key: NumberKey) -> frozenset[str]:
        """The connectors this process deleted from the number lately (within RELEASE_MEMORY_SECONDS)."""
        since = time.monotonic() - RELEASE_MEMORY_SECONDS
        with self._lock:
            return frozenset(cid for cid, at in self._released.get(key, {}).items() if at >= since)


NUMBERS = NumberLedger()


def number_key(workspace_id: str, template_ref: Optional[str], number_id: Any) -> Optional[NumberKey]:
    return (workspace_id, template_ref, number_id) if template_ref and isinstance(number_id, str) and number_id else None


def note_number_released(workspace_id: str, template_ref: Optional[str], number_id: Any, connector_id: str) -> None:
    """This process deleted ``connector_id``, which held ``number_id``: a 409 on the number may follow for a while."""
    key = number_key(workspace_id, template_ref, number_id)
    if key is not None:
        NUMBERS.note_deleted(key, connector_id)


def create_connector_resolving(
    client: BirdClient,
    workspace_id: str,
    request: CreateConnectorRequest,
    *,
    guard_existing: bool = True,
    allow_identical: bool = False,
    resource: Optional[str] = None,
    release_timeout: float = 0.0,
) -> Connector:
    """POST a connector so that one resource ends with exactly one connector, or none and an error naming what
    is left (:mod:`pulumi_bird.api.create`). ``guard_existing``: look for an interrupted run's identical leftover
    first (phone number channels skip it: Bird's 409 guards their number). A 409 names what holds the number
    (``resource`` names this create to its siblings); one on a number whose connector this process deleted is
    retried for up to ``release_timeout`` seconds, each attempt taking a turn in the workspace's GET budget."""
    number_id = (request.arguments or {}).get("phoneNumberId")
    key = number_key(workspace_id, request.connector_template_ref, number_id)
    with NUMBERS.claim(key, resource) as claim:
        started = client.now()
        for _ in range(MAX_RELEASE_ATTEMPTS):
            try:
                connector = _create_once(client, workspace_id, request, claim, guard_existing, allow_identical)
            except NumberNotReleasedError as exc:
                waited = client.now() - started
                if waited >= release_timeout:
                    raise exc.with_summary(
                        f"phone number {number_id} is still taken on Bird: this deployment deleted its connector "
                        f"{', '.join(sorted(NUMBERS.deleted(key) if key else ()))} and waited {waited:.0f}s for Bird "
                        "to release the number. The old channel is gone and no new one was created: run `pulumi up` "
                        "again once Bird has released it, or raise ready_timeout") from None
                _take_turn(client, workspace_id, min(started + release_timeout, client.now() + poll_interval(waited)))
                continue
            claim.connector_id = connector.id
            return connector
    raise errors.ConflictError(f"gave up creating connector {request.name!r} after {MAX_RELEASE_ATTEMPTS} attempts")


def _create_once(
    client: BirdClient, workspace_id: str, request: CreateConnectorRequest, claim: Claim, guard: bool, identical: bool
) -> Connector:
    template = request.connector_template_ref

    def post() -> Connector:
        claim.answered.clear()
        try:
            connector = client.create_connector(workspace_id, request)
            claim.connector_id = connector.id
            return connector
        finally:
            claim.answered.set()

    def listed_before() -> list[Connector]:  # the process's one listing of the template, before its first create
        return snapshot(("connectors", client.api_url, workspace_id, template),
                        lambda: client.list_connectors(workspace_id, template, newest_first=True))

    return create_exactly_once(
        identity=identity_key("connector", client.api_url, workspace_id, template, request.name,
                              request.arguments or {}),
        what=f"connector {request.name!r}",
        post=post,
        # every page of the template: this runs only after an ambiguous POST, and no createdAt may exclude one
        like=lambda: [c for c in client.list_connectors(workspace_id, template, newest_first=True)
                      if is_look_alike(c, request)],
        delete=lambda c: delete_connector_if_present(client, workspace_id, c.id),
        matches=lambda c: is_look_alike(c, request),
        # A phone number channel lists nothing before its POST (it makes no call before it): Bird lets a number
        # carry one connector of a template, so a look-alike on it that our POST did not make would have refused it
        listed_before=listed_before if guard else None,
        # an interrupted run's leftovers: look-alikes listed before, each confirmed by id (still there)
        existing_like=(lambda: [c for c in listed_before() if is_look_alike(c, request)
                                and client.find_connector(workspace_id, c.id) is not None]) if guard else None,
        allow_identical=identical,
        explain_conflict=lambda exc: _explain_conflict(client, workspace_id, request, exc, claim),
        retry=client,
    )


def _take_turn(client: BirdClient, workspace_id: str, due: float) -> None:
    """Wait until ``due``, then for a slot of the workspace's GET budget (priority: when the attempt became due)."""
    client.pause(max(0.0, due - client.now()))
    pacer = client.pacer(workspace_id)
    if pacer is not None:
        pacer.acquire(due).done()


def _explain_conflict(
    client: BirdClient, workspace_id: str, request: CreateConnectorRequest, exc: errors.ConflictError, claim: Claim
) -> errors.BirdError:
    number_id = (request.arguments or {}).get("phoneNumberId")
    key = number_key(workspace_id, request.connector_template_ref, number_id)
    try:  # the connector that holds the number, if Bird's list shows it
        listing = client.list_connectors(workspace_id, request.connector_template_ref, newest_first=True)
        holder = next((c for c in listing if c.phone_number_id == number_id), None) if number_id else None
    except errors.BirdError:
        holder = None
    sibling = NUMBERS.sibling_holding(key, holder.id if holder else None, claim, SIBLING_ANSWER_SECONDS) if key else None
    deleted = NUMBERS.deleted(key) if key else frozenset()
    if sibling is not None:
        what = (
            f"phone number {number_id} is already used by resource {sibling.resource or '?'!r} of this stack "
            f"(connector {sibling.connector_id}): a number carries one {request.connector_template_ref} connector, "
            f"so give each channel its own number"
        )
    elif deleted and (holder is None or holder.id in deleted):
        return NumberNotReleasedError(
            f"phone number {number_id} is still being released", method=exc.method, url=exc.url, status=exc.status,
            code=exc.code, bird_message=exc.bird_message, details=exc.details, request_id=exc.request_id,
        )
    elif holder is not None:
        mine = " (identical to this one: perhaps left by an interrupted create)" if is_look_alike(holder, request) else ""
        what = (
            f"phone number {number_id} already carries connector {holder.id} ({holder.name!r}, "
            f"{holder.connector_template_ref}){mine}. Adopt it with adopt_id={holder.id!r}, or delete it first"
        )
    elif number_id:
        what = f"phone number {number_id} already carries a {request.connector_template_ref} connector"
    else:
        what = "a connector like this one already exists"
    return exc.with_summary(client.redact(what))  # it quotes the holder Bird lists: no secret may ride along


def roll_back(client: BirdClient, workspace_id: str, connector_id: str, cause: BaseException) -> errors.BirdError:
    """Delete a connector whose channel did not come up; the error to raise says what happened to it."""
    try:
        delete_connector_if_present(client, workspace_id, connector_id)
    except errors.BirdError as failure:
        return errors.BirdError(
            f"{cause}. Deleting connector {connector_id} also failed ({failure}); "
            f"it is still on Bird: delete it by hand or import it"
        )
    return errors.BirdError(f"{cause}. Connector {connector_id} was deleted, so nothing is left on Bird")


def connector_outputs(
    connector: Connector, status: Optional[ConnectorStatus], template_ref: Optional[str] = None
) -> dict[str, Any]:
    """The computed outputs of every connector-backed resource (``template_ref``: what we asked for, in
    case Bird leaves the connector's template out)."""
    channel = status.channel if status else None
    number = status.number if status else None
    return {
        "connector_id": connector.id,
        "channel_id": (connector.channel.channel_id if connector.channel else None) or (channel.channel_id if channel else None),
        "platform": (connector.channel.platform if connector.channel else None) or (channel.platform_name if channel else None),
        "channel_status": channel.status if channel else None,
        "channel_stage": channel.stage if channel else None,
        "number_id": connector.phone_number_id or (number.number_id if number else None),
        "phone_number": (connector.number.phone_number if connector.number else None) or (number.phone_number if number else None),
        "region": connector.region,
        "connector_template_ref": connector.connector_template_ref or template_ref,
        "created_at": iso(connector.created_at),
    }
