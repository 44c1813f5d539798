"""A voice channel adopted with adopt_id, as examples/adopt-existing adopts an SMS channel (or, without
connectorId, created)."""

import pulumi

from pulumi_bird import VoiceChannel

config = pulumi.Config()
voice = VoiceChannel("voice", phone_number_id=config.require("phoneNumberId"), name=config.require("name"),
                     adopt_id=config.get("connectorId"))
pulumi.export("channelId", voice.channel_id)
