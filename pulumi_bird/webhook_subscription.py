"""``WebhookSubscription``: deliver Bird events (``channel.updated``, ``sms.inbound``, ...) to an https URL.

service, event, organization and workspace cannot change on Bird, so changing them replaces the
subscription (the new one is created first, so no event is missed). url, signing key, filters and template
are updated in place with PATCH. The signing key is a secret and is never read back from Bird.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from ._check import Checker, is_unknown, is_uuid
from ._provider import BirdProvider, read_existing
from .connector import default_from_config

# --- schema ------------------------------------------------------------------------------------------------

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
SERVICE_FILTER_KEYS = {
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

INPUTS = ("service", "event", "url", "signing_key", "event_filters", "template", "organization_id", "workspace_id")
REPLACE_INPUTS = ("service", "event", "organization_id", "workspace_id")
UPDATE_INPUTS = ("url", "signing_key", "event_filters", "template")
COMPUTED_OUTPUTS = ("status", "status_reason", "created_at", "updated_at")



class EventFilterArgs(TypedDict):
    """One event filter: ``{"key": "channelId", "value": sms.channel_id}``. All filters must match."""

    key: pulumi.Input[str]
    value: pulumi.Input[str]


def event_filter(key: str, value: pulumi.Input[str]) -> EventFilterArgs:
    """A typed event filter, e.g. ``event_filter("channelId", sms.channel_id)``."""
    return {"key": key, "value": value}


def _normalize_filters(filters: Any) -> Any:
    """Filters as an order-free, comparable value (Bird ANDs them, so order does not matter)."""
    if not isinstance(filters, list) or is_unknown(filters):
        return filters
    try:
        return sorted((f.get("key"), f.get("value")) for f in filters)
    except (AttributeError, TypeError):
        return filters


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
        from . import config

        inputs = dict(news) if isinstance(news, dict) else {}
        checker = Checker(inputs, INPUTS)
        try:
            service = checker.one_of("service", SERVICES, required=True)
            checker.string("event", required=True, max_length=255)
            checker.https_url("url", required=True)
            checker.string("signing_key", secret=True)
            checker.string("template")
            _check_filters(checker, service)
            default_from_config(checker, inputs, "organization_id", config.ORGANIZATION_ID)
            default_from_config(checker, inputs, "workspace_id", config.WORKSPACE_ID)
        except Exception as exc:  # check must answer with failures, whatever the input
            checker.failures.append(CheckFailure("", f"could not validate the inputs ({type(exc).__name__})"))
        return CheckResult(inputs, checker.failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        def differs(key: str) -> bool:
            old, new = olds.get(key), news.get(key)
            if key == "event_filters":
                old, new = _normalize_filters(old or []), _normalize_filters(new or [])
            return is_unknown(new) or old != new

        changed = [k for k in INPUTS if differs(k)]
        if not changed:
            return DiffResult(changes=False)
        # PATCH cannot remove a signing key or a template, so dropping one needs a new subscription.
        removed = [k for k in ("signing_key", "template") if k in changed and olds.get(k) is not None and news.get(k) is None]
        replaces = [k for k in changed if k in REPLACE_INPUTS] + removed
        return DiffResult(changes=True, replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        from . import config
        from ._create import create_exactly_once
        from .models import CreateWebhookSubscriptionRequest

        inputs = {k: props.get(k) for k in INPUTS}
        org, ws = inputs["organization_id"], inputs["workspace_id"]
        request = CreateWebhookSubscriptionRequest(
            service=inputs["service"],
            event=inputs["event"],
            url=inputs["url"],
            event_filters=inputs["event_filters"],
            template=inputs["template"],
            signing_key=inputs["signing_key"],
        )
        with config.make_client() as client:
            subscription = create_exactly_once(
                lambda: client.create_webhook_subscription(org, ws, request),
                lambda: _subscriptions_like(client, org, ws, request),
                lambda sub: _delete_if_present(client, org, ws, sub.id),
                what=f"{request.event} subscription",
            )
        return CreateResult(subscription.id, {**inputs, **_outputs(subscription)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from . import config

        settings = config.current_settings()
        org, ws = config.scope_of(props, settings, f"webhook subscription {id_}", "organization_id", "workspace_id")
        with config.make_client(settings) as client:
            subscription = client.find_webhook_subscription(org, ws, id_)
        if subscription is None:
            return ReadResult("", {})
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
        }
        return ReadResult(id_, {**inputs, **_outputs(subscription)}, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        from . import config
        from .models import UpdateWebhookSubscriptionRequest

        changes: dict[str, Any] = {}
        if news.get("url") != olds.get("url"):
            changes["url"] = news.get("url")
        if news.get("signing_key") != olds.get("signing_key"):
            changes["signing_key"] = news.get("signing_key")
        if _normalize_filters(news.get("event_filters") or []) != _normalize_filters(olds.get("event_filters") or []):
            changes["event_filters"] = news.get("event_filters") or []
        if news.get("template") != olds.get("template"):
            changes["template"] = news.get("template")
        inputs = {k: news.get(k) for k in INPUTS}
        if not changes:
            return UpdateResult({**olds, **inputs})
        with config.make_client() as client:
            subscription = client.update_webhook_subscription(
                news["organization_id"], news["workspace_id"], id_, UpdateWebhookSubscriptionRequest(**changes)
            )
        return UpdateResult({**inputs, **_outputs(subscription)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from . import config

        settings = config.current_settings()
        org, ws = config.scope_of(props, settings, f"webhook subscription {id_}", "organization_id", "workspace_id")
        with config.make_client(settings) as client:
            _delete_if_present(client, org, ws, id_)


def _outputs(subscription: Any) -> dict[str, Any]:
    from ._connectors import iso

    return {
        "status": subscription.status,
        "status_reason": subscription.status_reason,
        "created_at": iso(subscription.created_at),
        "updated_at": iso(subscription.updated_at),
    }


def _filters_key(filters: Any) -> Any:
    return _normalize_filters([f.model_dump() for f in filters or []])


def _subscriptions_like(client: Any, org: str, ws: str, request: Any) -> list:
    """The subscriptions this create request could have made (Bird does not show signing keys, so those
    are not compared)."""
    wanted = (request.service, request.event, request.url, request.template, _filters_key(request.event_filters))
    return [
        s
        for s in client.list_webhook_subscriptions(org, ws)
        if (s.service, s.event, s.url, s.template, _filters_key(s.event_filters)) == wanted
    ]


def _delete_if_present(client: Any, org: str, ws: str, subscription_id: str) -> None:
    from . import errors

    try:
        client.delete_webhook_subscription(org, ws, subscription_id)
    except errors.NotFoundError:
        pass


# --- resource ----------------------------------------------------------------------------------------------


class WebhookSubscription(pulumi.dynamic.Resource, module="bird", name="WebhookSubscription"):
    """A subscription that delivers Bird events of one service and event to an https URL.

    The resource id is Bird's subscription id. ``signing_key`` is a secret input and output.
    """

    service: pulumi.Output[str]
    event: pulumi.Output[str]
    url: pulumi.Output[str]
    signing_key: pulumi.Output[Optional[str]]
    event_filters: pulumi.Output[Optional[list]]
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
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        """
        :param service: channels, numbers, payments, conversations or templates (replaces when changed).
        :param event: the event, e.g. ``channel.updated`` or ``sms.inbound`` (replaces when changed).
        :param url: where Bird POSTs events: a public https URL.
        :param signing_key: a key you choose; Bird signs every delivery with it (secret).
        :param event_filters: ``[{"key": ..., "value": ...}]``, all of which must match; see :func:`event_filter`.
        :param template: Bird's exit-API template name, for Twilio/Sinch-style payloads.
        :param organization_id: defaults to ``bird:organizationId`` / ``BIRD_ORGANIZATION_ID`` (replaces when changed).
        :param workspace_id: defaults to ``bird:workspaceId`` / ``BIRD_WORKSPACE_ID`` (replaces when changed).
        """
        props: dict[str, Any] = {k: None for k in COMPUTED_OUTPUTS}
        props.update(
            service=service,
            event=event,
            url=url,
            signing_key=pulumi.Output.secret(signing_key) if signing_key is not None else None,
            event_filters=event_filters,
            template=template,
            organization_id=organization_id,
            workspace_id=workspace_id,
        )
        secrets = pulumi.ResourceOptions(additional_secret_outputs=["signing_key"])
        super().__init__(WebhookSubscriptionProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secrets))

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> "WebhookSubscription":
        """Read an existing subscription into the stack by its Bird id (organization and workspace from config)."""
        return read_existing(WebhookSubscription, WebhookSubscriptionProvider(), resource_name, id,
                             INPUTS + COMPUTED_OUTPUTS, opts, ["signing_key"])
