"""Phone numbers by their E.164 text: get_phone_number through Bird's Numbers API (both documented item shapes,
every page), the emulator's numbers inventory (Python and command line), and Bird's 422 for a channel on a
number without the capability."""

from __future__ import annotations

import subprocess
import sys

import pulumi
import pytest
import requests
import responses

from engine_double import ProgramError, destroy, run_program
from pulumi_bird import SmsChannel, VoiceChannel, get_phone_number, get_phone_number_output
from pulumi_bird.api import errors
from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.numbers import NUMBERS_PAGE_SIZE, find_phone_number, normalize_e164
from pulumi_bird.emulator import DEFAULT_NUMBERS, DEFAULT_WORKSPACE_ID, BirdEmulator

SMS_AND_VOICE, VOICE_ONLY, SMS_ONLY = (number for number, _, _ in DEFAULT_NUMBERS)
API = "https://api.bird.com"
WS = "11111111-2222-4333-8444-555555555555"
NUMBERS = f"{API}/workspaces/{WS}/numbers"


@pytest.fixture(scope="module")
def host(emulator_host):
    return emulator_host


def test_get_phone_number_returns_the_numbers_id_country_type_and_capabilities(emulator, bird_config, host):
    def program() -> None:
        found = get_phone_number("+3197010520000")
        pulumi.export("found", found.to_dict())
        pulumi.export("spaced", get_phone_number("+31 970 1052 0002").id)
        pulumi.export("viaOutput", get_phone_number_output(pulumi.Output.from_input(VOICE_ONLY)).apply(lambda n: n.id))

    out = run_program(program, config=bird_config, host=host).outputs
    assert out["found"] == {"id": "6a3f2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c", "number": "+3197010520000", "country": "NL",
                            "type": "mobile", "capabilities": ["sms", "voice"]}
    assert out["spaced"] == DEFAULT_NUMBERS[2][1]
    assert out["viaOutput"] == DEFAULT_NUMBERS[1][1]


def test_a_number_the_workspace_lacks_is_not_found_and_text_that_is_no_number_is_refused(emulator, bird_config, host):
    with pytest.raises(ProgramError, match=r"NotFoundError: workspace .* has no phone number \+3197099999999"):
        run_program(lambda: get_phone_number("+3197099999999"), config=bird_config, host=host)
    with pytest.raises(ProgramError, match=r"'call me' is not an E\.164 phone number"):
        run_program(lambda: get_phone_number("call me"), config=bird_config, host=host)


def test_a_channel_on_a_number_without_its_capability_fails_as_bird_fails_it(emulator, bird_config, host):
    by_text = {number: number_id for number, number_id, _ in DEFAULT_NUMBERS}

    def program() -> None:
        SmsChannel("sms", phone_number_id=get_phone_number(VOICE_ONLY).id, channel_message_type="transactional")

    with pytest.raises(ProgramError, match=r"422.*has no sms capability") as caught:
        run_program(program, config=bird_config, host=host)
    assert caught.value.state.resources == []
    # The error finishes the thought: what the number carries, the lookup that shows it, and the fix.
    message = str(caught.value)
    assert f"phone number {VOICE_ONLY} (phone_number_id {by_text[VOICE_ONLY]}) carries voice, not sms" in message
    assert f'get_phone_number("{VOICE_ONLY}").capabilities' in message and "choose a number with sms" in message
    ok = run_program(lambda: VoiceChannel("voice", phone_number_id=by_text[VOICE_ONLY]), config=bird_config, host=host)
    assert ok.state.find("voice").outputs["phone_number"] == VOICE_ONLY  # the connector reports the number's text
    destroy(ok.state, host=host)


@responses.activate
def test_lookup_reads_every_page_and_both_documented_item_shapes():
    long_code = {"id": "b5b0e7a2-0000-4000-8000-000000000001", "numberString": "+31970 1052 0000", "countryCode": "NL",
                 "type": "local", "capabilities": {"sms": {"inbound": True, "outbound": False},
                                                   "voice": {"inbound": False, "outbound": False}}}
    current = {"id": "b5b0e7a2-0000-4000-8000-000000000002", "number": "+14155550100", "country": "US",
               "type": "toll-free", "capabilities": ["voice", "sms"], "status": "active"}
    responses.get(NUMBERS, match=[responses.matchers.query_param_matcher({"limit": str(NUMBERS_PAGE_SIZE)})],
                  json={"results": [{"unrelated": True}, current], "nextPageToken": "p2"})
    responses.get(NUMBERS, match=[responses.matchers.query_param_matcher({"limit": str(NUMBERS_PAGE_SIZE),
                                                                         "pageToken": "p2"})],
                  json={"results": [long_code]})
    with BirdClient("k", API) as client:
        found = find_phone_number(client, WS, "+3197010520000")
        assert found is not None and found.id == long_code["id"]
        assert (found.country, found.type, found.capabilities) == ("NL", "local", ("sms",))
        us = find_phone_number(client, WS, "+1 (415) 555-0100")
        assert us is not None and us.capabilities == ("sms", "voice")
        assert find_phone_number(client, WS, "+3197010520009") is None
    assert len(responses.calls) == 2 + 1 + 2  # the first match stops early; a miss reads every page


