"""``WebhookSubscription``: deliver Bird events (``channel.updated``, ``sms.inbound``, ...) to an https URL.

Sections: the declared schema (with the offline checks of filters), the provider, the resource class. service,
event, organization and workspace cannot change on Bird, so changing them replaces the subscription (the new one
is created first, so no event is missed). url, signing key, filters and template are updated in place with
PATCH. The signing key is a secret and is never read back from Bird.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from .api.values import is_uuid
from .provider import config
from .provider.base import (
    BirdProvider,
    default_from_config,
    is_lookup,
    note_checked,
    note_refreshed,
    read_existing,
    refuse_adopting_the_replaced,
    registration,
    stored_key_explained,
)
from .provider.checks import Checker, is_unknown
from .provider.schema import Property, Schema, document

# --- schema ------------------------------------------------------------------------------------------------

SCHEMA = Schema(
    Property("service", "channels, numbers, payments, conversations or templates.", bird="service"),
    Property("event", "the event, e.g. ``channel.updated`` or ``sms.inbound``.", bird="event"),
    Property("url", "where Bird POSTs events: a public https URL.", bird="url", change="update"),
    Property("signing_key", "a key you choose; Bird signs every delivery with it. Removing it replaces the "
             "subscription (Bird cannot unset it).", bird="signingKey", secret=True, change="update"),
    Property("event_filters", "``[{\"key\": ..., \"value\": ...}]``, all of which must match; see "
             ":func:`event_filter`.", bird="eventFilters", change="update"),
    Property("template", "Bird's exit-API template name, for Twilio/Sinch-style payloads. Removing it replaces "
             "the subscription.", bird="template", change="update"),
    Property("organization_id", "defaults to ``bird:organizationId`` / ``BIRD_ORGANIZATION_ID``."),
    Property("workspace_id", "defaults to ``bird:workspaceId`` / ``BIRD_WORKSPACE_ID``."),
    Property("allow_identical", "create even when a subscription identical in everything Bird shows (service, "
             "event, url, template, filters) already exists. Without it such a create fails naming the existing one, "
             "which is usually a leftover of an interrupted run to adopt.", change="none"),
    Property("adopt_id", "the id of an existing subscription to take over instead of creating one (no POST): its "
             "url, signing key, filters and template are set to the program's; service and event must match. "
             "Changing or removing it later changes nothing.", change="none"),
)
# What PATCH cannot remove: dropping one needs a new subscription.
NOT_REMOVABLE = ("signing_key", "template")
COMPUTED_OUTPUTS = ("status", "status_reason", "created_at", "updated_at")

SERVICES = ("channels", "numbers", "payments", "conversations", "templates")
FILTER_KEYS = (
    "channelId",
    "platformId",
    "channelStatus",
    "interactionType",
    "messageStatus",
    "status",
    "eventDestination",
    "navigatorId",
)
# The filter keys each service accepts (Bird's per-service filter schemas; numbers and payments define none
# of their own, so any key above is passed on for Bird to judge).
SERVICE_FILTER_KEYS: dict[str, tuple[str, ...]] = {
    "channels": ("channelId", "messageStatus", "interactionType", "channelStatus", "platformId", "status"),
    "conversations": ("channelId",),
    "templates": ("platformId",),
    "numbers": FILTER_KEYS,
    "payments": FILTER_KEYS,
}
# Bird keeps one channelId per subscription; to follow several channels, subscribe once per channel.
MAX_CHANNEL_ID_FILTERS = 1
# Bird caps the filters it accepts per subscription well below this; the bound keeps check cheap on junk.
MAX_FILTERS = 50


class EventFilterArgs(TypedDict):
    """One event filter: ``{"key": "channelId", "value": sms.channel_id}``. All filters must match."""

    key: pulumi.Input[str]
    value: pulumi.Input[str]


def event_filter(key: str, value: pulumi.Input[str]) -> EventFilterArgs:
    """A typed event filter, e.g. ``event_filter("channelId", sms.channel_id)``."""
    return {"key": key, "value": value}


def _check_filters(checker: Checker, service: Optional[str]) -> None:
    judge, filters = checker.get("event_filters")
    if not judge:
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
            if not isinstance(key, str):
                checker.fail(f"{prop}.key", "must be a string")
                continue
            if key not in allowed:
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
    """Provider of :class:`WebhookSubscription`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate offline; never raises, never calls Bird. Fills in organization and workspace ids."""
        note_checked(news)
        inputs = dict(news) if isinstance(news, dict) else {}
        checker = Checker(inputs, SCHEMA.names)
        try:
            self.check_config(checker)
            service = checker.one_of("service", SERVICES, required=True)
            checker.string("event", required=True, max_length=255)
            checker.https_url("url", required=True)
            checker.string("signing_key", secret=True)
            checker.string("template")
            _check_filters(checker, service)
            checker.uuid("adopt_id")
            checker.boolean("allow_identical")
            default_from_config(checker, inputs, "organization_id", config.ORGANIZATION_ID)
            default_from_config(checker, inputs, "workspace_id", config.WORKSPACE_ID)
        except Exception as exc:  # check must answer with failures, whatever the input
            checker.failures.append(CheckFailure("", f"could not validate the inputs ({type(exc).__name__})"))
        return CheckResult(inputs, checker.failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        from .api.webhooks import normalize_filters

        def differs(key: str) -> bool:
            old, new = olds.get(key), news.get(key)
            if is_unknown(new):
                return True
            if key == "event_filters":
                old, new = normalize_filters(old or []), normalize_filters(new or [])
            return old != new

        changed = [k for k in SCHEMA.names if k not in SCHEMA.create_only and differs(k)]
        if not changed:
            return DiffResult(changes=False)
        removed = [k for k in NOT_REMOVABLE if k in changed and olds.get(k) is not None and news.get(k) is None]
        replaces = [k for k in changed if k in SCHEMA.replacing] + removed
        refuse_adopting_the_replaced(id_, olds, news, replaces, "webhook subscription", SCHEMA.secrets)
        # Replacements create the new subscription first, so no event is missed, except when only the signing key
        # goes: the new one would then look exactly like the old one (Bird never shows keys), which a create
        # refuses to make beside it. That one deletes first.
        only_unseen = bool(replaces) and set(replaces) <= {"signing_key"}
        return DiffResult(changes=True, replaces=replaces, delete_before_replace=True if only_unseen else None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        from .api.models import CreateWebhookSubscriptionRequest
        from .api.webhooks import create_subscription_resolving, subscription_outputs

        inputs: dict[str, Any] = {k: props.get(k) for k in SCHEMA.names}
        org, ws = inputs["organization_id"], inputs["workspace_id"]
        request = CreateWebhookSubscriptionRequest.model_validate(SCHEMA.request_body(inputs))
        with config.make_client() as client:
            if inputs.get("adopt_id"):
                subscription = _adopt(client, org, ws, inputs["adopt_id"], request)
            else:
                subscription = create_subscription_resolving(
                    client, org, ws, request, allow_identical=bool(inputs.get("allow_identical"))
                )
        return CreateResult(subscription.id, {**inputs, **subscription_outputs(subscription)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from .api.reads import find_subscription
        from .api.webhooks import subscription_outputs

        settings = config.current_settings()
        org, ws = config.scope_of(props, settings, f"webhook subscription {id_}", "organization_id", "workspace_id")
        hidden = [props.get(name) for name in SCHEMA.secrets]
        with config.make_client(settings, hidden) as client, stored_key_explained(f"reading webhook subscription {id_}"):
            subscription = find_subscription(client, org, ws, id_)  # from list pages shared by reads in flight
        if subscription is None:
            if is_lookup(props):  # get(): the engine would hand the program a resource with every output empty
                raise ValueError(f"get: there is no webhook subscription {id_!r} in workspace {ws}")
            return ReadResult("", {})  # refresh: gone, so the engine drops it from the stack
        filters = [f.model_dump() for f in subscription.event_filters or []]
        inputs = {
            "service": subscription.service,
            "event": subscription.event,
            "url": subscription.url,
            # Bird never shows the signing key: keep the one we set.
            "signing_key": props.get("signing_key"),
            "event_filters": filters if filters or props.get("event_filters") is not None else None,
            "template": subscription.template,
            "organization_id": subscription.organization_id or org,
            "workspace_id": subscription.workspace_id or ws,
            **{k: props.get(k) for k in SCHEMA.create_only if props.get(k) is not None},
        }
        if not is_lookup(props):
            note_refreshed(id_)
        return ReadResult(id_, {**inputs, **subscription_outputs(subscription)}, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        from .api.models import UpdateWebhookSubscriptionRequest
        from .api.webhooks import normalize_filters, subscription_outputs

        def same(name: str) -> bool:
            if name == "event_filters":
                return normalize_filters(news.get(name) or []) == normalize_filters(olds.get(name) or [])
            return news.get(name) == olds.get(name)

        changes = {SCHEMA[name].bird: news.get(name) for name in SCHEMA.names if name in SCHEMA.updating and not same(name)}
        if "eventFilters" in changes:
            changes["eventFilters"] = changes["eventFilters"] or []
        inputs = {k: news.get(k) for k in SCHEMA.names}
        if not changes:
            return UpdateResult({**olds, **inputs})
        with config.make_client(secrets=[p.get(name) for p in (olds, news) for name in SCHEMA.secrets]) as client:
            subscription = client.update_webhook_subscription(
                news["organization_id"], news["workspace_id"], id_, UpdateWebhookSubscriptionRequest.model_validate(changes)
            )
        return UpdateResult({**inputs, **subscription_outputs(subscription)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from .api.webhooks import delete_subscription_if_present

        settings = config.current_settings()
        org, ws = config.scope_of(props, settings, f"webhook subscription {id_}", "organization_id", "workspace_id")
        hidden = [props.get(name) for name in SCHEMA.secrets]
        with config.make_client(settings, hidden) as client, stored_key_explained(f"deleting webhook subscription {id_}"):
            delete_subscription_if_present(client, org, ws, id_)


def _adopt(client: Any, org: str, ws: str, adopt_id: str, request: Any) -> Any:
    """Take over the subscription ``adopt_id`` names instead of creating one: what PATCH can set (url, signing
    key, filters, template) is brought to what the program declares; anything else that differs fails, and
    then nothing is written."""
    from .api.create import remember_owned
    from .api.models import UpdateWebhookSubscriptionRequest
    from .api.reads import find_subscription
    from .api.webhooks import filters_key

    found = find_subscription(client, org, ws, adopt_id)
    if found is None:
        raise ValueError(f"adopt_id {adopt_id!r}: there is no webhook subscription with this id in workspace {ws}")
    fixed = [("service", request.service, found.service), ("event", request.event, found.event),
             ("organization_id", org, found.organization_id or org), ("workspace_id", ws, found.workspace_id or ws)]
    if request.template is None and found.template is not None:
        fixed.append(("template", None, found.template))  # PATCH cannot remove a template
    differences = [(prop, mine, theirs) for prop, mine, theirs in fixed if mine != theirs]
    if differences:
        lines = "\n".join(f"  {prop}: declared {mine!r}, Bird has {theirs!r}" for prop, mine, theirs in differences)
        raise ValueError(
            f"adopt_id {adopt_id!r}: webhook subscription {adopt_id} differs from the program in what cannot be "
            f"updated, so nothing was changed. Make the program say what Bird has:\n{lines}"
        )
    changes: dict[str, Any] = {}
    if found.url != request.url:
        changes["url"] = request.url
    if request.signing_key is not None:  # Bird never shows the key, so set it: the program's key is the one in use
        changes["signing_key"] = request.signing_key
    if filters_key(found.event_filters) != filters_key(request.event_filters):
        changes["event_filters"] = request.event_filters or []
    if request.template is not None and found.template != request.template:
        changes["template"] = request.template
    if changes:
        found = client.update_webhook_subscription(org, ws, adopt_id, UpdateWebhookSubscriptionRequest(**changes))
    remember_owned(adopt_id)
    return found


# --- resource ----------------------------------------------------------------------------------------------


class WebhookSubscription(pulumi.dynamic.Resource, module="bird", name="WebhookSubscription"):
    """A subscription that delivers Bird events of one service and event to an https URL.

    The resource id is Bird's subscription id. ``signing_key`` is a secret input and output.
    """

    service: pulumi.Output[str]
    event: pulumi.Output[str]
    url: pulumi.Output[str]
    signing_key: pulumi.Output[Optional[str]]
    event_filters: pulumi.Output[Optional[list[dict[str, str]]]]
    """The filters, each ``{"key": ..., "value": ...}``."""
    template: pulumi.Output[Optional[str]]
    organization_id: pulumi.Output[str]
    workspace_id: pulumi.Output[str]
    status: pulumi.Output[str]
    """active or inactive (Bird may deactivate a subscription whose URL keeps failing)."""
    status_reason: pulumi.Output[Optional[str]]
    """Bird's explanation of the status, when it gives one."""
    created_at: pulumi.Output[str]
    updated_at: pulumi.Output[Optional[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        service: pulumi.Input[str],
        event: pulumi.Input[str],
        url: pulumi.Input[str],
        signing_key: Optional[pulumi.Input[str]] = None,
        event_filters: Optional[pulumi.Input[Sequence[pulumi.Input[EventFilterArgs]]]] = None,
        template: Optional[pulumi.Input[str]] = None,
        organization_id: Optional[pulumi.Input[str]] = None,
        workspace_id: Optional[pulumi.Input[str]] = None,
        allow_identical: Optional[pulumi.Input[bool]] = None,
        adopt_id: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        props, options = registration(SCHEMA, locals(), COMPUTED_OUTPUTS, opts)
        super().__init__(WebhookSubscriptionProvider(), resource_name, props, options)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> WebhookSubscription:
        """Read an existing subscription into the stack by its Bird id (organization and workspace from config)."""
        return read_existing(WebhookSubscription, WebhookSubscriptionProvider(), resource_name, id,
                             SCHEMA.names + COMPUTED_OUTPUTS, opts, SCHEMA.secrets)


document(WebhookSubscription, SCHEMA, "A subscription to one event of one service; ``resource_name`` is the Pulumi name.")
