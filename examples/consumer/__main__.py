"""A second stack: reads the SMS channel's id from the channels stack and subscribes to its inbound SMS."""

import pulumi

from pulumi_bird import WebhookSubscription, event_filter

config = pulumi.Config()
channels = pulumi.StackReference(config.get("channelsStack") or "organization/bird-channels/dev")
sms_channel_id = channels.require_output("smsChannelId")

inbound = WebhookSubscription(
    "sms-inbound",
    service="channels",
    event="sms.inbound",
    url=config.require("inboundUrl"),
    signing_key=config.require_secret("signingKey"),
    event_filters=[event_filter("channelId", sms_channel_id)],
)

pulumi.export("subscriptionId", inbound.id)
pulumi.export("subscribedChannelId", sms_channel_id)
