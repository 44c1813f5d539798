"""Subscribe receiver.py to every new channel in the workspace, with a signing key."""

import pulumi

from pulumi_bird import WebhookSubscription

config = pulumi.Config()

created = WebhookSubscription(
    "channel-created",
    service="channels",
    event="channel.created",
    url=config.require("publicUrl"),
    signing_key=config.require_secret("signingKey"),
)

pulumi.export("subscriptionId", created.id)
