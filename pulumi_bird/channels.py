"""``SmsChannel`` and ``VoiceChannel``: connectors on a phone number, with typed inputs.

They are connectors of the ``sms-messagebird:1`` and ``voice-messagebird:1`` templates; see
:mod:`pulumi_bird.connector` for the lifecycle (replacement deletes first, create waits for readiness).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Optional

import pulumi

from ._check import Checker
from .connector import (
    SMS_TEMPLATE,
    VOICE_TEMPLATE,
    ConnectorProvider,
    ConnectorResource,
    check_template_arguments,
)

# --- schema ------------------------------------------------------------------------------------------------

# template argument -> the input that carries it
SMS_ARGUMENTS = {"phoneNumberId": "phone_number_id", "channelMessageType": "channel_message_type", "useCaseId": "use_case_id"}
VOICE_ARGUMENTS = {"phoneNumberId": "phone_number_id"}


class _PhoneNumberChannelProvider(ConnectorProvider):
    """A connector whose template arguments are inputs of their own."""

    arguments_map: ClassVar[dict[str, str]]

    def validate(self, checker: Checker) -> None:
        arguments = {arg: checker.news.get(prop) for arg, prop in self.arguments_map.items()}
        check_template_arguments(checker, self.template_ref, arguments, self.arguments_map)

    def arguments(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {arg: inputs.get(prop) for arg, prop in self.arguments_map.items() if inputs.get(prop) is not None}

    def request_fields(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": inputs.get("name"), "connector_template_ref": self.template_ref, "arguments": self.arguments(inputs)}

    def reported_arguments(self, connector: Any) -> dict[str, Any]:
        """The template arguments Bird reports, by input name; an argument Bird does not echo is absent (the
        phone number is then taken from the connector's number)."""
        reported = connector.arguments or {}
        found = {prop: reported[arg] for arg, prop in self.arguments_map.items() if arg in reported}
        if "phone_number_id" not in found and connector.number is not None and connector.number.number_id:
            found["phone_number_id"] = connector.number.number_id
        return found

    def inputs_from_bird(self, connector: Any, props: Mapping[str, Any], *, lookup: bool = False) -> dict[str, Any]:
        # What Bird echoes wins (a change in the dashboard shows); what it does not echo keeps its value from state.
        inputs: dict[str, Any] = {"name": connector.name}
        inputs.update({prop: props.get(prop) for prop in self.arguments_map.values()})
        inputs.update(self.reported_arguments(connector))
        return inputs

    def adoption_differences(self, connector: Any, inputs: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        found = [("name", inputs.get("name"), connector.name)] if connector.name != inputs.get("name") else []
        for prop, theirs in self.reported_arguments(connector).items():
            if theirs != inputs.get(prop):
                found.append((prop, inputs.get(prop), theirs))
        return found


# --- providers ---------------------------------------------------------------------------------------------


class SmsChannelProvider(_PhoneNumberChannelProvider):
    """Provider of :class:`SmsChannel`."""

    template_ref = SMS_TEMPLATE
    arguments_map = SMS_ARGUMENTS
    input_names = (
        "phone_number_id",
        "channel_message_type",
        "use_case_id",
        "conversational",
        "name",
        "workspace_id",
        "ready_timeout",
        "adopt_id",
    )

    def validate(self, checker: Checker) -> None:
        super().validate(checker)
        checker.boolean("conversational")

    def request_fields(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().request_fields(inputs), "channel_conversational_status_enabled": inputs.get("conversational")}

    def inputs_from_bird(self, connector: Any, props: Mapping[str, Any], *, lookup: bool = False) -> dict[str, Any]:
        # Bird does not report channelConversationalStatusEnabled back: keep what we sent.
        return {**super().inputs_from_bird(connector, props, lookup=lookup), "conversational": props.get("conversational")}


class VoiceChannelProvider(_PhoneNumberChannelProvider):
    """Provider of :class:`VoiceChannel`."""

    template_ref = VOICE_TEMPLATE
    arguments_map = VOICE_ARGUMENTS
    input_names = ("phone_number_id", "name", "workspace_id", "ready_timeout", "adopt_id")


# --- resources ---------------------------------------------------------------------------------------------


class SmsChannel(ConnectorResource, module="bird", name="SmsChannel"):
    """An SMS channel on a Bird phone number (template ``sms-messagebird:1``).

    ``channel_id`` is known once the channel is active; hand it to a webhook filter or to another stack.
    Changing any input but ``ready_timeout`` replaces the channel (the old connector is deleted first).
    """

    phone_number_id: pulumi.Output[str]
    channel_message_type: pulumi.Output[str]
    use_case_id: pulumi.Output[Optional[str]]
    conversational: pulumi.Output[Optional[bool]]

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
        """
        :param phone_number_id: the Bird id (UUID) of the phone number to install the channel on.
        :param channel_message_type: the traffic it carries: one of promotional, transactional,
            conversational, emergency, 2fa.
        :param use_case_id: the 10DLC use case id, required by Bird for US 10DLC numbers.
        :param conversational: whether inbound messages open conversations in Bird's Inbox
            (sent as channelConversationalStatusEnabled).
        :param name: the connector's name in Bird; defaults to the resource name.
        :param workspace_id: defaults to ``bird:workspaceId`` / ``BIRD_WORKSPACE_ID``.
        :param ready_timeout: seconds to wait for the channel to become active (default 600); changing it changes nothing on Bird.
        :param adopt_id: the id of an existing connector to take over instead of creating one (no POST); it must
            match the declared inputs. Changing or removing it later changes nothing.
        """
        self._register(
            SmsChannelProvider(),
            resource_name,
            {
                "phone_number_id": phone_number_id,
                "channel_message_type": channel_message_type,
                "use_case_id": use_case_id,
                "conversational": conversational,
                "name": name if name is not None else resource_name,
                "workspace_id": workspace_id,
                "ready_timeout": ready_timeout,
                "adopt_id": adopt_id,
            },
            opts,
        )

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> "SmsChannel":
        """Read an existing SMS connector into the stack by its Bird id (its workspace: bird:workspaceId)."""
        return SmsChannel._get(SmsChannelProvider(), resource_name, id, opts)


class VoiceChannel(ConnectorResource, module="bird", name="VoiceChannel"):
    """A voice channel on a Bird phone number (template ``voice-messagebird:1``).

    Changing any input but ``ready_timeout`` replaces the channel (the old connector is deleted first).
    """

    phone_number_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        phone_number_id: pulumi.Input[str],
        name: Optional[pulumi.Input[str]] = None,
        workspace_id: Optional[pulumi.Input[str]] = None,
        ready_timeout: Optional[pulumi.Input[float]] = None,
        adopt_id: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        """
        :param phone_number_id: the Bird id (UUID) of the phone number to install the channel on.
        :param name: the connector's name in Bird; defaults to the resource name.
        :param workspace_id: defaults to ``bird:workspaceId`` / ``BIRD_WORKSPACE_ID``.
        :param ready_timeout: seconds to wait for the channel to become active (default 600); changing it changes nothing on Bird.
        :param adopt_id: the id of an existing connector to take over instead of creating one (no POST); it must
            match the declared inputs. Changing or removing it later changes nothing.
        """
        self._register(
            VoiceChannelProvider(),
            resource_name,
            {
                "phone_number_id": phone_number_id,
                "name": name if name is not None else resource_name,
                "workspace_id": workspace_id,
                "ready_timeout": ready_timeout,
                "adopt_id": adopt_id,
            },
            opts,
        )

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> "VoiceChannel":
        """Read an existing voice connector into the stack by its Bird id (its workspace: bird:workspaceId)."""
        return VoiceChannel._get(VoiceChannelProvider(), resource_name, id, opts)
