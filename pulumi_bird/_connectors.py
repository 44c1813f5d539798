"""Finders, waiters and recovery for connectors: the remote logic shared by Connector, SmsChannel and
VoiceChannel (in the manner of terraform-provider-aws's find/status/wait functions)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from . import errors
from .client import BirdClient
from .models import Connector, ConnectorStatus, CreateConnectorRequest

log = logging.getLogger(__name__)

# Readiness polling (https://docs.bird.com/api/channels-api/api-reference/channel-connectors): Bird gives no
# provisioning time, so poll at once, then again after 30% of the time waited so far: the channel is seen
# active at most ~30% late, with few calls for slow channels. At least 0.6 s apart (16 channels waiting at
# once stay under Bird's 50 GET/s per workspace), at most 4.5 s apart (never more than 4.5 s late).
POLL_FRACTION = 0.3
POLL_MIN_INTERVAL = 0.6
POLL_MAX_INTERVAL = 4.5
# A hard stop for the loop whatever the clock says (a week of polls at the minimum interval is far less).
MAX_POLLS = 100_000
# Stages in which the channel is going away: a create that sees one has failed.
TERMINAL_STAGES = frozenset({"deprovisioning", "deprovisioned"})

# An ambiguous create (5xx or no answer to the POST) is looked up, then retried at most this often in all.
MAX_CREATE_ATTEMPTS = 3
# How far Bird's clock may lag ours when we look for a connector that an ambiguous POST may have created.
CLOCK_SKEW = timedelta(minutes=5)


def poll_interval(elapsed: float) -> float:
    """Seconds to wait before the next readiness poll, after ``elapsed`` seconds of waiting."""
    return min(POLL_MAX_INTERVAL, max(POLL_MIN_INTERVAL, POLL_FRACTION * elapsed))


def wait_connector_ready(
    client: BirdClient,
    workspace_id: str,
    connector_id: str,
    timeout: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ConnectorStatus:
    """Poll ``/status`` until the channel is ok/active; raise ReadinessError when it fails or time runs out."""
    started = clock()
    deadline = started + timeout
    for _ in range(MAX_POLLS):
        status = client.get_connector_status(workspace_id, connector_id)
        channel = status.channel
        if channel is not None:
            if channel.ready:
                return status
            if channel.failed or channel.stage in TERMINAL_STAGES:
                raise errors.ReadinessError(
                    f"the channel of connector {connector_id} failed to provision "
                    f"(status {channel.status}, stage {channel.stage}): {channel.error_message or 'Bird gave no reason'}",
                    connector_id=connector_id,
                )
        now = clock()
        if now >= deadline:
            state = f"status {channel.status}, stage {channel.stage}" if channel else "no channel yet"
            raise errors.ReadinessError(
                f"the channel of connector {connector_id} was not active after {timeout:g}s ({state}); "
                "raise ready_timeout if Bird is slow to provision",
                connector_id=connector_id,
                timed_out=True,
            )
        wait = min(poll_interval(now - started), deadline - now)
        log.debug("connector %s: %s; next poll in %.2fs", connector_id,
                  f"status {channel.status}, stage {channel.stage}" if channel else "no channel yet", wait)
        sleep(wait)
    raise errors.ReadinessError(f"gave up waiting for connector {connector_id}", connector_id=connector_id, timed_out=True)


def find_connector_status(client: BirdClient, workspace_id: str, connector_id: str) -> Optional[ConnectorStatus]:
    """The connector's status, or None when Bird says 404."""
    try:
        return client.get_connector_status(workspace_id, connector_id)
    except errors.NotFoundError:
        return None


def delete_connector_if_present(client: BirdClient, workspace_id: str, connector_id: str) -> None:
    """Delete; a connector that is already gone counts as deleted."""
    try:
        client.delete_connector(workspace_id, connector_id)
    except errors.NotFoundError:
        pass


def _same_arguments(connector: Connector, request: CreateConnectorRequest) -> bool:
    wanted = request.arguments or {}
    have = connector.arguments or {}
    return all(have.get(k) == v for k, v in wanted.items())


