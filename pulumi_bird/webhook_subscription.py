"""``WebhookSubscription``: deliver Bird events (``channel.updated``, ``sms.inbound``, ...) to an https URL. A
replacement creates the new subscription first, so no event is missed."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Optional, Sequence

import pulumi
from typing_extensions import Required, TypedDict, Unpack

from .api.values import (
    FILTER_KEYS,
    SERVICE_FILTER_KEYS,
    WEBHOOK_SERVICES,
    FilterKey,
    WebhookService,
    WebhookStatus,
    documented_events,
    is_documented_event,
    is_uuid,
)
from .provider.base import BirdProvider, BirdResource, OrganizationId, WorkspaceId
from .provider.checks import Checker, is_unknown
from .provider.schema import Property, Schema, document

# --- schema ------------------------------------------------------------------------------------------------


class EventFilterArgs(TypedDict):
    """One event filter: ``{"key": "channelId", "value": sms.channel_id}``. All filters must match."""

    key: Annotated[pulumi.Input[FilterKey], Property(
        f"the filter: {', '.join(FILTER_KEYS[:-1])} or {FILTER_KEYS[-1]} (which ones a service accepts is checked).",
        example="channelId")]
    value: Annotated[pulumi.Input[str], Property(
        "the value the filter must match (a channel id for channelId).", example="3fa85f64-5717-4562-b3fc-2c963f66afa6")]


class WebhookSubscriptionArgs(TypedDict, total=False):
    """The inputs of :class:`WebhookSubscription`."""

    service: Required[Annotated[pulumi.Input[WebhookService], Property(
        f"one of {', '.join(WEBHOOK_SERVICES)}.", bird="service", example="channels", echo="exact")]]
    event: Required[Annotated[pulumi.Input[str], Property(
        "the event, e.g. ``channel.updated`` or ``sms.inbound``; for the channels service it must be one Bird "
        "documents (see ``allow_unlisted_event``).", bird="event", example="channel.updated", echo="exact")]]
    url: Required[Annotated[pulumi.Input[str], Property(
        "where Bird POSTs events: a public https URL.", bird="url", change="update",
        example="https://hooks.example.com/bird", echo="exact")]]
    signing_key: Annotated[Optional[pulumi.Input[str]], Property(
        "a key you choose, at least 32 printable ASCII characters; Bird signs every delivery with it. Removing it "
        "replaces the subscription (Bird cannot unset it).", bird="signingKey", secret=True, change="update",
        removable=False, echo="never")]
    event_filters: Annotated[Optional[pulumi.Input[Sequence[pulumi.Input[EventFilterArgs]]]], Property(
        "``[{\"key\": ..., \"value\": ...}]``, all of which must match; see :func:`event_filter`.",
        bird="eventFilters", change="update", cleared=[], unordered=True, echo="exact")]
    template: Annotated[Optional[pulumi.Input[str]], Property(
        "Bird's exit-API template name, for Twilio/Sinch-style payloads. Removing it replaces the subscription.",
        bird="template", change="update", removable=False, echo="exact")]
    desired_status: Annotated[Optional[pulumi.Input[WebhookStatus]], Property(
        "``active`` or ``inactive``: turn deliveries on or off without deleting the subscription (updated in "
        "place). Left unset, the subscription stays as Bird has it (Bird may deactivate one whose URL keeps "
        "failing; the ``status`` output shows it).", bird="status", create=False, change="update", echo="declared")]
    organization_id: OrganizationId
    workspace_id: WorkspaceId
    allow_identical: Annotated[Optional[pulumi.Input[bool]], Property(
        "create even when a subscription identical in everything Bird shows (service, event, url, template, "
        "filters) already exists. Without it such a create fails naming the existing one, which is usually a "
        "leftover of an interrupted run to adopt.", change="none")]
    allow_unlisted_event: Annotated[Optional[pulumi.Input[bool]], Property(
        "accept an event that is not among those Bird documents for the service (an event newer than this "
        "package's list); Bird then judges it.", change="none")]
    adopt_id: Annotated[Optional[pulumi.Input[str]], Property(
        "the id of an existing subscription to take over instead of creating one (no POST): what can be updated "
        "is set to the program's; service and event must match. Changing or removing it later changes nothing.",
        change="none")]


class WebhookSubscriptionOutputs:
    """The outputs Bird computes for a subscription (:class:`WebhookSubscription` inherits them)."""

    status: Annotated[pulumi.Output[str], Property(
        "active or inactive (Bird may deactivate a subscription whose URL keeps failing).", read_from=("status",))]
    status_reason: Annotated[pulumi.Output[Optional[str]], Property(
        "Bird's explanation of the status, when it gives one.", read_from=("statusReason",))]
    created_at: Annotated[pulumi.Output[str], Property(
        "when Bird created the subscription (ISO 8601, UTC).", read_from=("createdAt",))]
    updated_at: Annotated[pulumi.Output[Optional[str]], Property(
        "when Bird last changed the subscription (ISO 8601, UTC).", read_from=("updatedAt",))]


SCHEMA = Schema.declare(WebhookSubscriptionArgs, WebhookSubscriptionOutputs)

# Bird keeps one channelId per subscription; to follow several channels, subscribe once per channel.
MAX_CHANNEL_ID_FILTERS = 1
# Bird caps the filters it accepts per subscription well below this; the bound keeps check cheap on junk.
MAX_FILTERS = 50


def event_filter(key: FilterKey, value: pulumi.Input[str]) -> EventFilterArgs:
    """A typed event filter, e.g. ``event_filter("channelId", sms.channel_id)``."""
    return {"key": key, "value": value}


def _check_event(checker: Checker, service: Optional[str]) -> None:
    event = checker.string("event", required=True, max_length=255)
    judge, unlisted = checker.get("allow_unlisted_event")
    if event is None or service is None or (judge and unlisted is True) or is_unknown(unlisted):
        return
    if not is_documented_event(service, event):
        checker.fail("event", f"{event!r:.60} is not an event Bird documents for service {service}: "
                              f"{documented_events(service)}. For an event newer than this list, set "
                              f"allow_unlisted_event=True")


def _check_filters(checker: Checker, service: Optional[str]) -> None:
    # Judged item by item: a filter whose value is unknown in a preview still has a key to judge.
    filters = checker.news.get("event_filters")
    if filters is None or (is_unknown(filters) and not isinstance(filters, (list, dict))):
        return
    if not isinstance(filters, list):
        checker.fail("event_filters", f"must be a list of {{key, value}} mappings, got a {type(filters).__name__}")
        return
    if len(filters) > MAX_FILTERS:
        checker.fail("event_filters", f"may hold at most {MAX_FILTERS} filters")
        return
    allowed = SERVICE_FILTER_KEYS.get(service or "", FILTER_KEYS)
    channel_ids = 0
    for i, item in enumerate(filters):
        prop = f"event_filters[{i}]"
        if is_unknown(item) and not isinstance(item, dict):
            continue
        if not isinstance(item, dict) or set(item) - {"key", "value"}:
            checker.fail(prop, "must be a mapping with exactly the keys key and value")
            continue
        key, value = item.get("key"), item.get("value")
        if not is_unknown(key):
            if key not in allowed:  # a key that is not a string too
                where = f"for service {service}" if service else "by Bird"
                checker.fail(f"{prop}.key", f"{key!r:.40} is not a filter allowed {where}; allowed: {', '.join(allowed)}")
                continue
            channel_ids += key == "channelId"
        if value is None:
            checker.fail(f"{prop}.value", "is required")
        elif not is_unknown(value):
            if not isinstance(value, str):
                checker.fail(f"{prop}.value", "must be a string")
            elif key == "channelId" and not is_uuid(value):
                checker.fail(f"{prop}.value", f"must be a channel id (UUID), got {value!r:.60}")
    if channel_ids > MAX_CHANNEL_ID_FILTERS:
        checker.fail("event_filters", "may hold at most one channelId filter: create one subscription per channel")


# --- provider ----------------------------------------------------------------------------------------------


class WebhookSubscriptionProvider(BirdProvider):
    """Provider of :class:`WebhookSubscription`: everything but Bird's calls comes from :data:`SCHEMA`."""

    schema: ClassVar[Schema] = SCHEMA
    what: ClassVar[str] = "webhook subscription"
    scope: ClassVar[tuple[str, ...]] = ("organization_id", "workspace_id")

    def validate(self, checker: Checker) -> None:
        service = checker.news.get("service")
        service = service if service in WEBHOOK_SERVICES else None
        _check_event(checker, service)
        checker.https_url("url", required=True)
        checker.signing_key("signing_key")
        checker.string("template")
        _check_filters(checker, service)

    def find(self, client: Any, scope: Sequence[str], id_: str) -> Any:
        from .api.reads import find_subscription

        return find_subscription(client, scope[0], scope[1], id_)  # from list pages shared by reads in flight

    def post(self, client: Any, scope: Sequence[str], inputs: dict[str, Any], resource: Optional[str]) -> Any:
        from .api.models import CreateWebhookSubscriptionRequest
        from .api.webhooks import create_subscription_resolving

        request = CreateWebhookSubscriptionRequest.model_validate(SCHEMA.request_body(inputs))
        org, ws = scope
        return create_subscription_resolving(client, org, ws, request, allow_identical=bool(inputs.get("allow_identical")))

    def patch(self, client: Any, scope: Sequence[str], id_: str, changes: dict[str, Any]) -> Any:
        from .api.models import UpdateWebhookSubscriptionRequest
        from .api.webhooks import patch_subscription

        org, ws = scope
        return patch_subscription(client, org, ws, id_, UpdateWebhookSubscriptionRequest.model_validate(changes))

    def remove(self, client: Any, scope: Sequence[str], id_: str) -> None:
        from .api.webhooks import delete_subscription_if_present

        delete_subscription_if_present(client, scope[0], scope[1], id_)


