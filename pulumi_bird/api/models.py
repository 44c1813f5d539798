"""Typed request and response bodies of the Bird endpoints this package uses (snake_case here, camelCase on the
wire). Request models forbid unknown fields, as Bird does (422); response models ignore them, so that Bird can
add some without breaking a deployment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Optional

from pydantic import BaseModel, ConfigDict, PlainSerializer, SecretStr
from pydantic.alias_generators import to_camel

from .values import WebhookService, WebhookStatus

# Readiness vocabulary of GET .../connectors/{id}/status (channel.status and channel.stage), declared here
# only; pulumi_bird.api.readiness judges a channel by it. Status: ok, pending, error, unknown. Stage: active,
# inactive, provisioning, deprovisioning, deprovisioned.
STATUS_OK, STATUS_ERROR = "ok", "error"
STAGE_ACTIVE, STAGE_INACTIVE = "active", "inactive"
# Stages of a channel going away: a create that waits for a new channel and sees one has failed.
STAGES_GOING_AWAY = frozenset({"deprovisioning", "deprovisioned"})
# A secret: hidden from repr and logs, sent as itself in the JSON body.
Secret = Annotated[SecretStr, PlainSerializer(SecretStr.get_secret_value, return_type=str, when_used="json")]


class _Request(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_body(self) -> dict[str, Any]:
        """The JSON body: camelCase names, unset and None fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class _Response(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class CreateConnectorRequest(_Request):
    """Body of ``POST /workspaces/{workspaceId}/connectors``: install a connector from a template."""

    name: str
    connector_template_ref: Optional[str] = None
    arguments: Optional[dict[str, Any]] = None
    # Credentials some templates need.
    security_arguments: Optional[dict[str, dict[str, Secret]]] = None
    channel_conversational_status_enabled: Optional[bool] = None
    invitation_token: Optional[Secret] = None


class ChannelConfig(_Response):
    """The channel a connector created, once provisioned."""

    channel_id: str
    platform: Optional[str] = None


class Number(_Response):
    """The phone number a connector is installed on (the parts this package reads), in a connector or its status."""

    number_id: Optional[str] = None
    phone_number: Optional[str] = None


class Connector(_Response):
    """A connector as Bird returns it."""

    id: str
    name: str
    # Absent in some answers (a POST's 201); a missing one sorts as "may be new" in a recovery look-up.
    created_at: Optional[datetime] = None
    workspace_id: Optional[str] = None
    region: Optional[str] = None
    arguments: Optional[dict[str, Any]] = None
    channel: Optional[ChannelConfig] = None
    number: Optional[Number] = None
    connector_template_ref: Optional[str] = None

    @property
    def phone_number_id(self) -> Optional[str]:
        """The phone number it is installed on: its phoneNumberId argument, or (when Bird leaves the argument out)
        its ``number`` block."""
        return (self.arguments or {}).get("phoneNumberId") or (self.number.number_id if self.number else None)


class ChannelStatus(_Response):
    """Readiness of a connector's channel: ready when status is ok and stage is active."""

    channel_id: Optional[str] = None
    platform_name: Optional[str] = None
    status: Optional[str] = None
    stage: Optional[str] = None
    error_message: Optional[str] = None

    @property
    def ready(self) -> bool:
        """Status ok, stage active, and the channel's id given (a channel without one cannot be used)."""
        return self.status == STATUS_OK and self.stage == STAGE_ACTIVE and bool(self.channel_id)

    @property
    def failed(self) -> bool:
        """Status error, at any stage: Bird gave up on the channel."""
        return self.status == STATUS_ERROR

    @property
    def going_away(self) -> bool:
        return self.stage in STAGES_GOING_AWAY


class ConnectorStatus(_Response):
    """Body of ``GET .../connectors/{id}/status`` (the parts this package reads)."""

    channel: Optional[ChannelStatus] = None
    number: Optional[Number] = None


class Page(_Response):
    """One page of a list: ``results`` and, unless this is the last page, ``nextPageToken``."""

    results: list[dict[str, Any]] = []
    next_page_token: Optional[str] = None


class EventFilter(_Request):
    """One filter of a webhook subscription; all filters must match for an event to be delivered."""

    key: str
    value: str


class CreateWebhookSubscriptionRequest(_Request):
    """Body of ``POST /organizations/{org}/workspaces/{ws}/webhook-subscriptions``."""

    service: WebhookService
    event: str
    url: str
    event_filters: Optional[list[EventFilter]] = None
    template: Optional[str] = None
    signing_key: Optional[Secret] = None


class UpdateWebhookSubscriptionRequest(_Request):
    """Body of ``PATCH .../webhook-subscriptions/{id}``: only the fields that change."""

    url: Optional[str] = None
    signing_key: Optional[Secret] = None
    status: Optional[WebhookStatus] = None
    event_filters: Optional[list[EventFilter]] = None
    template: Optional[str] = None


class WebhookSubscription(_Response):
    """A webhook subscription as Bird returns it (Bird does not echo the signing key)."""

    id: str
    organization_id: Optional[str] = None
    workspace_id: Optional[str] = None
    service: str
    event: str
    url: str
    status: Optional[str] = None
    status_reason: Optional[str] = None
    event_filters: Optional[list[EventFilter]] = None
    template: Optional[str] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