def _is_ours(connector: Connector, request: CreateConnectorRequest, since: datetime) -> bool:
    return (
        connector.name == request.name
        and connector.connector_template_ref == request.connector_template_ref
        and _same_arguments(connector, request)
        and as_utc(connector.created_at) >= since - CLOCK_SKEW
    )


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def recover_connector(
    client: BirdClient, workspace_id: str, request: CreateConnectorRequest, since: datetime
) -> Optional[Connector]:
    """After a POST whose outcome is unknown, find the connector it may have created.

    Ours = same template, name and arguments, created since the first attempt. The oldest match is
    adopted; any further matches are duplicates left by earlier attempts and are deleted.
    """
    matches = sorted(
        (c for c in client.list_connectors(workspace_id, request.connector_template_ref) if _is_ours(c, request, since)),
        key=lambda c: as_utc(c.created_at),
    )
    if not matches:
        return None
    for duplicate in matches[1:]:
        log.warning("deleting duplicate connector %s left by a retried create", duplicate.id)
        delete_connector_if_present(client, workspace_id, duplicate.id)
    return matches[0]


def number_holder(client: BirdClient, workspace_id: str, request: CreateConnectorRequest) -> Optional[Connector]:
    """The connector that already holds the requested phone number, if it can be found."""
    number_id = (request.arguments or {}).get("phoneNumberId")
    if not number_id:
        return None
    for connector in client.list_connectors(workspace_id, request.connector_template_ref):
        held = (connector.arguments or {}).get("phoneNumberId") or (connector.number.number_id if connector.number else None)
        if held == number_id:
            return connector
    return None


def create_connector_resolving(
    client: BirdClient,
    workspace_id: str,
    request: CreateConnectorRequest,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Connector:
    """POST a connector so that one call of this function leaves exactly one connector, or none and an error.

    A 5xx or a lost answer may hide a committed create: the connector is looked up before any retry.
    A 409 names the connector that holds the number when it can be found.
    """
    since = datetime.now(timezone.utc)
    last: Optional[errors.BirdError] = None
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        try:
            return client.create_connector(workspace_id, request)
        except errors.ConflictError as exc:
            raise _explain_conflict(client, workspace_id, request, exc) from None
        except (errors.ServerError, errors.APIConnectionError) as exc:
            last = exc
            log.warning("create of connector %r failed ambiguously (%s); looking it up", request.name, exc)
            found = recover_connector(client, workspace_id, request, since)
            if found is not None:
                return found
            if attempt < MAX_CREATE_ATTEMPTS:
                sleep(POLL_MIN_INTERVAL * attempt)
    assert last is not None
    raise last


def _explain_conflict(
    client: BirdClient, workspace_id: str, request: CreateConnectorRequest, exc: errors.ConflictError
) -> errors.BirdError:
    number_id = (request.arguments or {}).get("phoneNumberId")
    try:
        holder = number_holder(client, workspace_id, request)
    except errors.BirdError:
        holder = None
    if holder is not None:
        what = (
            f"phone number {number_id} already carries connector {holder.id} ({holder.name!r}, "
            f"{holder.connector_template_ref}). Adopt it with ResourceOptions(import_={holder.id!r}) or delete it first"
        )
    elif number_id:
        what = f"phone number {number_id} already carries a {request.connector_template_ref} connector"
    else:
        what = "a connector like this one already exists"
    return exc.with_summary(what)


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


def iso(moment: Optional[datetime]) -> Optional[str]:
    if moment is None:
        return None
    return as_utc(moment).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def connector_outputs(connector: Connector, status: Optional[ConnectorStatus]) -> dict[str, Any]:
    """The computed outputs of every connector-backed resource."""
    channel = status.channel if status else None
    number = status.number if status else None
    return {
        "connector_id": connector.id,
        "channel_id": (connector.channel.channel_id if connector.channel else None) or (channel.channel_id if channel else None),
        "platform": (connector.channel.platform if connector.channel else None) or (channel.platform_name if channel else None),
        "channel_status": channel.status if channel else None,
        "channel_stage": channel.stage if channel else None,
        "number_id": (connector.number.number_id if connector.number else None)
        or (number.number_id if number else None)
        or (connector.arguments or {}).get("phoneNumberId"),
        "phone_number": (connector.number.phone_number if connector.number else None) or (number.phone_number if number else None),
        "region": connector.region,
        "connector_template_ref": connector.connector_template_ref,
        "created_at": iso(connector.created_at),
    }
