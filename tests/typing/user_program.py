"""A user's program and tests, written against every public name of pulumi_bird.

It is never run: `make lint` and tests/test_typing.py give it to ``mypy --strict`` and to pyright, which
must find no error. It shows what an IDE accepts: nested ``pulumi.Input`` values (an ``Output`` inside a
mapping or a list), optional secrets, and typed outputs.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi import automation as auto

import pulumi_bird
from pulumi_bird import (
    REQUEST_ID_HEADER,
    BirdError,
    ChannelMessageType,
    Connector,
    ConnectorInfo,
    EventFilterArgs,
    FilterKey,
    PhoneNumberInfo,
    ReplayError,
    ReplayGuard,
    ReplayGuardFull,
    SignatureError,
    SmsChannel,
    VoiceChannel,
    WebhookService,
    WebhookStatus,
    WebhookSubscription,
    event_filter,
    get_connector,
    get_connector_output,
    get_phone_number,
    get_phone_number_output,
    list_connectors,
    list_connectors_output,
    verify_signature,
)
from pulumi_bird.api.errors import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ReadinessError,
    ServerError,
)
from pulumi_bird.api.signatures import compute_signature, is_valid_signature
from pulumi_bird.emulator import (
    BIRD_RATE_LIMITS,
    DEFAULT_ACCESS_KEY,
    DEFAULT_NUMBERS,
    DEFAULT_ORGANIZATION_ID,
    DEFAULT_WORKSPACE_ID,
    MAX_BODY_BYTES,
    AnswerHook,
    BirdBackend,
    BirdEmulator,
    FaultRule,
    Faults,
    RateLimits,
    RecordedRequest,
    seeded_number,
    seeded_workspace_id,
)
from pulumi_bird.testing import (
    ENGINE_ENV,
    BirdStack,
    bird_stack,
    emulator_config,
    emulator_contents,
    pulumi_command,
    start_emulator,
)


def program() -> None:
    """The resources and lookups, with Inputs nested as generated Pulumi SDKs allow."""
    config = pulumi.Config()
    kind: ChannelMessageType = "transactional"
    sms = SmsChannel(
        "sms",
        phone_number_id=config.require("smsPhoneNumberId"),
        channel_message_type=kind,
        use_case_id=config.get("smsUseCaseId"),
        conversational=True,
        name="sms",
        workspace_id=config.get("workspaceId"),
        ready_timeout=900,
        opts=pulumi.ResourceOptions(protect=False),
    )
    voice = VoiceChannel("voice", phone_number_id=sms.number_id.apply(lambda n: n or ""), ready_timeout=60.5)

    token: pulumi.Output[str] = config.require_secret("accessToken")
    whatsapp = Connector(
        "whatsapp",
        connector_template_ref="whatsapp:1",
        arguments={"wabaId": config.require("wabaId"), "channelId": sms.channel_id},
        security_arguments={"oauth2": {"accessToken": token}},
        channel_conversational_status_enabled=False,
        invitation_token=config.get_secret("invitationToken"),
        ready_timeout=600,
    )
    whole = Connector(
        "whole",
        connector_template_ref=whatsapp.connector_template_ref,
        allow_identical=True,
        adopt_id=config.get("adoptConnectorId"),
        arguments=token.apply(lambda t: {"token": t}),
        security_arguments=token.apply(lambda t: {"oauth2": {"accessToken": t}}),
    )

    status_key: FilterKey = "channelStatus"
    service: WebhookService = "channels"
    wanted: WebhookStatus = "active"
    filters: list[EventFilterArgs] = [
        event_filter("channelId", sms.channel_id),
        event_filter(status_key, "active"),
        {"key": "channelStatus", "value": "active"},
    ]
    signing_key: Optional[pulumi.Output[str]] = config.get_secret("signingKey")
    hook = WebhookSubscription(
        "updates",
        service=service,
        event="channel.updated",
        url="https://hooks.example.com/bird",
        signing_key=signing_key,
        event_filters=filters,
        template=None,
        desired_status=wanted,
        organization_id=config.get("organizationId"),
        allow_identical=False,
        allow_unlisted_event=False,
        adopt_id=None,
        workspace_id=sms.workspace_id,
    )
    WebhookSubscription(
        "inbound",
        service="channels",
        event="sms.inbound",
        url=pulumi.Output.concat("https://hooks.example.com/", voice.channel_id),
        event_filters=pulumi.Output.from_input([event_filter("channelId", voice.channel_id)]),
    )

    adopted: SmsChannel = SmsChannel.get("adopted", "a4ed3b0e-56c8-4be6-8d10-1a6d3a2b7c55")
    read_voice: VoiceChannel = VoiceChannel.get("read-voice", voice.id)
    read_connector: Connector = Connector.get("read-connector", whole.id, opts=pulumi.ResourceOptions())
    read_hook: WebhookSubscription = WebhookSubscription.get("read-hook", hook.id)

    info: ConnectorInfo = get_connector("a4ed3b0e-56c8-4be6-8d10-1a6d3a2b7c55", with_status=False)
    every: list[ConnectorInfo] = list_connectors(template_ref="sms-messagebird:1")
    live: pulumi.Output[ConnectorInfo] = get_connector_output(sms.connector_id, workspace_id=sms.workspace_id)
    listed: pulumi.Output[list[ConnectorInfo]] = list_connectors_output(template_ref=whole.connector_template_ref)
    number: PhoneNumberInfo = get_phone_number("+3197010520000")
    number_id: str = number.id
    capabilities: list[str] = number.capabilities
    number_later: pulumi.Output[PhoneNumberInfo] = get_phone_number_output(sms.phone_number_id, workspace_id=None)
    seeded: tuple[str, str, tuple[str, ...]] = DEFAULT_NUMBERS[0]

    channel_id: pulumi.Output[str] = sms.channel_id
    status: pulumi.Output[Optional[str]] = sms.channel_status
    hook_status: pulumi.Output[str] = hook.status
    pulumi.export("smsChannelId", channel_id)
    pulumi.export("status", status)
    pulumi.export("hookStatus", hook_status)
    pulumi.export("adopted", adopted.phone_number)
    pulumi.export("readVoice", read_voice.connector_id)
    pulumi.export("readConnector", read_connector.arguments)
    pulumi.export("readHook", read_hook.event_filters)
    pulumi.export("info", info.to_dict())
    pulumi.export("count", len(every))
    pulumi.export("live", live.apply(lambda c: c.channel_status))
    pulumi.export("listed", listed.apply(len))
    pulumi.export("numberId", number_id)
    pulumi.export("capabilities", capabilities)
    pulumi.export("numberLater", number_later.apply(lambda n: n.to_dict()))
    pulumi.export("seeded", seeded[0])
    pulumi.export("version", pulumi_bird.__version__)


def receive(headers: dict[str, str], body: bytes) -> bool:
    """A webhook receiver's check."""
    key = "a signing key of at least 32 characters"
    url = "https://hooks.example.com/bird"
    try:
        verify_signature(key, headers=headers, url=url, body=body, tolerance=3600.0)
    except SignatureError as exc:
        return not str(exc)
    signature: str = compute_signature(key, headers.get("messagebird-request-timestamp", ""), url, body)
    delivery: str = headers.get(REQUEST_ID_HEADER, "")
    return bool(signature and delivery is not None) and is_valid_signature(key, headers=headers, url=url, body=body)


