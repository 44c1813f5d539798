"""Finders and the exactly-once create for webhook subscriptions (the subscription counterpart of
:mod:`pulumi_bird.api.connectors`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from . import errors
from .client import BirdClient
from .create import SNAPSHOTS, create_exactly_once, identity_key
from .models import CreateWebhookSubscriptionRequest, WebhookSubscription
from .values import as_utc


def normalize_filters(filters: Any) -> Any:
    """Filters as an order-free, comparable value (Bird ANDs them, so order does not matter). Anything that is
    not a list of mappings (an unknown during preview, junk) comes back as it is."""
    if not isinstance(filters, list):
        return filters
    try:
        return sorted((f.get("key"), f.get("value")) for f in filters)
    except (AttributeError, TypeError):
        return filters


def filters_key(filters: Any) -> Any:
    """:func:`normalize_filters` of Bird's (or a request's) filter models."""
    return normalize_filters([f.model_dump() for f in filters or []])


def look(subscription: Any) -> tuple[Any, ...]:
    """Everything Bird shows of a subscription that a create sets (it never shows the signing key)."""
    return (subscription.service, subscription.event, subscription.url, subscription.template,
            filters_key(subscription.event_filters))


def subscriptions_like_since(
    client: BirdClient, org: str, ws: str, request: CreateWebhookSubscriptionRequest, since: Callable[[], datetime]
) -> list[WebhookSubscription]:
    """Look-alikes of this create request created at or after ``since()`` (Bird's clock, asked once the first page
    is in). Bird's subscription list has no documented order, so every page is read: this runs only after an
    ambiguous POST."""
    wanted = look(request)
    found = [s for s in client.list_webhook_subscriptions(org, ws) if look(s) == wanted]
    limit = since()
    return [s for s in found if s.created_at is None or as_utc(s.created_at) >= limit]


def is_posted(subscription: WebhookSubscription, request: CreateWebhookSubscriptionRequest) -> bool:
    """Whether Bird's answer to a POST is the subscription posted: same service, event and URL, and the same
    template and filters where the answer shows them."""
    return (
        (subscription.service, subscription.event, subscription.url) == (request.service, request.event, request.url)
        and (subscription.template is None or subscription.template == request.template)
        and (subscription.event_filters is None or filters_key(subscription.event_filters) == filters_key(request.event_filters))
    )


def subscriptions_like_before(
    client: BirdClient, org: str, ws: str, request: CreateWebhookSubscriptionRequest
) -> list[WebhookSubscription]:
    """Look-alikes that exist now, from the process's one listing of the workspace, each confirmed by id."""
    listing = SNAPSHOTS.get(("webhooks", client.api_url, org, ws), lambda: client.list_webhook_subscriptions(org, ws))
    wanted = look(request)
    return [s for s in listing if look(s) == wanted and client.find_webhook_subscription(org, ws, s.id) is not None]


def delete_subscription_if_present(client: BirdClient, org: str, ws: str, subscription_id: str) -> None:
    """Delete; a subscription that is already gone counts as deleted."""
    try:
        client.delete_webhook_subscription(org, ws, subscription_id)
    except errors.NotFoundError:
        pass


def create_subscription_resolving(
    client: BirdClient,
    org: str,
    ws: str,
    request: CreateWebhookSubscriptionRequest,
    *,
    allow_identical: bool = False,
) -> WebhookSubscription:
    """POST a subscription so that one resource ends with exactly one, or none and an error naming what is left
    (see :mod:`pulumi_bird.api.create`); an identical one that exists already fails it unless ``allow_identical``."""
    return create_exactly_once(
        identity=identity_key("webhook", client.api_url, org, ws, *look(request)),
        what=f"{request.event} subscription",
        post=lambda: client.create_webhook_subscription(org, ws, request),
        recent_like=lambda since: subscriptions_like_since(client, org, ws, request, since),
        delete=lambda sub: delete_subscription_if_present(client, org, ws, sub.id),
        matches=lambda sub: is_posted(sub, request),
        existing_like=lambda: subscriptions_like_before(client, org, ws, request),
        allow_identical=allow_identical,
        retry=client,
    )
