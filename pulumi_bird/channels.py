"""Where ``SmsChannelProvider`` and ``VoiceChannelProvider`` lived in pulumi-bird 0.1: Pulumi pickles each resource's
provider into the state by reference (module and class name), so stacks deployed with 0.1 need these names."""

from .sms_channel import SmsChannelProvider
from .voice_channel import VoiceChannelProvider

__all__ = ["SmsChannelProvider", "VoiceChannelProvider"]
