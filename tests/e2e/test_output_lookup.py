"""A lookup's ``_output`` form on the real engine: `preview` shows its result unknown, reads nothing from Bird and
runs no apply on it; `up` reads the number and hands its id to the channel."""

from __future__ import annotations

from typing import List

import pulumi

from pulumi_bird import SmsChannel, get_phone_number_output
from pulumi_bird.emulator import DEFAULT_NUMBERS

SMS_NUMBER = DEFAULT_NUMBERS[0][0]
applied: List[str] = []  # the ids the program's apply saw (an inline program runs in this process)


def program() -> None:
    found = get_phone_number_output(SMS_NUMBER)
    sms = SmsChannel("sms", phone_number_id=found.id, channel_message_type="transactional")
    pulumi.export("numberId", found.id)
    pulumi.export("number", found.apply(lambda n: applied.append(n.id) or n.to_dict()))
    pulumi.export("connectorId", sms.connector_id)


def test_an_output_lookup_previews_unknown_and_is_read_at_up(bird_stack, bird_emulator) -> None:
    bird_emulator.provision_seconds = 0.2
    stack = bird_stack(program)
    bird_emulator.clear_requests()
    assert stack.preview().change_summary == {"create": 2}
    assert [r.path for r in bird_emulator.requests if r.path.endswith("/numbers")] == []
    assert applied == []
    up = stack.up()
    number_id = up.outputs["numberId"].value
    assert applied == [number_id] and up.outputs["number"].value["number"] == SMS_NUMBER
    assert stack.objects()["connectors"][0]["arguments"]["phoneNumberId"] == number_id
