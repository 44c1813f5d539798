"""``Connector``: a Bird connector installed from any template (WhatsApp, Instagram, e-mail, ...).

Sections: the declared schema, the provider, the resource class. The lifecycle every connector-backed
resource shares lives in :mod:`pulumi_bird.provider.connectors`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Optional

import pulumi

from .provider import connectors as shared
from .provider.base import WORKSPACE_INPUT
from .provider.checks import Checker
from .provider.connectors import TEMPLATE_ARGUMENTS, check_template_arguments
from .provider.schema import Property, Schema, document

# --- schema ------------------------------------------------------------------------------------------------

SCHEMA = Schema(
    Property("connector_template_ref", "the template to install, e.g. ``whatsapp:1``.", bird="connectorTemplateRef",
             required=True, example="whatsapp:1"),
    shared.NAME_INPUT,
    Property("arguments", "the template's arguments (for ``sms-messagebird:1``: phoneNumberId, channelMessageType, "
             "useCaseId).", bird="arguments", echo="keys"),
    Property("security_arguments", "credentials the template's security schemes need.", bird="securityArguments",
             secret=True, echo="never"),
    Property("channel_conversational_status_enabled", "whether inbound messages open conversations in Bird's Inbox.",
             bird="channelConversationalStatusEnabled", echo="never"),
    Property("invitation_token", "token for templates that are not generally available.", bird="invitationToken",
             secret=True, echo="never"),
    WORKSPACE_INPUT,
    shared.READY_TIMEOUT_INPUT,
    Property("allow_identical", "create even when a connector identical in everything Bird shows (name, template, "
             "arguments) already exists. Without it such a create fails naming the existing connector, which is "
             "usually a leftover of an interrupted run to adopt.", change="none"),
    shared.ADOPT_ID_INPUT,
    *shared.COMPUTED,
)


# --- provider ----------------------------------------------------------------------------------------------


class ConnectorProvider(shared.ConnectorBackedProvider):
    """Provider of :class:`Connector` (any template, from ``connector_template_ref``)."""

    schema: ClassVar[Schema] = SCHEMA

    def validate(self, checker: Checker) -> None:
        super().validate(checker)
        template = checker.string("connector_template_ref", required=True, max_length=255)
        arguments = checker.string_map("arguments")
        checker.string_map("security_arguments", depth=2)
        checker.boolean("channel_conversational_status_enabled")
        checker.string("invitation_token", secret=True)
        if arguments is not None:
            names = {a: f"arguments.{a}" for a in TEMPLATE_ARGUMENTS.get(template or "", {})}
            check_template_arguments(checker, template, arguments, names)


# --- resource ----------------------------------------------------------------------------------------------


class Connector(shared.ConnectorResource, module="bird", name="Connector"):
    """A connector installed from any Bird template (WhatsApp, Instagram, e-mail, ...).

    Every input reaches Bird except ``ready_timeout``, so changing any other input replaces the connector
    (the old one is deleted first). ``security_arguments`` and ``invitation_token`` are secrets.
    """

    bird_provider = ConnectorProvider

    arguments: pulumi.Output[Optional[dict[str, Any]]]
    """The template's arguments, as Bird reports them."""
    security_arguments: pulumi.Output[Optional[dict[str, dict[str, str]]]]
    """The credentials given for the template's security schemes (secret; Bird never returns them)."""
    channel_conversational_status_enabled: pulumi.Output[Optional[bool]]
    """Whether inbound messages open conversations in Bird's Inbox."""
    invitation_token: pulumi.Output[Optional[str]]
    """The invitation token given (secret)."""

    def __init__(
        self,
        resource_name: str,
        *,
        connector_template_ref: pulumi.Input[str],
        name: Optional[pulumi.Input[str]] = None,
        arguments: Optional[pulumi.Input[Mapping[str, pulumi.Input[Any]]]] = None,
        security_arguments: Optional[pulumi.Input[Mapping[str, pulumi.Input[Mapping[str, pulumi.Input[str]]]]]] = None,
        channel_conversational_status_enabled: Optional[pulumi.Input[bool]] = None,
        invitation_token: Optional[pulumi.Input[str]] = None,
        workspace_id: Optional[pulumi.Input[str]] = None,
        ready_timeout: Optional[pulumi.Input[float]] = None,
        allow_identical: Optional[pulumi.Input[bool]] = None,
        adopt_id: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        self._register(resource_name, locals(), opts)



document(Connector, SCHEMA, "A connector from ``connector_template_ref``; ``resource_name`` is the Pulumi name.")
