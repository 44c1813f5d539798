"""The engine double runs each command as the engine runs it, through the SDK's real provider host, against the
emulator: `pulumi up` previews first, aliases and get() keep objects, disable-default-providers denies dynamic
resources, ignore_changes takes property paths, refresh and destroy use the config stored by the last up, and
errors read as the provider's message."""

from __future__ import annotations

import uuid

import pulumi
import pytest

from engine_double import ProgramError, ProviderHost, destroy, make_urn, refresh, run_program, secret
from engine_double.host import DEFAULT_CALL_TIMEOUT
from pulumi_bird import SmsChannel, VoiceChannel, WebhookSubscription, event_filter

VOICE = "pulumi-python:dynamic/bird:VoiceChannel"


def number() -> str:
    """A phone number id of its own for each test, so that one test's leftovers cannot collide with another's."""
    return str(uuid.uuid4())


def methods(emulator):
    return [r.method for r in emulator.requests]


CHANNEL_A = "0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e"
CHANNEL_B = "0b0b0b0b-1c1c-4d2d-8e3e-4f4f4f4f4f4f"


def hooks(count, channel_id=CHANNEL_A, **kw):
    return [
        WebhookSubscription(f"hook{i}", service="channels", event="channel.updated", url=f"https://h.example.com/{i}",
                            event_filters=[event_filter("channelId", channel_id)], **kw)
        for i in range(count)
    ]


def test_a_failed_check_creates_nothing(emulator, bird_config):
    """pkg/backend/apply.go: `pulumi up` previews first and a failed preview stops it, so the three valid
    siblings of a channel that fails Check are not created."""

    def program():
        SmsChannel("sms", phone_number_id=number(), channel_message_type="transaction")  # not a valid type
        hooks(3)

    emulator.clear_requests()
    with pytest.raises(ProgramError, match="channel_message_type") as caught:
        run_program(program, config=bird_config)
    assert caught.value.resource == "sms"
    assert "POST" not in methods(emulator) and caught.value.state.resources == []


