"""Finders and the exactly-once create for webhook subscriptions (the subscription counterpart of
:mod:`pulumi_bird.api.connectors`)."""

from __future__ import annotations

import contextlib
from typing import Any, Optional

from . import errors
from .client import BirdClient
from .create import create_exactly_once, identity_key, snapshot
from .models import CreateWebhookSubscriptionRequest, EventFilter, UpdateWebhookSubscriptionRequest, WebhookSubscription


def filters_key(filters: Optional[list[EventFilter]]) -> list[tuple[str, str]]:
    """Filters as an order-free, comparable value (Bird ANDs them, so order does not matter)."""
    return sorted((f.key, f.value) for f in filters or [])


def look(subscription: Any) -> tuple[Any, ...]:
    """Everything Bird shows of a subscription that a create sets (it never shows the signing key)."""
    return (subscription.service, subscription.event, subscription.url, subscription.template,
            filters_key(subscription.event_filters))


def is_posted(subscription: WebhookSubscription, request: CreateWebhookSubscriptionRequest) -> bool:
    """Whether Bird's answer to a POST is the subscription posted: same service, event and URL, and the same
    template and filters where the answer shows them."""
    return (
        (subscription.service, subscription.event, subscription.url) == (request.service, request.event, request.url)
        and (subscription.template is None or subscription.template == request.template)
        and (subscription.event_filters is None or filters_key(subscription.event_filters) == filters_key(request.event_filters))
    )


def patch_subscription(
    client: BirdClient, org: str, ws: str, subscription_id: str, request: UpdateWebhookSubscriptionRequest
) -> WebhookSubscription:
    """PATCH a subscription; Bird's answer must be this subscription (the client checks the id) showing what was
    sent, else a ForeignObjectError naming both, before anything is stored. Fields are compared in Bird's canonical
    form (filters order-free); one the answer leaves out is not judged, and the signing key is never shown."""
    found = client.update_webhook_subscription(org, ws, subscription_id, request)
    sent = {"url": (request.url, found.url), "status": (request.status, found.status),
            "template": (request.template, found.template)}
    wrong = [name for name, (mine, theirs) in sent.items() if mine is not None and theirs is not None and mine != theirs]
    shown = request.event_filters is not None and found.event_filters is not None
    if shown and filters_key(request.event_filters) != filters_key(found.event_filters):
        wrong.append("eventFilters")
    if wrong:
        raise errors.ForeignObjectError(
            f"PATCH of webhook subscription {subscription_id} was answered with subscription {found.id} showing "
            f"another {', '.join(wrong)} than was sent: not taken, nothing stored (a proxy or cache between us and "
            "Bird? check bird:apiUrl / BIRD_API_URL)", method="PATCH", url=client.api_url, status=200)
    return found


def delete_subscription_if_present(client: BirdClient, org: str, ws: str, subscription_id: str) -> None:
    """Delete; a subscription that is already gone counts as deleted."""
    with contextlib.suppress(errors.NotFoundError):
        client.delete_webhook_subscription(org, ws, subscription_id)


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
    wanted = look(request)

    def listed_before() -> list[WebhookSubscription]:  # the process's one listing, taken before its first create
        return snapshot(("webhooks", client.api_url, org, ws), lambda: client.list_webhook_subscriptions(org, ws))

    return create_exactly_once(
        identity=identity_key("webhook", client.api_url, org, ws, *wanted),
        what=f"{request.event} subscription",
        post=lambda: client.create_webhook_subscription(org, ws, request),
        # every page: this runs only after an ambiguous POST, and no createdAt may exclude a look-alike
        like=lambda: [s for s in client.list_webhook_subscriptions(org, ws) if look(s) == wanted],
        delete=lambda sub: delete_subscription_if_present(client, org, ws, sub.id),
        matches=lambda sub: is_posted(sub, request),
        listed_before=listed_before,
        # an interrupted run's leftovers: look-alikes listed before, each confirmed by id (still there)
        existing_like=lambda: [s for s in listed_before() if look(s) == wanted
                               and client.find_webhook_subscription(org, ws, s.id) is not None],
        allow_identical=allow_identical,
        retry=client,
    )
