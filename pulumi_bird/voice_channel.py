"""``VoiceChannel``: a voice channel on a Bird phone number (a connector of the ``voice-messagebird:1`` template);
its lifecycle is every connector's (:mod:`pulumi_bird.provider.connectors`)."""

from __future__ import annotations

from typing import ClassVar, Optional

import pulumi
from typing_extensions import Required, TypedDict, Unpack

from .api.values import VOICE_TEMPLATE
from .provider import connectors as shared
from .provider.base import WorkspaceId
from .provider.schema import Schema, document


class VoiceChannelArgs(TypedDict, total=False):
    """The inputs of :class:`VoiceChannel`."""

    phone_number_id: Required[shared.PhoneNumberId]
    name: shared.ConnectorName
    workspace_id: WorkspaceId
    ready_timeout: shared.ReadyTimeout
    adopt_id: shared.AdoptConnectorId


SCHEMA = Schema.declare(VoiceChannelArgs, shared.ChannelOutputs)


class VoiceChannelProvider(shared.PhoneNumberChannelProvider):
    """Provider of :class:`VoiceChannel`."""

    schema: ClassVar[Schema] = SCHEMA
    template_ref: ClassVar[Optional[str]] = VOICE_TEMPLATE


class VoiceChannel(shared.ConnectorResource, shared.ChannelOutputs, module="bird", name="VoiceChannel"):
    """A voice channel on a Bird phone number (template ``voice-messagebird:1``).

    Changing any input but ``ready_timeout`` replaces the channel (the old connector is deleted first).
    """

    bird_provider = VoiceChannelProvider

    # For pyright and mypy: the Output of its own input (a test checks it against VoiceChannelArgs).
    phone_number_id: pulumi.Output[str]

    def __init__(
        self, resource_name: str, *, opts: Optional[pulumi.ResourceOptions] = None, **args: Unpack[VoiceChannelArgs]
    ) -> None:
        self._register(resource_name, args, opts)


document(VoiceChannel, SCHEMA, "A voice channel on a phone number; ``resource_name`` is the Pulumi name.")
