"""Data-source style lookups: get_connector / list_connectors and their _output forms, in real programs."""

from __future__ import annotations

import uuid

import pulumi
import pytest
import responses
from pulumi.runtime.rpc import UNKNOWN

from engine_double import ProgramError, destroy, run_program
from pulumi_bird import SmsChannel, get_connector, get_connector_output, list_connectors, list_connectors_output
from pulumi_bird.api.errors import NotFoundError

WS = "11111111-2222-4333-8444-555555555555"


@pytest.fixture(scope="module")
def host(emulator_host):
    return emulator_host


def test_lookups_read_what_another_program_made(emulator, bird_config, host):
    numbers = [str(uuid.uuid4()) for _ in range(3)]
    made = run_program(lambda: [SmsChannel(f"s{i}", phone_number_id=n, channel_message_type="2fa")
                                for i, n in enumerate(numbers)], host=host)
    first = made.state.find("s0")

    def program() -> None:
        one = get_connector(first.id)
        pulumi.export("plain", one.channel_id)
        pulumi.export("status", one.channel_status)
        pulumi.export("viaOutput", get_connector_output(pulumi.Output.from_input(first.id)).apply(lambda c: c.phone_number))
        pulumi.export("sms", list_connectors_output(template_ref="sms-messagebird:1").apply(
            lambda cs: sorted(c.number_id for c in cs)))
        pulumi.export("voice", len(list_connectors(template_ref="voice-messagebird:1")))

    result = run_program(program, config=bird_config, host=host)
    assert result.outputs["plain"] == first.outputs["channel_id"] and result.outputs["status"] == "ok"
    assert result.outputs["viaOutput"] == first.outputs["phone_number"]
    assert set(numbers) <= set(result.outputs["sms"])
    assert result.outputs["voice"] == 0
    destroy(made.state, host=host)


def test_output_forms_make_no_call_in_preview(emulator, bird_config, host):
    emulator.clear_requests()

    def program() -> None:
        pulumi.export("x", get_connector_output(str(uuid.uuid4())))
        pulumi.export("y", list_connectors_output())

    result = run_program(program, config=bird_config, host=host, preview=True)
    assert emulator.requests == []
    assert result.outputs["x"] == UNKNOWN and result.outputs["y"] == UNKNOWN  # known only at `pulumi up`


def test_get_connector_of_an_unknown_id_raises_not_found(emulator, bird_config, host):
    def program() -> None:
        get_connector(str(uuid.uuid4()))

    with pytest.raises(ProgramError, match=r"the program raised NotFoundError: not found on Bird \[GET .*/connectors/[0-9a-f-]{36} -> 404\]") as caught:
        run_program(program, config=bird_config, host=host)
    assert isinstance(caught.value.__cause__ or caught.value.__context__, NotFoundError)


@responses.activate
def test_list_connectors_follows_pages(monkeypatch):
    url = f"https://api.bird.test/workspaces/{WS}/connectors"
    page = lambda ids, token=None: {"results": [{"id": i, "name": i, "createdAt": "2026-01-01T00:00:00Z"} for i in ids],  # noqa: E731
                                    **({"nextPageToken": token} if token else {})}
    responses.get(url, json=page([f"c{i}" for i in range(100)], "p2"),
                  match=[responses.matchers.query_param_matcher({"limit": "100"})])
    responses.get(url, json=page(["c100", "c101"]),
                  match=[responses.matchers.query_param_matcher({"limit": "100", "pageToken": "p2"})])
    monkeypatch.setenv("BIRD_ACCESS_KEY", "k-lookup")
    monkeypatch.setenv("BIRD_API_URL", "https://api.bird.test")
    monkeypatch.setenv("BIRD_WORKSPACE_ID", WS)
    found = []
    run_program(lambda: found.extend(list_connectors()), config={}, preview=True)  # `up` would run it twice
    assert [c.connector_id for c in found] == [f"c{i}" for i in range(102)]
