"""Where ``SmsChannelProvider`` and ``VoiceChannelProvider`` lived in pulumi-bird 0.1.

Pulumi keeps each resource's provider pickled in the stack's state *by reference* (module and class name), so
stacks deployed with 0.1 name ``pulumi_bird.channels.SmsChannelProvider``. This module keeps those names
resolving for their refresh, update and destroy; new state names :mod:`pulumi_bird.sms_channel` and
:mod:`pulumi_bird.voice_channel`.
"""

from .sms_channel import SmsChannelProvider
from .voice_channel import VoiceChannelProvider

__all__ = ["SmsChannelProvider", "VoiceChannelProvider"]