def test_an_aliased_rename_is_the_same_resource(emulator, bird_config):
    """step_generator.go getOldResource: the alias finds the old resource; no create, no delete."""
    phone = number()
    first = run_program(lambda: VoiceChannel("old", phone_number_id=phone, name="voice"), config=bird_config)
    emulator.clear_requests()
    renamed = run_program(
        lambda: VoiceChannel("new", phone_number_id=phone, name="voice",
                             opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old")])),
        config=bird_config, state=first.state,
    )
    assert renamed.steps == {make_urn(VOICE, "new"): "same"}
    assert {"POST", "DELETE"}.isdisjoint(methods(emulator))
    assert [r.name for r in renamed.state.resources] == ["new"]
    assert renamed.resource("new").id == first.resource("old").id
    destroy(renamed.state)


def test_get_of_a_managed_id_releases_it(emulator, bird_config):
    """step_generator.go GenerateReadSteps: get() of the id the managed resource holds relinquishes it."""
    phone = number()
    made = run_program(lambda: VoiceChannel("voice", phone_number_id=phone, name="kept"), config=bird_config)
    channel = made.resource("voice").id
    emulator.clear_requests()
    released = run_program(lambda: VoiceChannel.get("voice", channel), config=bird_config, state=made.state)
    assert "DELETE" not in methods(emulator)
    assert released.resource("voice").external and released.resource("voice").id == channel
    destroy(released.state)  # an external resource is only dropped
    assert "DELETE" not in methods(emulator)
    destroy(made.state)


def test_disable_default_providers_denies_every_dynamic_resource(emulator, bird_config):
    """default_providers.go shouldDenyRequest: ["*"] denies the pulumi-python default provider too."""
    emulator.clear_requests()
    config = dict(bird_config, **{"pulumi:disable-default-providers": ["*"]})
    with pytest.raises(ProgramError, match="Default provider for 'pulumi-python' disabled") as caught:
        run_program(lambda: VoiceChannel("voice", phone_number_id=number()), config=config)
    assert caught.value.state.resources == [] and emulator.requests == []
    with pytest.raises(ProgramError, match="Default provider for 'pulumi-python' disabled"):
        run_program(lambda: VoiceChannel.get("voice", "some-id"), config=config)
    # Another package listed leaves dynamic resources alone (run as a preview: nothing is made).
    allowed = dict(bird_config, **{"pulumi:disable-default-providers": ["aws"]})
    assert run_program(lambda: hooks(1), config=allowed, preview=True).steps


def test_ignore_changes_takes_a_nested_property_path(emulator, bird_config):
    """step_generator.go processIgnoreChanges -> PropertyPath.Reset: `event_filters[0].value` keeps the
    old value, so the changed filter value makes no update."""
    first = run_program(lambda: hooks(1, CHANNEL_A), config=bird_config, skip_preview=True)
    emulator.clear_requests()
    ignored = pulumi.ResourceOptions(ignore_changes=["event_filters[0].value"])
    again = run_program(lambda: hooks(1, CHANNEL_B, opts=ignored), config=bird_config, state=first.state,
                        skip_preview=True)
    assert set(again.steps.values()) == {"same"} and "PATCH" not in methods(emulator)
    assert again.state.resources[0].inputs["event_filters"][0]["value"] == CHANNEL_A
    destroy(again.state)


def test_destroy_and_refresh_use_the_config_stored_by_the_last_up(emulator, bird_config):
    """pkg/engine/destroy.go and refresh.go do not run the program: the provider is configured from its
    inputs in the state (deployment.go EnsureProvider), so a rotated key needs --run-program (or an up)."""
    config = dict(bird_config, **{"bird:accessKey": secret(emulator.access_key)})
    made = run_program(lambda: VoiceChannel("voice", phone_number_id=number(), name="rotating"), config=config,
                       skip_preview=True)
    assert emulator.access_key not in made.state.to_json()  # the stored config keeps the key secret
    old_key = emulator.access_key
    emulator.access_key = "rotated-key-2"
    try:
        rotated = dict(config, **{"bird:accessKey": secret("rotated-key-2")})
        with pytest.raises(ProgramError) as caught:
            refresh(made.state, config=rotated)
        assert "401" in str(caught.value) or "access key" in str(caught.value).lower()
        with pytest.raises(ProgramError) as caught:
            destroy(made.state, config=rotated)
        assert [r.id for r in caught.value.state.resources] == [made.resource("voice").id]  # nothing left the state
        refreshed = refresh(made.state, config=rotated, run_program=True)  # --run-program: today's config
        assert destroy(refreshed, config=rotated, run_program=True).resources == []
    finally:
        emulator.access_key = old_key


def test_provider_errors_read_as_the_providers_message(emulator, bird_config):
    """One clear error: what failed and what the provider raised; the host's traceback only on `.traceback`."""
    phone = number()
    taken = run_program(lambda: VoiceChannel("first", phone_number_id=phone), config=bird_config, skip_preview=True)
    with pytest.raises(ProgramError) as caught:
        run_program(lambda: VoiceChannel("second", phone_number_id=phone), config=bird_config, skip_preview=True)
    message = str(caught.value)
    assert message.startswith(f"create of resource 'second' ({VOICE}) failed: ConflictError: phone number {phone}")
    assert "Traceback" not in message and 'File "' not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "Traceback (most recent call last)" in (caught.value.traceback or "")
    destroy(taken.state)


def test_provider_calls_have_no_deadline():
    """provider_plugin.go sets no deadline; a create may wait for provisioning as long as it needs."""
    assert DEFAULT_CALL_TIMEOUT is None and ProviderHost().timeout is None


def test_refresh_survives_an_adopted_channel_renamed_in_bird(emulator, bird_config):
    """step.go RefreshStep.Apply runs Diff after the Read (refreshed state as the olds, old inputs as the news):
    a channel adopted with adopt_id and renamed in Bird's dashboard must still refresh."""
    phone = number()
    made = run_program(lambda: VoiceChannel("made", phone_number_id=phone, name="dashboard"), config=bird_config)
    existing = made.resource("made").id
    adopted = run_program(lambda: VoiceChannel("voice", phone_number_id=phone, name="dashboard", adopt_id=existing),
                          config=bird_config)
    emulator.backend._find_connector(emulator.workspace_id, existing).name = "renamed in the dashboard"
    program = lambda: VoiceChannel("voice", phone_number_id=phone, name="dashboard", adopt_id=existing)  # noqa: E731
    try:
        refreshed = refresh(adopted.state)
        assert refreshed.resources[0].id == existing
        assert refresh(refreshed).resources[0].id == existing  # and again
        # The up after it (its preview first) stops at check, before any step, naming adopt_id and the change.
        with pytest.raises(ProgramError) as caught:
            run_program(program, config=bird_config, state=refreshed)
        assert caught.value.failures[0][0] == "adopt_id"
        assert "name 'renamed in the dashboard' -> 'dashboard'" in caught.value.failures[0][1]
        assert emulator.backend._find_connector(emulator.workspace_id, existing).name == "renamed in the dashboard"
    finally:
        destroy(adopted.state)


def test_each_command_has_a_fresh_host_so_a_leftover_is_named(emulator, bird_config):
    """The engine starts its plugins per operation: a second `up` from an empty state (an interrupted first
    run) meets a provider that has never seen the first subscription, and its look-up names the leftover."""
    first = run_program(lambda: hooks(1, CHANNEL_B), config=bird_config)
    leftover = first.resource("hook0").id
    with pytest.raises(ProgramError, match=leftover):
        run_program(lambda: hooks(1, CHANNEL_B), config=bird_config)
    destroy(first.state)
