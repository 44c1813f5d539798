"""An SMS channel and a voice channel on two phone numbers, and a webhook on the SMS channel's updates.

The root Pulumi.yaml runs this program (`make demo`, `pulumi up`); so does examples/channels/Pulumi.yaml.
"""

from typing import cast

import pulumi

from pulumi_bird import (
    ChannelMessageType,
    SmsChannel,
    VoiceChannel,
    WebhookSubscription,
    event_filter,
    get_phone_number,
)

config = pulumi.Config()


def phone_number_id(key: str) -> str:
    """The number's Bird id from config: E.164 text (+3197010520000) is looked up in the workspace's numbers
    with Bird's Numbers API; anything else is taken as the number's id (a UUID) as it is."""
    value = config.require(key).strip()
    return get_phone_number(value).id if value.startswith("+") else value


sms = SmsChannel(
    "sms",
    phone_number_id=phone_number_id("smsPhoneNumberId"),
    # check (at preview) refuses a value the template does not know; the cast tells the type checker so
    channel_message_type=cast(ChannelMessageType, config.get("smsMessageType") or "transactional"),
    use_case_id=config.get("smsUseCaseId") or None,
    conversational=True,
)

voice = VoiceChannel("voice", phone_number_id=phone_number_id("voicePhoneNumberId"))

# Optional: unset or empty means "no signing key". Pass the key, as a secret, only when it is set.
signing_key = config.get_secret("webhookSigningKey") if config.get("webhookSigningKey") else None
updates = WebhookSubscription(
    "sms-channel-updates",
    service="channels",
    event="channel.updated",
    url=config.get("webhookUrl") or "https://hooks.example.com/bird/channel-updated",
    signing_key=signing_key,
    # The channel id is known once the SMS channel is active: the subscription waits for it.
    event_filters=[event_filter("channelId", sms.channel_id)],
)

pulumi.export("smsChannelId", sms.channel_id)
pulumi.export("smsConnectorId", sms.connector_id)
pulumi.export("smsPhoneNumber", sms.phone_number)
pulumi.export("voiceChannelId", voice.channel_id)
pulumi.export("voiceConnectorId", voice.connector_id)
pulumi.export("webhookSubscriptionId", updates.id)
