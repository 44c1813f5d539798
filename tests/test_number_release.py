"""A phone number between two connectors: Bird releasing it after a DELETE (the emulator's ``release_seconds``),
a replacement that waits for it, and a 409 that names the sibling resource holding it.

The replacement of an SmsChannel deletes first (Diff says delete_before_replace), then creates on the same number
(step.go DeleteBeforeReplace: DeleteStep then CreateStep, on the same provider). Siblings of one program are
created in parallel by one provider process (step_executor.go, --parallel).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import subprocess
import sys
import time
import uuid
from typing import Any, Iterator, Optional

import pytest

from engine_double import ProgramError, destroy, run_program
from engine_double.host import ProviderError, ProviderHost
from engine_double.runner import registered_inputs
from helpers import FakeClock
from pulumi_bird import SmsChannel
from pulumi_bird.api import connectors as api_connectors
from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.errors import ConflictError
from pulumi_bird.api.models import CreateConnectorRequest
from pulumi_bird.api.pacing import GetBudget, GetPacer
from pulumi_bird.api.readiness import POLL_MIN_INTERVAL
from pulumi_bird.emulator import DEFAULT_WORKSPACE_ID, BirdEmulator
from pulumi_bird.emulator.backend import Conflict, NotFound

SMS = "sms-messagebird:1"


class CountingBudget(GetBudget):
    """The GET budget, counting the turns taken from it (every GET, and every retry of a number's release)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock, sleep=clock.sleep)
        self.acquired = 0
        self._counting: dict[str, GetPacer] = {}

    def for_workspace(self, workspace_id: str) -> GetPacer:
        budget = self

        class Counting(GetPacer):
            def acquire(self, priority: Optional[float] = None, *, timeout: Optional[float] = None) -> Any:
                budget.acquired += 1
                return super().acquire(priority) if timeout is None else super().acquire(priority, timeout=timeout)

        if workspace_id not in self._counting:
            self._counting[workspace_id] = Counting(self.per_second, window=self.window, clock=self.clock,
                                                    sleep=self.sleep)
        return self._counting[workspace_id]


def request_for(number: str, name: str = "sms") -> CreateConnectorRequest:
    return CreateConnectorRequest.model_validate({
        "name": name, "connectorTemplateRef": SMS,
        "arguments": {"phoneNumberId": number, "channelMessageType": "transactional"}})


def posts(emu: BirdEmulator) -> list[int]:
    return [r.status for r in emu.requests if r.method == "POST"]


# --- the emulator holds a deleted connector's number ---------------------------------------------------------------


def test_the_emulator_holds_a_deleted_connectors_number_for_release_seconds() -> None:
    clock = FakeClock(1000.0)  # one clock for the emulator's release and the client's waits
    with BirdEmulator(clock=clock, release_seconds=3) as emu:
        backend, ws, number = emu.backend, emu.workspace_id, str(uuid.uuid4())
        body = {"name": "a", "connectorTemplateRef": SMS,
                "arguments": {"phoneNumberId": number, "channelMessageType": "transactional"}}
        first = backend.create_connector(ws, body)
        backend.delete_connector(ws, first["id"])
        voice = {"name": "v", "connectorTemplateRef": "voice-messagebird:1", "arguments": {"phoneNumberId": number}}
        backend.create_connector(ws, voice)  # another template's connector is not held back
        clock.now += 2.9
        with pytest.raises(Conflict):
            backend.create_connector(ws, body)
        clock.now += 0.1
        assert backend.create_connector(ws, body)["arguments"]["phoneNumberId"] == number
        emu.release_seconds = 0
        assert emu.release_seconds == 0.0
        with pytest.raises(ValueError, match="release_seconds"):
            emu.release_seconds = -1


def test_the_command_line_sets_release_seconds() -> None:
    from helpers import STARTUP_SECONDS, emulator_process

    with emulator_process(0.0, "--release-seconds", "30") as running:
        base = f"{running.url}/workspaces/{DEFAULT_WORKSPACE_ID}/connectors"
        body = {"name": "a", "connectorTemplateRef": SMS,
                "arguments": {"phoneNumberId": str(uuid.uuid4()), "channelMessageType": "transactional"}}
        created = running.session.post(base, json=body)
        assert created.status_code == 201
        assert running.session.delete(f"{base}/{created.json()['id']}").status_code == 204
        assert running.session.post(base, json=body).status_code == 409
    usage = subprocess.run([sys.executable, "-m", "pulumi_bird.emulator", "--help"], capture_output=True, text=True,
                           timeout=STARTUP_SECONDS)
    assert "--release-seconds" in usage.stdout


# --- the create waits for a number this process released -----------------------------------------------------------


def test_a_deleted_connector_is_deprovisioned_for_release_seconds_before_it_is_404() -> None:
    """Bird's ChannelStatus has stage `deprovisioning`: for release_seconds after a DELETE, a GET still finds the
    connector (no channel) and its status says it is going; lists leave it out; then it is 404."""
    clock = FakeClock(1000.0)
    with BirdEmulator(clock=clock, release_seconds=3, provision_seconds=0) as emu:
        backend, ws = emu.backend, emu.workspace_id
        made = backend.create_connector(ws, {"name": "v", "connectorTemplateRef": "voice-messagebird:1",
                                             "arguments": {"phoneNumberId": str(uuid.uuid4())}})
        backend.delete_connector(ws, made["id"])
        assert backend.get_connector(ws, made["id"])["channel"] is None
        assert backend.get_connector_status(ws, made["id"])["channel"]["stage"] == "deprovisioning"
        assert backend.list_all_connectors(ws) == []
        with pytest.raises(NotFound):
            backend.delete_connector(ws, made["id"])
        clock.now += 3
        with pytest.raises(NotFound):
            backend.get_connector(ws, made["id"])


def test_a_refresh_of_a_connector_deleted_in_bird_while_it_deprovisions_drops_it(emulator_host_on) -> None:
    """Through the SDK's provider host: a channel deleted out of band and still deprovisioning is gone for a
    refresh (an empty id), not an object to keep in the state."""
    emu, host, reg = emulator_host_on
    made = host.create(reg.urn, host.check(reg.urn, reg.inputs).inputs, timeout=120)
    emu.backend.delete_connector(emu.workspace_id, made.id)
    assert emu.backend.get_connector_status(emu.workspace_id, made.id)["channel"]["stage"] == "deprovisioning"
    assert host.read(reg.urn, made.id, made.outs, made.outs).id == ""
    host.delete(reg.urn, made.id, made.outs)  # deleting what Bird already deletes is done


@pytest.fixture
def emulator_host_on():
    """An emulator that deprovisions deleted connectors for 60 s, a provider host on it, and a VoiceChannel's
    registration."""
    from pulumi_bird import VoiceChannel

    with BirdEmulator(release_seconds=60, provision_seconds=0) as emu:
        config = {"bird:accessKey": emu.access_key, "bird:apiUrl": emu.url, "bird:workspaceId": emu.workspace_id}
        with ProviderHost(config=config) as host:
            number = emu.add_number("+3197010520099", ("voice",))["id"]
            (reg,) = registered_inputs(lambda: VoiceChannel("going", phone_number_id=number)).values()
            yield emu, host, reg


@pytest.fixture
def held():
    """An emulator on a fake clock holding deleted numbers for 3 s, a client on that clock, and a number whose
    connector this process has just deleted."""
    clock = FakeClock(1000.0)  # one clock for the emulator's release and the client's waits
    with BirdEmulator(clock=clock, release_seconds=3, provision_seconds=0) as emu:
        budget = CountingBudget(clock)
        with BirdClient(emu.access_key, emu.url, clock=clock, sleep=clock.sleep, get_budget=budget) as client:
            number = str(uuid.uuid4())
            old = client.create_connector(emu.workspace_id, request_for(number))
            client.delete_connector(emu.workspace_id, old.id)
            api_connectors.note_number_released(emu.workspace_id, SMS, number, old.id)
            emu.clear_requests()
            yield emu, client, clock, budget, number, old.id


def test_a_409_on_a_number_this_process_released_is_retried_until_bird_lets_it_go(held) -> None:
    emu, client, clock, budget, number, _ = held
    started = clock.now
    created = api_connectors.create_connector_resolving(client, emu.workspace_id, request_for(number),
                                                        guard_existing=False, release_timeout=600)
    assert created.arguments == {"phoneNumberId": number, "channelMessageType": "transactional"}
    assert 3.0 <= clock.now - started <= 3.0 + 4.5  # seen free at most one retry interval late
    statuses = posts(emu)
    assert statuses[-1] == 201 and set(statuses[:-1]) == {409} and 2 <= len(statuses) <= 8
    retries = len(statuses) - 1
    assert budget.acquired >= 2 * retries  # each retry took a turn in the GET budget (and so did its look-up)


def test_giving_up_names_the_number_and_says_the_old_channel_is_gone(held) -> None:
    emu, client, clock, _, number, _ = held
    clock.now += 5  # the first release is over
    emu.release_seconds = 100
    again = client.create_connector(emu.workspace_id, request_for(number, "again"))  # reheld for 100 s
    client.delete_connector(emu.workspace_id, again.id)
    api_connectors.note_number_released(emu.workspace_id, SMS, number, again.id)
    started = clock.now
    with pytest.raises(api_connectors.NumberNotReleasedError) as caught:
        api_connectors.create_connector_resolving(client, emu.workspace_id, request_for(number),
                                                  guard_existing=False, release_timeout=5)
    assert 5.0 <= clock.now - started < 5.0 + 1.0  # bounded by the timeout, not by Bird
    message = str(caught.value)
    assert f"phone number {number} is still taken on Bird: this deployment deleted its connector" in message
    assert "The old channel is gone and no new one was created" in message and "raise ready_timeout" in message
    assert again.id in message and "adopt_id" not in message


def test_a_409_from_a_connector_this_process_did_not_delete_is_not_waited_for(held) -> None:
    emu, client, clock, _, number, _ = held
    clock.now += 10  # released
    foreign = emu.backend.create_connector(emu.workspace_id, request_for(number, "someone-else").to_body())
    started = clock.now
    with pytest.raises(ConflictError) as caught:
        api_connectors.create_connector_resolving(client, emu.workspace_id, request_for(number),
                                                  guard_existing=False, release_timeout=600)
    assert not isinstance(caught.value, api_connectors.NumberNotReleasedError)
    assert f"adopt_id={foreign['id']!r}" in str(caught.value)
    assert posts(emu) == [409] and clock.now == started


# --- through the provider host: an SmsChannel replacement while Bird holds the number ---------------------------


def replace_channel(host, inputs_of, number: str, ready_timeout: float):
    """up, then an up that changes channel_message_type: Diff says delete-before-replace, then Delete, Create."""
    first = inputs_of(lambda: SmsChannel("sms", phone_number_id=number, channel_message_type="transactional",
                                         ready_timeout=ready_timeout))
    inputs = host.check(first.urn, first.inputs).inputs
    created = host.create(first.urn, inputs)
    second = inputs_of(lambda: SmsChannel("sms", phone_number_id=number, channel_message_type="2fa",
                                          ready_timeout=ready_timeout))
    news = host.check(second.urn, second.inputs, olds=inputs).inputs
    diff = host.diff(second.urn, created.id, created.outs, news, old_inputs=inputs)
    assert diff.replaces == ["channel_message_type"] and diff.delete_before_replace
    host.delete(first.urn, created.id, created.outs, old_inputs=inputs)  # DeleteStep (the old one goes first)
    return created, lambda: host.create(second.urn, news)  # CreateStep of the replacement


@contextlib.contextmanager
def releasing_after(emulator: BirdEmulator, seconds: float) -> Iterator[None]:
    """Bird keeps a deleted connector's number for ``seconds`` meanwhile; afterwards every number is free."""
    emulator.release_seconds = seconds
    try:
        yield
    finally:
        emulator.release_seconds = 0
        emulator.backend.clear_overrides()


def test_an_sms_channel_replacement_succeeds_while_bird_holds_the_number_for_3_seconds(
        emulator, emulator_host, inputs_of) -> None:
    number = str(uuid.uuid4())
    with releasing_after(emulator, 3):
        old, create_new = replace_channel(emulator_host, inputs_of, number, ready_timeout=60)
        started = time.monotonic()
        new = create_new()
        waited = time.monotonic() - started
    assert new.id != old.id and new.outs["channel_message_type"] == "2fa"
    assert [c["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id)
            if c["arguments"]["phoneNumberId"] == number] == [new.id]
    # It waited for Bird: the 3 s hold is a delay the emulator serves, so the wait cannot be shorter (a lower
    # bound, which a busy machine only makes easier to meet). Boundedly: a count, not a time. Each refused POST
    # waits at least POLL_MIN_INTERVAL before the next, and all of them fall within the hold.
    assert waited > 2.0
    posts = [r.status for r in emulator.requests if r.method == "POST"]
    refused = posts.count(409)
    assert posts == [201] + [409] * refused + [201] and 1 <= refused <= 3 / POLL_MIN_INTERVAL + 1, posts


def test_a_replacement_that_gives_up_fails_naming_the_number_and_the_gone_channel(
        emulator, emulator_host, inputs_of) -> None:
    number = str(uuid.uuid4())
    with releasing_after(emulator, 60), pytest.raises(ProviderError) as caught:
        old, create_new = replace_channel(emulator_host, inputs_of, number, ready_timeout=1)
        create_new()
    summary = caught.value.summary
    assert f"phone number {number} is still taken on Bird: this deployment deleted its connector" in summary
    assert old.id in summary
    assert "The old channel is gone and no new one was created" in summary


# --- two channels of one program on one number name each other --------------------------------------------------


def two_on_one_number(number: str):
    def program() -> None:
        SmsChannel("first", phone_number_id=number, channel_message_type="transactional")
        SmsChannel("second", phone_number_id=number, channel_message_type="2fa")

    return program


def test_two_channels_of_one_program_on_one_number_name_each_other_without_adopt_id(emulator, emulator_host) -> None:
    for _ in range(3):  # created in parallel, as the engine does: either may win
        regs = registered_inputs(two_on_one_number(str(uuid.uuid4())))
        checked = {name: emulator_host.check(reg.urn, reg.inputs).inputs for name, reg in regs.items()}
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = {name: pool.submit(emulator_host.create, regs[name].urn, checked[name]) for name in regs}
        failed = {name: f.exception() for name, f in futures.items() if f.exception() is not None}
        assert len(failed) == 1, failed
        (loser, error), = failed.items()
        winner = "second" if loser == "first" else "first"
        assert isinstance(error, ProviderError)
        assert f"is already used by resource '{winner}' of this stack" in error.summary
        assert futures[winner].result().id in error.summary and "adopt_id" not in error.summary
        emulator_host.delete(regs[winner].urn, futures[winner].result().id, futures[winner].result().outs)


def test_run_program_with_two_channels_on_one_number_fails_naming_the_sibling(emulator, bird_config) -> None:
    with pytest.raises(ProgramError) as caught:
        run_program(two_on_one_number(str(uuid.uuid4())), config=bird_config)
    assert "is already used by resource '" in str(caught.value) and "adopt_id" not in str(caught.value)
    if caught.value.state is not None:  # the winner was created: take it down
        destroy(caught.value.state, config=bird_config)