@responses.activate
@pytest.mark.parametrize("body", [["not", "a", "page"], {"results": "+3197010520000"}, {"results": ["+3197010520000"]}])
def test_a_numbers_answer_that_is_not_a_page_of_objects_is_an_error_not_a_missing_number(body):
    """What Bird lists is evidence only when it is a page of number objects: anything else fails as every other
    listing does, rather than reading as 'the workspace has no such number'."""
    responses.get(NUMBERS, json=body)
    with BirdClient("k", API) as client, pytest.raises(errors.UnexpectedResponseError, match="not a Page"):
        find_phone_number(client, WS, "+3197010520000")


def test_normalize_e164():
    assert normalize_e164(" +31 970-1052.0000 ") == "+3197010520000"
    assert normalize_e164("0031970 10520000") == "+3197010520000"
    assert normalize_e164("+1 415 555 0100") == "+14155550100"
    assert normalize_e164("3197010520000") == "+3197010520000"  # Bird lists some numbers without their +
    assert normalize_e164("+0123456789") is None and normalize_e164("0123456789") is None


def test_a_number_bird_lists_without_its_plus_is_found_by_its_e164_text(emulator, bird_config, host):
    emulator.hostile.bare_numbers = True
    try:
        listed = requests.get(f"{emulator.url}/workspaces/{emulator.workspace_id}/numbers", timeout=10,
                              headers={"Authorization": f"AccessKey {emulator.access_key}"}).json()["results"]
        assert DEFAULT_NUMBERS[0][0].lstrip("+") in [n["number"] for n in listed]  # Bird's answer, as played
        out = run_program(lambda: pulumi.export("id", get_phone_number("+31 970-1052-0000").id),
                          config=bird_config, host=host).outputs
    finally:
        emulator.hostile.clear()
    assert out["id"] == DEFAULT_NUMBERS[0][1]


def test_a_numbers_listing_whose_page_token_never_changes_ends_at_the_repeat(emulator, bird_config, host):
    emulator.hostile.numbers_loop = True
    emulator.clear_requests()
    try:
        with pytest.raises(ProgramError, match=r"has no phone number \+3197099999999"):
            run_program(lambda: get_phone_number("+3197099999999"), config=bird_config, host=host)
    finally:
        emulator.hostile.clear()
    assert len([r for r in emulator.requests if r.path.endswith("/numbers")]) == 2  # the first page, and its repeat


def test_emulator_inventory_from_python():
    with BirdEmulator(numbers=()) as emu:
        assert emu.backend.list_numbers(emu.workspace_id, _page())["results"] == []
        added = emu.add_number("+442071838750", ["sms"], type="local")
        listed = emu.backend.list_numbers(emu.workspace_id, _page())["results"]
        assert listed == [added] and added["country"] == "GB" and added["capabilities"] == ["sms"]
        with pytest.raises(ValueError, match=r"E\.164"):
            emu.add_number("442071838750")
        with pytest.raises(ValueError, match="capabilities"):
            emu.add_number("+442071838751", ["fax"])


def _page():
    from pulumi_bird.emulator.backend import PageRequest

    return PageRequest(limit=99)


