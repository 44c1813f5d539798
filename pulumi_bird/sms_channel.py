"""``SmsChannel``: an SMS channel on a Bird phone number (a connector of the ``sms-messagebird:1`` template).

Sections: the declared schema, the provider, the resource class. The lifecycle (replacement deletes first,
create waits for readiness) is shared with every connector: :mod:`pulumi_bird.provider.connectors`.
"""

from __future__ import annotations

from typing import ClassVar, Optional

import pulumi

from .api.values import SMS_TEMPLATE
from .provider.checks import Checker
from .provider.connectors import (
    ADOPT_ID,
    NAME,
    PHONE_NUMBER_ID,
    READY_TIMEOUT,
    WORKSPACE_ID,
    ConnectorResource,
    PhoneNumberChannelProvider,
)
from .provider.schema import Property, Schema, document

# --- schema ------------------------------------------------------------------------------------------------

SCHEMA = Schema(
    PHONE_NUMBER_ID,
    Property("channel_message_type", "the traffic it carries: one of promotional, transactional, conversational, "
             "emergency, 2fa.", bird="arguments.channelMessageType"),
    Property("use_case_id", "the 10DLC use case id, required by Bird for US 10DLC numbers.", bird="arguments.useCaseId"),
    Property("conversational", "whether inbound messages open conversations in Bird's Inbox (sent as "
             "channelConversationalStatusEnabled; Bird never reports it back).",
             bird="channelConversationalStatusEnabled"),
    NAME,
    WORKSPACE_ID,
    READY_TIMEOUT,
    ADOPT_ID,
)


# --- provider ----------------------------------------------------------------------------------------------


class SmsChannelProvider(PhoneNumberChannelProvider):
    """Provider of :class:`SmsChannel`."""

    schema: ClassVar[Schema] = SCHEMA
    template_ref: ClassVar[Optional[str]] = SMS_TEMPLATE

    def validate(self, checker: Checker) -> None:
        super().validate(checker)
        checker.boolean("conversational")


# --- resource ----------------------------------------------------------------------------------------------


class SmsChannel(ConnectorResource, module="bird", name="SmsChannel"):
    """An SMS channel on a Bird phone number (template ``sms-messagebird:1``).

    ``channel_id`` is known once the channel is active; hand it to a webhook filter or to another stack.
    Changing any input but ``ready_timeout`` replaces the channel (the old connector is deleted first).
    """

    phone_number_id: pulumi.Output[str]
    """The phone number the channel is installed on."""
    channel_message_type: pulumi.Output[str]
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
        channel_message_type: pulumi.Input[str],
        use_case_id: Optional[pulumi.Input[str]] = None,
        conversational: Optional[pulumi.Input[bool]] = None,
        name: Optional[pulumi.Input[str]] = None,
        workspace_id: Optional[pulumi.Input[str]] = None,
        ready_timeout: Optional[pulumi.Input[float]] = None,
        adopt_id: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        self._register(SmsChannelProvider(), resource_name, locals(), opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> SmsChannel:
        """Read an existing SMS connector into the stack by its Bird id (its workspace: bird:workspaceId)."""
        return SmsChannel._get(SmsChannelProvider(), resource_name, id, opts)


document(SmsChannel, SCHEMA, "An SMS channel on a phone number; ``resource_name`` is the Pulumi name.")
