"""``VoiceChannel``: a voice channel on a Bird phone number (a connector of the ``voice-messagebird:1`` template).

Its whole lifecycle is the phone number channels' (:mod:`pulumi_bird.provider.connectors`): this module only
declares its schema and template.
"""

from __future__ import annotations

from typing import ClassVar, Optional

import pulumi

from .api.values import VOICE_TEMPLATE
from .provider import connectors as shared
from .provider.schema import Schema, document

SCHEMA = Schema(shared.PHONE_NUMBER_INPUT, *shared.CHANNEL_INPUTS, *shared.COMPUTED, shared.TEMPLATE_OUTPUT)


class VoiceChannelProvider(shared.PhoneNumberChannelProvider):
    """Provider of :class:`VoiceChannel`."""

    schema: ClassVar[Schema] = SCHEMA
    template_ref: ClassVar[Optional[str]] = VOICE_TEMPLATE


class VoiceChannel(shared.ConnectorResource, module="bird", name="VoiceChannel"):
    """A voice channel on a Bird phone number (template ``voice-messagebird:1``).

    Changing any input but ``ready_timeout`` replaces the channel (the old connector is deleted first).
    """

    bird_provider = VoiceChannelProvider

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
        self._register(resource_name, locals(), opts)



document(VoiceChannel, SCHEMA, "A voice channel on a phone number; ``resource_name`` is the Pulumi name.")