def test_emulator_inventory_from_the_command_line():
    from helpers import api_session, first_line, start_process, stop_process

    process = start_process(["--port", "0", "--no-default-numbers", "--number", "+3197010520077=voice",
                      "--number", "+3197010520078"])
    try:
        url = first_line(process.stdout)
        with api_session(access_key="bird-emulator-access-key") as session:
            body = session.get(f"{url}/workspaces/{DEFAULT_WORKSPACE_ID}/numbers", params={"limit": 99}).json()
            too_many = session.get(f"{url}/workspaces/{DEFAULT_WORKSPACE_ID}/numbers", params={"limit": 100})
    finally:
        stop_process(process, 15)
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert [(n["number"], n["capabilities"]) for n in body["results"]] == [
        ("+3197010520077", ["voice"]), ("+3197010520078", ["sms", "voice"])]
    assert too_many.status_code == 422
    assert "number +3197010520077 id " in stderr
    bad = subprocess.run([sys.executable, "-m", "pulumi_bird.emulator", "--number", "12"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "--number" in bad.stderr


def test_the_emulator_lists_numbers_in_birds_long_code_shape_too(emulator):
    """``GET .../numbers-long-code`` (Bird's other documented shape) holds the same numbers, and the lookup's parser
    reads both alike."""
    from pulumi_bird.api.numbers import parse_number

    with BirdClient(emulator.access_key, emulator.url) as client:
        current = client.request("GET", f"/workspaces/{emulator.workspace_id}/numbers")["results"]
        long_code = client.request("GET", f"/workspaces/{emulator.workspace_id}/numbers-long-code")["results"]
    assert "numberString" in long_code[0] and isinstance(long_code[0]["capabilities"], dict)
    assert [parse_number(item) for item in long_code] == [parse_number(item) for item in current]


@pytest.mark.parametrize("typed", ["3197010520000", "+3197010520000", "0031 970 1052 0000"])
def test_a_phone_number_where_its_id_belongs_points_to_get_phone_number(typed, inputs_of):
    from engine_double import ProviderHost
    from pulumi_bird import Connector

    expected = 'looks like the phone number +3197010520000, not its id; find the id with get_phone_number("+3197010520000").id'
    sms = inputs_of(lambda: SmsChannel("sms", phone_number_id=typed, channel_message_type="transactional"))
    generic = inputs_of(lambda: Connector("c", connector_template_ref="voice-messagebird:1",
                                          arguments={"phoneNumberId": typed}))
    with ProviderHost(config={"bird:accessKey": "k", "bird:workspaceId": WS}) as provider_host:
        for reg, prop in ((sms, "phone_number_id"), (generic, "arguments.phoneNumberId")):
            (failure,) = provider_host.check(reg.urn, reg.inputs).failures
            assert failure[0] == prop and "must be a UUID" in failure[1] and expected in failure[1], failure
        no_number = inputs_of(lambda: SmsChannel("x", phone_number_id="acme", channel_message_type="transactional"))
        (failure,) = provider_host.check(no_number.urn, no_number.inputs).failures
        assert "get_phone_number" not in failure[1]


@pytest.mark.parametrize(("query", "expected"), [
    ({}, {"+3197010520000", "+3197010520001", "+3197010520002", "+14155550100"}),
    ({"country": "us"}, {"+14155550100"}),
    ({"type": "toll-free"}, {"+14155550100"}),
    ({"capabilities": "sms,voice"}, {"+3197010520000", "+14155550100"}),
    ({"capabilities": "voice"}, {"+3197010520000", "+3197010520001", "+14155550100"}),
    ({"prefix": "+1"}, {"+14155550100"}),
    ({"prefix": "319701052000"}, {"+3197010520000", "+3197010520001", "+3197010520002"}),
    ({"searchTerm": "520002"}, {"+3197010520002"}),
    ({"searchTerm": "520002", "capabilities": "voice"}, set()),
])
def test_the_emulator_applies_the_numbers_listing_filters(query, expected):
    """Bird's numbers listing filters by type, country, capabilities (all of them), leading digits and a search
    term: the emulator applies each rather than ignoring it."""
    with BirdEmulator() as emu:
        emu.add_number("+14155550100", ("sms", "voice"), type="toll-free")
        listed = requests.get(f"{emu.url}/workspaces/{emu.workspace_id}/numbers", params={**query, "limit": 99},
                              headers={"Authorization": f"AccessKey {emu.access_key}"}, timeout=10).json()
    assert {n["number"] for n in listed["results"]} == expected


@responses.activate
def test_a_refusal_explained_by_the_numbers_listing_leaves_out_the_key_it_echoes():
    from pulumi_bird.api.numbers import explain_missing_capability

    key = "sk-live-numbers-key-0123456789"
    responses.get(NUMBERS, json={"results": [{"id": "n-1", "number": f"+31 {key}", "capabilities": [f"voice-{key}"]}]})
    refused = errors.InvalidRequestError("Bird rejected the request", status=422)
    with BirdClient(key, API) as client:
        explained = explain_missing_capability(client, WS, "n-1", "sms", refused)
    assert "not sms, so Bird refused the sms channel" in str(explained) and key[:8] not in str(explained)
