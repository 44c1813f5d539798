"""Whole programs through the runner (the engine double: mock monitor + the SDK's real provider host, sent
the engine's requests) against the emulator: preview with unknowns, up, no-op up, in-place update,
delete-first replacement, refresh then an unchanged up, drift, get (also in preview), import_ refused as the
engine fails, adoption with adopt_id, and destroy, for all four resources."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from engine_double import ProgramError, State, destroy, refresh, run_program
from pulumi_bird import Connector, SmsChannel, VoiceChannel, WebhookSubscription, event_filter

SMS_NUMBER = "5d1c0a3e-2b4f-4c6d-8e7f-9a0b1c2d3e4f"
OTHER_NUMBER = "7e6d5c4b-3a2f-4e1d-8c0b-9a8f7e6d5c4b"
SIGNING_KEY = "whsec-lifecycle-key-81d2-6f0a4c8e2b"


def program(settings: dict[str, Any]):
    """An SMS and a voice channel on one number (the SMS number chained from the voice channel's
    number_id, unknown until it exists), a generic connector, and a webhook on the SMS channel."""

    def run() -> None:
        voice = VoiceChannel("voice", phone_number_id=settings["number"])
        sms = SmsChannel("sms", phone_number_id=voice.number_id, channel_message_type=settings["type"])
        Connector("wa", connector_template_ref="whatsapp:1", arguments={"businessId": "b-1"})
        hook = WebhookSubscription("hook", service="channels", event="channel.updated", url=settings["url"],
                                   signing_key=SIGNING_KEY, event_filters=[event_filter("channelId", sms.channel_id)])
        pulumi.export("smsChannelId", sms.channel_id)
        pulumi.export("voiceChannelId", voice.channel_id)
        pulumi.export("hookId", hook.id)

    return run


@pytest.fixture(scope="module")
def host(emulator_host):
    return emulator_host


def run(host, settings, state=None, **kw):
    return run_program(program(settings), host=host, state=state, **kw)


def test_preview_up_update_replace_refresh_destroy(emulator, host):
    settings = {"number": SMS_NUMBER, "type": "transactional", "url": "https://hooks.example.com/a"}
    emulator.clear_requests()

    preview = run(host, settings, preview=True)
    assert set(preview.steps.values()) == {"create"} and len(preview.steps) == 4
    assert emulator.requests == []  # previews are offline, even with the phone number unknown

    first = run(host, settings)
    assert set(first.steps.values()) == {"create"}
    sms_id = first.outputs["smsChannelId"]
    assert sms_id and first.outputs["voiceChannelId"] and sms_id != first.outputs["voiceChannelId"]
    hook_state = first.state.find("hook")
    assert emulator.backend.get_signing_key(emulator.organization_id, emulator.workspace_id, hook_state.id) == SIGNING_KEY

    # The state file holds the access key nowhere and the signing key only encrypted.
    text = first.state.to_json()
    assert emulator.access_key not in text and SIGNING_KEY not in text

    emulator.clear_requests()
    again = run(host, settings, state=State.from_json(text))
    assert set(again.steps.values()) == {"same"}
    assert [r.method for r in emulator.requests] == []  # an unchanged up makes no call

    # Refresh (Read with the old outputs and inputs; returned inputs replace the stored ones), then an
    # unchanged up: nothing to do, only reads were made.
    emulator.clear_requests()
    refreshed_once = refresh(again.state, host=host)
    assert {r.method for r in emulator.requests} == {"GET"}
    emulator.clear_requests()
    again = run(host, settings, state=refreshed_once)
    assert set(again.steps.values()) == {"same"}
    assert emulator.requests == []

    emulator.clear_requests()
    preview = run(host, dict(settings, url="https://hooks.example.com/b", type="2fa"), state=again.state, preview=True)
    assert preview.steps[first.state.find("hook").urn] == "update"
    assert preview.steps[first.state.find("sms").urn] == "replace"
    assert emulator.requests == []

    changed = run(host, dict(settings, url="https://hooks.example.com/b", type="2fa"), state=again.state)
    assert changed.steps[changed.state.find("hook").urn] == "update"
    assert changed.steps[changed.state.find("sms").urn] == "replace"
    calls = [(r.method, r.path) for r in emulator.requests if "/connectors" in r.path and r.method in ("POST", "DELETE")]
    old_sms = first.state.find("sms").id
    assert calls[0] == ("DELETE", f"/workspaces/{emulator.workspace_id}/connectors/{old_sms}")  # deleted first
    assert calls[1][0] == "POST"
    assert any(r.method == "PATCH" for r in emulator.requests)
    new_sms = changed.outputs["smsChannelId"]
    assert new_sms != sms_id
    hook = changed.state.find("hook")
    assert hook.outputs["event_filters"] == [{"key": "channelId", "value": new_sms}]  # follows the new channel

    # Drift: the voice connector vanishes out of band; refresh drops it and the next up recreates it.
    voice = changed.state.find("voice")
    emulator.backend.delete_connector(emulator.workspace_id, voice.id)
    refreshed = refresh(changed.state, host=host)
    assert refreshed.get(voice.urn) is None and refreshed.get(hook.urn) is not None
    healed = run(host, dict(settings, url="https://hooks.example.com/b", type="2fa"), state=refreshed)
    assert healed.steps[voice.urn] == "create"

    destroyed = destroy(healed.state, host=host)
    assert destroyed.resources == []
    assert emulator.backend.list_all_connectors(emulator.workspace_id) == []
    assert emulator.backend.list_all_webhooks(emulator.organization_id, emulator.workspace_id) == []


def test_get_reads_in_preview_too_and_a_missing_id_fails(emulator, host):
    made = run_program(lambda: VoiceChannel("made", phone_number_id=OTHER_NUMBER, name="legacy-voice"), host=host)
    existing = made.state.find("made")

    def look_up() -> None:
        pulumi.export("channel", VoiceChannel.get("looked-up", existing.id).channel_id)

    for preview in (True, False):
        emulator.clear_requests()
        result = run_program(look_up, host=host, preview=preview)
        # The engine's ReadStep runs during a preview as well: get() calls Bird then too.
        assert result.outputs["channel"] == existing.outputs["channel_id"]
        assert [r.method for r in emulator.requests] and {r.method for r in emulator.requests} == {"GET"}
    assert result.resource("looked-up").external
    destroy(result.state, host=host)  # a get()'s resource is never deleted
    assert any(c["id"] == existing.id for c in emulator.backend.list_all_connectors(emulator.workspace_id))

    missing = "0b0e2c7d-5b8a-4f0e-9d3c-2a1b0c9d8e7f"
    with pytest.raises(ProgramError, match=missing) as caught:
        run_program(lambda: VoiceChannel.get("ghost", missing), host=host, preview=True)
    assert caught.value.provider_error.operation == "Read" and caught.value.resource == "ghost"
    destroy(made.state, host=host)


def test_import_is_refused_as_the_engine_fails(emulator, host):
    made = run_program(lambda: VoiceChannel("made", phone_number_id=OTHER_NUMBER, name="legacy-voice"), host=host)
    existing = made.state.find("made").id

    def adopt() -> None:
        VoiceChannel("adopted", phone_number_id=OTHER_NUMBER, name="legacy-voice",
                     opts=pulumi.ResourceOptions(import_=existing))

    emulator.clear_requests()
    with pytest.raises(ProgramError, match=r"KeyError: '__provider' \(pulumi/pulumi#16175\)") as caught:
        run_program(adopt, host=host)
    assert f"adopt_id={existing!r}" in str(caught.value) and "VoiceChannel.get(name, id)" in str(caught.value)
    assert emulator.requests == []  # the host failed before our provider ran
    assert caught.value.state.resources == []
    destroy(made.state, host=host)


def test_exports_round_trip_as_json(emulator, host):
    result = run_program(lambda: pulumi.export("x", SmsChannel("s", phone_number_id=OTHER_NUMBER,
                                                                 channel_message_type="2fa").connector_id), host=host)
    assert json.loads(json.dumps(result.outputs))["x"] == result.state.find("s").id
    destroy(result.state, host=host)


def test_adoption_with_adopt_id(emulator, host):
    made = run_program(lambda: SmsChannel("made", phone_number_id=OTHER_NUMBER, channel_message_type="2fa",
                                          name="from the dashboard"), host=host)
    existing = made.state.find("made")

    def adopt(adopt_id=existing.id, name="from the dashboard", type_="2fa"):
        return lambda: pulumi.export("channel", SmsChannel("sms", phone_number_id=OTHER_NUMBER, channel_message_type=type_,
                                                            name=name, adopt_id=adopt_id).channel_id)

    def writes():
        return [(r.method, r.path) for r in emulator.requests if r.method in ("POST", "PATCH", "DELETE")]

    # A mismatch fails with one line per property, declared vs Bird, and writes nothing.
    emulator.clear_requests()
    with pytest.raises(ProgramError, match="name") as caught:
        run_program(adopt(name="renamed"), host=host)
    assert "renamed" in str(caught.value) and "from the dashboard" in str(caught.value)
    missing = "2c1b0a9f-8e7d-4c6b-9a5f-4e3d2c1b0a9f"
    with pytest.raises(ProgramError, match=missing):
        run_program(adopt(adopt_id=missing), host=host)
    assert writes() == []

    # Preview, then the adoption: no POST; the stack now holds Bird's connector.
    planned = run_program(adopt(), host=host, preview=True)
    assert set(planned.steps.values()) == {"create"} and writes() == []
    adopted = run_program(adopt(), host=host)
    assert writes() == [] and adopted.state.find("sms").id == existing.id
    assert adopted.outputs["channel"] == existing.outputs["channel_id"]

    # Managed like any other: an unchanged up, and removing adopt_id later, change nothing.
    again = run_program(adopt(), host=host, state=adopted.state)
    without = run_program(adopt(adopt_id=None), host=host, state=again.state)
    assert set(again.steps.values()) == set(without.steps.values()) == {"same"}
    assert writes() == []

    # destroy deletes it (no retain_on_delete).
    destroy(without.state, host=host)
    assert writes() == [("DELETE", f"/workspaces/{emulator.workspace_id}/connectors/{existing.id}")]
    assert not any(c["id"] == existing.id for c in emulator.backend.list_all_connectors(emulator.workspace_id))
