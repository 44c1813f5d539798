"""``VoiceChannel``: a voice channel on a Bird phone number (a connector of the ``voice-messagebird:1`` template).

Sections: the declared schema, the provider, the resource class. The lifecycle (replacement deletes first,
create waits for readiness) is shared with every connector: :mod:`pulumi_bird.provider.connectors`.
"""

from __future__ import annotations

from typing import ClassVar, Optional

import pulumi

from .api.values import VOICE_TEMPLATE
from .provider.connectors import (
    ADOPT_ID,
    NAME,
    PHONE_NUMBER_ID,
    READY_TIMEOUT,
    WORKSPACE_ID,
    ConnectorResource,
    PhoneNumberChannelProvider,
)
from .provider.schema import Schema, document

# --- schema ------------------------------------------------------------------------------------------------

SCHEMA = Schema(
    PHONE_NUMBER_ID,
    NAME,
    WORKSPACE_ID,
    READY_TIMEOUT,
    ADOPT_ID,
)


# --- provider ----------------------------------------------------------------------------------------------


class VoiceChannelProvider(PhoneNumberChannelProvider):
    """Provider of :class:`VoiceChannel`."""

    schema: ClassVar[Schema] = SCHEMA
    template_ref: ClassVar[Optional[str]] = VOICE_TEMPLATE


# --- resource ----------------------------------------------------------------------------------------------


class VoiceChannel(ConnectorResource, module="bird", name="VoiceChannel"):
    """A voice channel on a Bird phone number (template ``voice-messagebird:1``).

    Changing any input but ``ready_timeout`` replaces the channel (the old connector is deleted first).
    """

    phone_number_id: pulumi.Output[str]
    """The phone number the channel is installed on."""

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
        self._register(VoiceChannelProvider(), resource_name, locals(), opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> VoiceChannel:
        """Read an existing voice connector into the stack by its Bird id (its workspace: bird:workspaceId)."""
        return VoiceChannel._get(VoiceChannelProvider(), resource_name, id, opts)


document(VoiceChannel, SCHEMA, "A voice channel on a phone number; ``resource_name`` is the Pulumi name.")
