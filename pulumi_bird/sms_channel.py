"""``SmsChannel``: an SMS channel on a Bird phone number (a connector of the ``sms-messagebird:1`` template); its
lifecycle is every connector's (:mod:`pulumi_bird.provider.connectors`)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Optional

import pulumi
from typing_extensions import Required, TypedDict, Unpack

from .api.values import CHANNEL_MESSAGE_TYPES, SMS_TEMPLATE, ChannelMessageType
from .provider import connectors as shared
from .provider.base import WorkspaceId
from .provider.schema import Property, Schema, document

# --- schema ------------------------------------------------------------------------------------------------


class SmsChannelArgs(TypedDict, total=False):
    """The inputs of :class:`SmsChannel`."""

    phone_number_id: Required[shared.PhoneNumberId]
    channel_message_type: Required[Annotated[pulumi.Input[ChannelMessageType], Property(
        f"the traffic it carries: one of {', '.join(CHANNEL_MESSAGE_TYPES)}.", bird="arguments.channelMessageType",
        example="2fa")]]
    use_case_id: Annotated[Optional[pulumi.Input[str]], Property(
        "the 10DLC use case id, required by Bird for US 10DLC numbers.", bird="arguments.useCaseId")]
    conversational: Annotated[Optional[pulumi.Input[bool]], Property(
        "whether inbound messages open conversations in Bird's Inbox (sent as channelConversationalStatusEnabled; "
        "Bird never reports it back).", bird="channelConversationalStatusEnabled", echo="never")]
    name: shared.ConnectorName
    workspace_id: WorkspaceId
    ready_timeout: shared.ReadyTimeout
    adopt_id: shared.AdoptConnectorId


SCHEMA = Schema.declare(SmsChannelArgs, shared.ChannelOutputs)


# --- provider ----------------------------------------------------------------------------------------------


class SmsChannelProvider(shared.PhoneNumberChannelProvider):
    """Provider of :class:`SmsChannel`."""

    schema: ClassVar[Schema] = SCHEMA
    template_ref: ClassVar[Optional[str]] = SMS_TEMPLATE


# --- resource ----------------------------------------------------------------------------------------------


class SmsChannel(shared.ConnectorResource, shared.ChannelOutputs, module="bird", name="SmsChannel"):
    """An SMS channel on a Bird phone number (template ``sms-messagebird:1``).

    ``channel_id`` is known once the channel is active; hand it to a webhook filter or to another stack.
    Changing any input but ``ready_timeout`` replaces the channel (the old connector is deleted first).
    """

    bird_provider = SmsChannelProvider

    # For pyright and mypy: the Output of each input of its own (a test checks them against SmsChannelArgs).
    phone_number_id: pulumi.Output[str]
    channel_message_type: pulumi.Output[ChannelMessageType]
    use_case_id: pulumi.Output[Optional[str]]
    conversational: pulumi.Output[Optional[bool]]

    def __init__(
        self, resource_name: str, *, opts: Optional[pulumi.ResourceOptions] = None, **args: Unpack[SmsChannelArgs]
    ) -> None:
        self._register(resource_name, args, opts)


document(SmsChannel, SCHEMA, "An SMS channel on a phone number; ``resource_name`` is the Pulumi name.")
