"""The access key and the signing keys appear nowhere: not in state, not in the pickled providers, not in
the host's logs (at debug level), not in any error, whatever goes wrong."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Optional

import pytest

from engine_double import ProgramError, ProviderHost, destroy, refresh, run_program, secret
from pulumi_bird import Connector, SmsChannel, VoiceChannel, WebhookSubscription, event_filter
from pulumi_bird.testing.fixtures import start_emulator

ACCESS_KEY = "sk-live-secret-scan-4f8e2a7d9c"
SIGNING_KEY = "whsec-secret-scan-b71c3e05-4f9a2d7c61e8b0"
ROTATED_KEY = "whsec-secret-scan-rotated-99-3c7e1a5f9b2d"
TOKEN = "wa-token-secret-scan-5d2f"
SECRETS = (ACCESS_KEY, SIGNING_KEY, ROTATED_KEY, TOKEN)


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def error_text(exc: BaseException) -> str:
    """The error, its causes and contexts, as a user or a log would see them (the runner's ProgramError
    also carries the in-memory state for clean-up; that is data, not a message, and is left out)."""
    parts = []
    while exc is not None:
        parts += [str(exc), repr(exc)]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


def program(number: str, signing_key: str, fail_number: Optional[str] = None):
    def run() -> None:
        sms = SmsChannel("sms", phone_number_id=number, channel_message_type="2fa")
        VoiceChannel("voice", phone_number_id=fail_number or str(uuid.uuid5(uuid.NAMESPACE_OID, number)))
        Connector("wa", connector_template_ref="whatsapp:1", security_arguments={"oauth": {"token": TOKEN}})
        WebhookSubscription("hook", service="channels", event="channel.updated", url="https://hooks.example.com/x",
                            signing_key=signing_key, event_filters=[event_filter("channelId", sms.channel_id)])
    return run


@pytest.fixture
def emulator():
    # Channels provision for long enough that the first readiness poll sees "provisioning" and logs it.
    with start_emulator(access_key=ACCESS_KEY, provision_seconds=1.5) as emu:
        yield emu


def test_no_secret_in_state_providers_logs_or_errors(emulator):
    # Set with --secret: the state records the provider's config as the stack holds it (plain stays plain).
    config = {"bird:accessKey": secret(ACCESS_KEY), "bird:apiUrl": emulator.url,
              "bird:workspaceId": emulator.workspace_id, "bird:organizationId": emulator.organization_id}
    errors: list[str] = []
    number = str(uuid.uuid4())
    with ProviderHost(config=config, env={"PULUMI_BIRD_LOG": "debug"}) as host:
        result = run_program(program(number, SIGNING_KEY), host=host)
        state = result.state
        # A rotated signing key (PATCH), a refresh, and a series of failures.
        state = run_program(program(number, ROTATED_KEY), host=host, state=state).state
        state = refresh(state, host=host)
        failing = str(uuid.uuid4())
        emulator.faults.fail_channel(failing, "carrier refused the number")
        emulator.faults.add("GET", r"/webhook-subscriptions/", 500, times=None)
        for attempt, expected in (
            (lambda: run_program(program(number, ROTATED_KEY, fail_number=failing), host=host, state=state),
             r"create of resource 'voice' .* failed: .*carrier refused the number"),
            (lambda: run_program(program(number, SIGNING_KEY), host=host),  # the number is taken: 409
             r"create of resource '(sms|voice)' .* failed: .*-> 409\]"),
            (lambda: refresh(state, host=host),  # 500s on the subscription
             r"refresh of resource 'hook' .* failed: ServerError: .*-> 500\]"),
        ):
            with pytest.raises(ProgramError, match=expected) as caught:
                attempt()
            errors.append(error_text(caught.value))
        emulator.faults.clear()
        stderr = host.stderr_text()
        destroy(state, host=host)

    assert "carrier refused the number" in errors[0] and "409" in errors[1] and "500" in errors[2]
    assert "GET " in stderr and "next poll in" in stderr  # debug logging was on
    for i, text in enumerate(errors + [stderr]):
        found = leaks(text)
        assert found == [], (i, [text[max(0, text.find(f) - 300):text.find(f) + 50] for f in found])

    state_json = state.to_json()
    assert leaks(state_json) == []
    hook = state.find("hook")
    assert "signing_key" in hook.secret_outputs and "signing_key" in hook.secret_inputs
    assert "security_arguments" in state.find("wa").secret_outputs
    for resource in json.loads(state_json)["resources"]:
        blob = resource["inputs"].get("__provider") or resource["outputs"].get("__provider")
        if isinstance(blob, dict):  # sealed as a secret
            blob = next(v for v in blob.values() if isinstance(v, str) and len(v) > 20)
        decoded = base64.b64decode(blob).decode("latin-1")
        assert leaks(decoded) == [] and len(decoded) < 2048


def test_unreachable_api_and_bad_key_errors_hold_no_secret(inputs_of=None):
    reg_factory = lambda: SmsChannel("s", phone_number_id=str(uuid.uuid4()), channel_message_type="2fa")  # noqa: E731
    for api_url in ("http://127.0.0.1:9",):
        config = {"bird:accessKey": ACCESS_KEY, "bird:apiUrl": api_url, "bird:workspaceId": str(uuid.uuid4())}
        with pytest.raises(ProgramError, match=r"create of resource 's' .* failed: .*Bird API at http://127\.0\.0\.1:9 could not connect"
                           ) as caught:
            run_program(reg_factory, config=config)
        assert leaks(error_text(caught.value)) == []
    with start_emulator(access_key="the-right-key-123") as emu:
        config = {"bird:accessKey": ACCESS_KEY, "bird:apiUrl": emu.url, "bird:workspaceId": emu.workspace_id}
        with pytest.raises(ProgramError, match=r"create of resource 's' .* failed: .*AuthenticationError: Bird refused the access key.* -> 401\]"
                           ) as caught:
            run_program(reg_factory, config=config)
        assert leaks(error_text(caught.value)) == []
