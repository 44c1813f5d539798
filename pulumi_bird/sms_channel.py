"""``SmsChannel``: an SMS channel on a Bird phone number (a connector of the ``sms-messagebird:1`` template).

Sections: the declared schema, the provider, the resource class. The lifecycle (replacement deletes first,
create waits for readiness) is shared with every connector: :mod:`pulumi_bird.provider.connectors`.
"""

from __future__ import annotations

from typing import ClassVar, Optional

import pulumi

from .api.values import CHANNEL_MESSAGE_TYPES, SMS_TEMPLATE, ChannelMessageType
from .provider import connectors as shared
from .provider.checks import Checker
from .provider.schema import Property, Schema, document

# --- schema ------------------------------------------------------------------------------------------------

SCHEMA = Schema(
    shared.PHONE_NUMBER_INPUT,
    Property("channel_message_type", f"the traffic it carries: one of {', '.join(CHANNEL_MESSAGE_TYPES)}.",
             bird="arguments.channelMessageType", values=CHANNEL_MESSAGE_TYPES, required=True, example="2fa"),
    Property("use_case_id", "the 10DLC use case id, required by Bird for US 10DLC numbers.", bird="arguments.useCaseId"),
    Property("conversational", "whether inbound messages open conversations in Bird's Inbox (sent as "
             "channelConversationalStatusEnabled; Bird never reports it back).",
             bird="channelConversationalStatusEnabled", echo="never"),
    *shared.CHANNEL_INPUTS,
    *shared.COMPUTED,
    shared.TEMPLATE_OUTPUT,
)


# --- provider ----------------------------------------------------------------------------------------------


class SmsChannelProvider(shared.PhoneNumberChannelProvider):
    """Provider of :class:`SmsChannel`."""

    schema: ClassVar[Schema] = SCHEMA
    template_ref: ClassVar[Optional[str]] = SMS_TEMPLATE

    def validate(self, checker: Checker) -> None:
        super().validate(checker)
        checker.boolean("conversational")


# --- resource ----------------------------------------------------------------------------------------------


class SmsChannel(shared.ConnectorResource, module="bird", name="SmsChannel"):
    """An SMS channel on a Bird phone number (template ``sms-messagebird:1``).

    ``channel_id`` is known once the channel is active; hand it to a webhook filter or to another stack.
    Changing any input but ``ready_timeout`` replaces the channel (the old connector is deleted first).
    """

    bird_provider = SmsChannelProvider

    phone_number_id: pulumi.Output[str]
    """The phone number the channel is installed on."""
    channel_message_type: pulumi.Output[ChannelMessageType]
    """The traffic the channel carries."""
    use_case_id: pulumi.Output[Optional[str]]
    """The 10DLC use case, for US numbers."""
    conversational: pulumi.Output[Optional[bool]]
    """Whether inbound messages open Inbox conversations."""

    def __init__(
        self,
        resource_name: str,
        *,
        phone_number_id: pulumi.Input[str],
        channel_message_type: pulumi.Input[ChannelMessageType],
        use_case_id: Optional[pulumi.Input[str]] = None,
        conversational: Optional[pulumi.Input[bool]] = None,
        name: Optional[pulumi.Input[str]] = None,
        workspace_id: Optional[pulumi.Input[str]] = None,
        ready_timeout: Optional[pulumi.Input[float]] = None,
        adopt_id: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        self._register(resource_name, locals(), opts)



document(SmsChannel, SCHEMA, "An SMS channel on a phone number; ``resource_name`` is the Pulumi name.")
