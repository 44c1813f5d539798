"""Values outside a fixed set, which a type checker must flag in the user's editor.

Each line below is an error, silenced with ``# type: ignore[...]``. ``mypy --strict`` (warn_unused_ignores) and
pyright (reportUnnecessaryTypeIgnoreComment, switched on below) both report an ignore that silences nothing, so if
an input ever lost its ``Literal`` type, the line would stop being an error and the check would fail.
"""
# pyright: reportUnnecessaryTypeIgnoreComment=true

from __future__ import annotations

from pulumi_bird import EventFilterArgs, SmsChannel, WebhookSubscription, event_filter

PN = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
URL = "https://hooks.example.com/bird"


def wrong_values() -> None:
    SmsChannel("a", phone_number_id=PN, channel_message_type="transaction")  # type: ignore[arg-type]
    WebhookSubscription("b", service="channel", event="channel.updated", url=URL)  # type: ignore[arg-type]
    WebhookSubscription("c", service="channels", event="channel.updated", url=URL, desired_status="paused")  # type: ignore[arg-type]
    event_filter("chanelId", "x")  # type: ignore[arg-type]
    bad: EventFilterArgs = {"key": "platform", "value": "sms"}  # type: ignore[typeddict-item]
    assert bad
