"""The inline Pulumi program of one customer's stack: an SMS channel per number, and one signed webhook on the
updates of the channels in the customer's workspace."""

from __future__ import annotations

from typing import Callable, Dict

import pulumi
from customers import Customer

from pulumi_bird import BirdError, SmsChannel, WebhookSubscription, get_phone_number

# The stack's own config keys (project "bird-fleet"): the customer's signing key, generated once and kept secret.
SIGNING_KEY = "signingKey"


def customer_program(customer: Customer) -> Callable[[], None]:
    """The program ``pulumi up`` runs for ``customer``'s stack (the workspace comes from ``bird:workspaceId``)."""

    def program() -> None:
        signing_key = pulumi.Config().require_secret(SIGNING_KEY)
        number_ids = _look_up_numbers(customer)  # all before any resource: a missing number creates nothing
        channels: Dict[str, pulumi.Output[str]] = {}
        for number, number_id in number_ids.items():
            sms = SmsChannel(f"sms-{number.lstrip('+')}", phone_number_id=number_id,
                             channel_message_type="transactional", name=f"{customer.name} {number}")
            channels[number] = sms.channel_id
        # The workspace is the customer's own, so one subscription without a channelId filter covers every channel
        # in it, those the customer adds later included.
        WebhookSubscription("channel-updates", service="channels", event="channel.updated", url=customer.webhook_url,
                            signing_key=signing_key)
        pulumi.export("workspaceId", customer.workspace_id)
        pulumi.export("channels", channels)
        # Kept in the (encrypted) state too, so that a machine without this stack's config file (a CI runner of
        # the matrix) reuses the key instead of rotating it.
        pulumi.export(SIGNING_KEY, signing_key)

    return program


def _look_up_numbers(customer: Customer) -> Dict[str, str]:
    """Each number's Bird id, from the workspace's Numbers API (get_phone_number)."""
    try:
        return {number: get_phone_number(number).id for number in customer.numbers}
    except BirdError as exc:  # NotFoundError (no such number), a refused key, an unreachable API
        # RunError: the engine shows the message alone, without a Python traceback.
        raise pulumi.RunError(f"customer {customer.name}: {exc}") from None