def receive_once(guard: ReplayGuard, headers: dict[str, str], body: bytes) -> int:
    """A receiver that handles each signed delivery once: the HTTP status it answers."""
    try:
        guard.verify(b"a signing key as bytes, 32 bytes long", headers=headers,
                     url="https://hooks.example.com/bird", body=body)
    except ReplayError:
        return 204
    except ReplayGuardFull:
        guard.forget(headers)
        return 503
    except SignatureError:
        return 401
    return 204 if len(guard) <= guard.max_deliveries else 500


def handle(error: BirdError) -> str:
    """The error tree."""
    if isinstance(error, (AuthenticationError, NotFoundError, ConflictError, InvalidRequestError)):
        return f"{error.status} {error.code}"
    if isinstance(error, (RateLimitError, ServerError, APIConnectionError, ReadinessError)):
        return error.url
    return str(error)


def my_tests(project_dir: str) -> None:
    """What a user's own tests call: the emulator, and a stack of their program on it (pulumi_bird.testing)."""
    with start_emulator(provision_seconds=0.1) as emu:
        assert isinstance(emu, BirdEmulator)
        assert emu.access_key == DEFAULT_ACCESS_KEY and emu.workspace_id == DEFAULT_WORKSPACE_ID
        assert emu.organization_id == DEFAULT_ORGANIZATION_ID
        requests: list[RecordedRequest] = emu.requests
        assert requests == []
        emu.rate_limits = RateLimits(get=BIRD_RATE_LIMITS.get, post=None)
        hooks: list[AnswerHook] = emu.answer_hooks
        faults: Faults = emu.faults
        rule: FaultRule = faults.add("POST", r"/connectors$", 502, commit=True, retry_after=1.0)
        faults.fail_channel("6a3f2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c", "carrier refused the number")
        backend: BirdBackend = emu.backend
        assert hooks == [] and rule.remaining == 1 and backend.provision_seconds > 0 and MAX_BODY_BYTES
    # A fleet of workspaces (examples/fleet): each with its own numbers and rate budget.
    with start_emulator(workspaces=3, numbers_per_workspace=2) as fleet:
        workspaces: list[str] = fleet.workspace_ids
        assert workspaces[1] == seeded_workspace_id(2)
        numbers: list[dict[str, Any]] = fleet.backend.list_all_numbers(workspaces[1])
        assert numbers[0]["number"] == seeded_number(2, 0)

        # The program on the real engine: a stack on a temporary file:// backend, configured for the emulator.
        assert emulator_config(fleet)["bird:accessKey"].secret and ENGINE_ENV
        with bird_stack(project_dir, fleet, config={"smsPhoneNumberId": "+3197010520000"},
                        pulumi_command=pulumi_command()) as stack:
            assert isinstance(stack, BirdStack)
            planned: auto.PreviewResult = stack.preview()
            made: auto.UpResult = stack.up()
            refreshed: auto.RefreshResult = stack.refresh()
            assert planned.change_summary and made.outputs and refreshed.summary and stack.outputs()
            assert stack.objects()["connectors"] == emulator_contents(fleet)["connectors"]
            gone: auto.DestroyResult = stack.destroy()
            assert gone.summary.result == "succeeded"
        with bird_stack(program, fleet) as inline:
            inline.up()
