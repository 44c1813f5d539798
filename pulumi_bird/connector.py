"""``Connector``: a Bird connector installed from any template (WhatsApp, Instagram, e-mail, ...); its lifecycle is
every connector's (:mod:`pulumi_bird.provider.connectors`)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Mapping, Optional

import pulumi
from typing_extensions import Required, TypedDict, Unpack

from .provider import connectors as shared
from .provider.base import WorkspaceId
from .provider.checks import Checker
from .provider.schema import Property, Schema, document

# --- schema ------------------------------------------------------------------------------------------------


class ConnectorArgs(TypedDict, total=False):
    """The inputs of :class:`Connector`."""

    connector_template_ref: Required[Annotated[pulumi.Input[str], Property(
        "the template to install, e.g. ``whatsapp:1``.", bird="connectorTemplateRef", example="whatsapp:1")]]
    name: shared.ConnectorName
    arguments: Annotated[Optional[pulumi.Input[Mapping[str, pulumi.Input[Any]]]], Property(
        "the template's arguments (for ``sms-messagebird:1``: phoneNumberId, channelMessageType, useCaseId).",
        bird="arguments", echo="keys")]
    security_arguments: Annotated[Optional[pulumi.Input[Mapping[str, pulumi.Input[Mapping[str, pulumi.Input[str]]]]]],
                                  Property("credentials the template's security schemes need.",
                                           bird="securityArguments", secret=True, echo="never")]
    channel_conversational_status_enabled: Annotated[Optional[pulumi.Input[bool]], Property(
        "whether inbound messages open conversations in Bird's Inbox.", bird="channelConversationalStatusEnabled",
        echo="never")]
    invitation_token: Annotated[Optional[pulumi.Input[str]], Property(
        "token for templates that are not generally available.", bird="invitationToken", secret=True, echo="never")]
    workspace_id: WorkspaceId
    ready_timeout: shared.ReadyTimeout
    allow_identical: Annotated[Optional[pulumi.Input[bool]], Property(
        "create even when a connector identical in everything Bird shows (name, template, arguments) already "
        "exists. Without it such a create fails naming the existing connector, which is usually a leftover of an "
        "interrupted run to adopt.", change="none")]
    adopt_id: shared.AdoptConnectorId


SCHEMA = Schema.declare(ConnectorArgs, shared.ConnectorOutputs)


# --- provider ----------------------------------------------------------------------------------------------


class ConnectorProvider(shared.ConnectorBackedProvider):
    """Provider of :class:`Connector` (any template, from ``connector_template_ref``)."""

    schema: ClassVar[Schema] = SCHEMA

    def validate(self, checker: Checker) -> None:
        super().validate(checker)
        template = checker.string("connector_template_ref", required=True, max_length=255)
        arguments = checker.string_map("arguments")
        checker.string_map("security_arguments", depth=2)
        checker.string("invitation_token", secret=True)
        if arguments is not None:
            names = {a: f"arguments.{a}" for a in shared.TEMPLATE_ARGUMENTS.get(template or "", {})}
            shared.check_template_arguments(checker, template, arguments, names)


# --- resource ----------------------------------------------------------------------------------------------


class Connector(shared.ConnectorResource, module="bird", name="Connector"):
    """A connector installed from any Bird template (WhatsApp, Instagram, e-mail, ...).

    Every input reaches Bird except ``ready_timeout``, so changing any other input replaces the connector
    (the old one is deleted first). ``security_arguments`` and ``invitation_token`` are secrets.
    """

    bird_provider = ConnectorProvider

    # For pyright and mypy: the Output of each input of its own (a test checks them against ConnectorArgs).
    connector_template_ref: pulumi.Output[str]
    arguments: pulumi.Output[Optional[dict[str, Any]]]
    security_arguments: pulumi.Output[Optional[dict[str, dict[str, str]]]]
    channel_conversational_status_enabled: pulumi.Output[Optional[bool]]
    invitation_token: pulumi.Output[Optional[str]]
    allow_identical: pulumi.Output[Optional[bool]]

    def __init__(
        self, resource_name: str, *, opts: Optional[pulumi.ResourceOptions] = None, **args: Unpack[ConnectorArgs]
    ) -> None:
        self._register(resource_name, args, opts)


document(Connector, SCHEMA, "A connector from ``connector_template_ref``; ``resource_name`` is the Pulumi name.")
