"""Adopt an existing SMS connector into this stack by id, and read its live status with a lookup.

`adopt_id` takes it over on the next `pulumi up` with no POST (the inputs must match what Bird has; a mismatch
fails, naming each differing property, and changes nothing). After that the stack owns it: `pulumi destroy`
deletes it, unless `retain_on_delete=True` as here. Removing `adopt_id` later changes nothing.
(`import_` and `pulumi import` cannot serve Python dynamic providers: pulumi/pulumi#16175.)

On the emulator, make_connector.py makes a connector to adopt (see README.md).
"""

from typing import cast

import pulumi

from pulumi_bird import ChannelMessageType, SmsChannel, get_connector_output, get_phone_number

config = pulumi.Config()
connector_id = config.require("connectorId")
# E.164 text (+3197010520000) is looked up with Bird's Numbers API; anything else is the number's id (UUID).
number = config.require("phoneNumberId").strip()

sms = SmsChannel(
    "adopted-sms",
    phone_number_id=get_phone_number(number).id if number.startswith("+") else number,
    # check (at preview) refuses a value the template does not know; the cast tells the type checker so
    channel_message_type=cast(ChannelMessageType, config.get("channelMessageType") or "transactional"),
    name=config.require("connectorName"),
    adopt_id=connector_id,
    opts=pulumi.ResourceOptions(retain_on_delete=True),
)

live = get_connector_output(connector_id)  # read-only, like a Terraform data block; unknown in preview

pulumi.export("channelId", sms.channel_id)
pulumi.export("liveChannelStatus", live.apply(lambda c: c.channel_status))
