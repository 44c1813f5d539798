"""A webhook subscription on the event the stack config names."""

import pulumi

from pulumi_bird import WebhookSubscription

config = pulumi.Config()
hook = WebhookSubscription("hook", service="channels", event=config.require("event"),
                           url="https://hooks.example.com/bird/e2e")
pulumi.export("subscriptionId", hook.id)