# --- resource ----------------------------------------------------------------------------------------------


class WebhookSubscription(BirdResource, WebhookSubscriptionOutputs, module="bird", name="WebhookSubscription"):
    """A subscription that delivers Bird events of one service and event to an https URL.

    The resource id is Bird's subscription id. ``signing_key`` is a secret input and output.
    """

    bird_provider = WebhookSubscriptionProvider

    # For pyright and mypy: the Output of each input of its own (a test checks them against WebhookSubscriptionArgs).
    service: pulumi.Output[WebhookService]
    event: pulumi.Output[str]
    url: pulumi.Output[str]
    signing_key: pulumi.Output[Optional[str]]
    event_filters: pulumi.Output[Optional[list[dict[str, str]]]]
    template: pulumi.Output[Optional[str]]
    desired_status: pulumi.Output[Optional[WebhookStatus]]
    organization_id: pulumi.Output[str]
    allow_identical: pulumi.Output[Optional[bool]]
    allow_unlisted_event: pulumi.Output[Optional[bool]]

    def __init__(
        self, resource_name: str, *, opts: Optional[pulumi.ResourceOptions] = None,
        **args: Unpack[WebhookSubscriptionArgs],
    ) -> None:
        self._register(resource_name, args, opts)


document(WebhookSubscription, SCHEMA, "A subscription to one event of one service; ``resource_name`` is the Pulumi name.")
