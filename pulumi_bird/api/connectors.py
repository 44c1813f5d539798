"""Finders, waiters and recovery for connectors: the remote logic shared by Connector, SmsChannel and
VoiceChannel (in the manner of terraform-provider-aws's find/status/wait functions)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Optional

from . import errors
from .client import BirdClient
from .create import SNAPSHOTS, create_exactly_once, identity_key, newest_first_since
from .models import Connector, ConnectorStatus, CreateConnectorRequest
from .readiness import NOT_FOUND_GRACE, poll_interval  # noqa: F401 (re-exports)
from .readiness import wait_connector_ready as wait_ready
from .values import iso

log: logging.Logger = logging.getLogger(__name__)

# Readiness: the poll schedule, the per-workspace scheduler and the waiter live in pulumi_bird.api.readiness.


def wait_connector_ready(
    client: BirdClient, workspace_id: str, connector_id: str, timeout: float, **options: Any
) -> ConnectorStatus:
    """:func:`pulumi_bird.api.readiness.wait_connector_ready`, paced by the workspace's GET budget."""
    return wait_ready(client, workspace_id, connector_id, timeout, pacer=client.pacer(workspace_id), **options)


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


def same_declared_arguments(connector: Connector, declared: Optional[dict[str, Any]]) -> bool:
    """Whether Bird's connector agrees with every declared argument it echoes. Arguments Bird adds are not
    compared, and neither are those it does not echo (the phone number is then read from ``number``)."""
    have = dict(connector.arguments or {})
    if "phoneNumberId" not in have and connector.number is not None and connector.number.number_id is not None:
        have["phoneNumberId"] = connector.number.number_id
    return all(have[key] == value for key, value in (declared or {}).items() if key in have)


def is_look_alike(connector: Connector, request: CreateConnectorRequest) -> bool:
    """Whether ``connector`` shows everything this create request would show: same name, template and arguments."""
    return (
        connector.name == request.name
        and connector.connector_template_ref in (None, request.connector_template_ref)
        and same_declared_arguments(connector, request.arguments)
    )


def connector_identity(client: BirdClient, workspace_id: str, request: CreateConnectorRequest) -> str:
    return identity_key("connector", client.api_url, workspace_id, request.connector_template_ref, request.name,
                        request.arguments or {})


def connectors_like_since(
    client: BirdClient, workspace_id: str, request: CreateConnectorRequest, since: Callable[[], datetime]
) -> list[Connector]:
    """Look-alikes created at or after ``since()`` (Bird's clock): newest first, no page older than that is read."""
    listing = client.list_connectors(workspace_id, request.connector_template_ref, newest_first=True)
    return [c for c in newest_first_since(listing, since) if is_look_alike(c, request)]


def connectors_like_before(client: BirdClient, workspace_id: str, request: CreateConnectorRequest) -> list[Connector]:
    """Look-alikes that exist now, from the process's one listing of the template, each confirmed by id."""
    listing = SNAPSHOTS.get(
        ("connectors", client.api_url, workspace_id, request.connector_template_ref),
        lambda: client.list_connectors(workspace_id, request.connector_template_ref, newest_first=True),
    )
    alike = [c for c in listing if is_look_alike(c, request)]
    return [c for c in alike if client.find_connector(workspace_id, c.id) is not None]


def number_holder(client: BirdClient, workspace_id: str, request: CreateConnectorRequest) -> Optional[Connector]:
    """The connector that already holds the requested phone number, if it can be found."""
    number_id = (request.arguments or {}).get("phoneNumberId")
    if not number_id:
        return None
    for connector in client.list_connectors(workspace_id, request.connector_template_ref, newest_first=True):
        held = (connector.arguments or {}).get("phoneNumberId") or (connector.number.number_id if connector.number else None)
        if held == number_id:
            return connector
    return None


def create_connector_resolving(
    client: BirdClient,
    workspace_id: str,
    request: CreateConnectorRequest,
    *,
    guard_existing: bool = True,
    allow_identical: bool = False,
) -> Connector:
    """POST a connector so that one resource ends with exactly one connector, or none and an error naming what
    is left (see :mod:`pulumi_bird.api.create`).

    ``guard_existing``: look for an identical connector before the POST (an interrupted run's leftover). Phone
    number channels skip it: Bird's 409 guards their number, and they make no call before their POST. A 409
    names the connector that holds the number when it can be found.
    """
    return create_exactly_once(
        identity=connector_identity(client, workspace_id, request),
        what=f"connector {request.name!r}",
        post=lambda: client.create_connector(workspace_id, request),
        recent_like=lambda since: connectors_like_since(client, workspace_id, request, since),
        delete=lambda c: delete_connector_if_present(client, workspace_id, c.id),
        matches=lambda c: is_look_alike(c, request),
        existing_like=(lambda: connectors_like_before(client, workspace_id, request)) if guard_existing else None,
        allow_identical=allow_identical,
        explain_conflict=lambda exc: _explain_conflict(client, workspace_id, request, exc),
        retry=client,
    )


def _explain_conflict(
    client: BirdClient, workspace_id: str, request: CreateConnectorRequest, exc: errors.ConflictError
) -> errors.BirdError:
    number_id = (request.arguments or {}).get("phoneNumberId")
    try:
        holder = number_holder(client, workspace_id, request)
    except errors.BirdError:
        holder = None
    if holder is not None:
        mine = " (identical to this one: perhaps left by an interrupted create)" if is_look_alike(holder, request) else ""
        what = (
            f"phone number {number_id} already carries connector {holder.id} ({holder.name!r}, "
            f"{holder.connector_template_ref}){mine}. Adopt it with adopt_id={holder.id!r}, or delete it first"
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
        "number_id": (connector.number.number_id if connector.number else None)
        or (number.number_id if number else None)
        or (connector.arguments or {}).get("phoneNumberId"),
        "phone_number": (connector.number.phone_number if connector.number else None) or (number.phone_number if number else None),
        "region": connector.region,
        "connector_template_ref": connector.connector_template_ref or template_ref,
        "created_at": iso(connector.created_at),
    }
