"""Refresh of adopted objects that drifted in Bird, through ``pulumi-resource-bird`` over gRPC as the engine drives
it (tests/plugin_engine.py), against the emulator.

The engine's sequences (pulumi/pulumi pkg/resource/deploy):
- `pulumi refresh`: RefreshStep.Apply runs Read(properties = old outputs, inputs = old inputs), then at once
  Diff(olds = the outputs Read returned, old_inputs = the inputs Read returned, news = the *old* inputs) to show
  the drift; a Diff error fails the refresh. No Check runs.
- `pulumi up` (and its preview): Check(olds = the state's inputs, news = the program), then Diff; a Check failure
  stops it before any step.
- `pulumi up --refresh`: the refresh steps above, then the up's Check and Diff, on the same plugin process.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from plugin_engine import DIFF, KIND, from_struct


def out_of_band(emulator, template, name, **arguments):
    """A connector made in Bird's dashboard (not by the stack); its id."""
    body = {"name": name, "connectorTemplateRef": template, "arguments": arguments}
    return emulator.backend.create_connector(emulator.workspace_id, body)["id"]


def drift(emulator, connector_id, *, name=None, **arguments):
    """Change the connector in Bird, as the dashboard would."""
    record = emulator.backend._connectors[emulator.workspace_id][connector_id]
    if name is not None:
        record.name = name
    record.arguments = {**(record.arguments or {}), **arguments}


def refresh(plugin, urn, id_, outs, inputs):
    """RefreshStep.Apply: Read, then Diff of the refreshed state against the old inputs; (outputs, inputs, diff)."""
    read = plugin.read(urn, id_, outs, inputs)
    assert read.id == id_
    outs, refreshed = from_struct(read.properties), from_struct(read.inputs)
    return outs, refreshed, plugin.diff(urn, id_, outs, inputs, old_inputs=refreshed)


def kinds(diff):
    return {k: v.kind for k, v in diff.detailedDiff.items()}


def adopt(plugin, emulator, type_name, program, connector_id):
    """The first up with adoptId: Check and Create; (urn, outputs, checked inputs)."""
    id_, outs, checked = plugin.up(type_name, program["name"], {**program, "adoptId": connector_id})
    assert id_ == connector_id
    return plugin.urn(type_name, program["name"]), outs, checked


def test_refresh_of_an_adopted_voice_channel_renamed_in_bird_shows_the_drift_and_an_up_names_the_fix(
        plugin, emulator):
    number = str(uuid.uuid4())
    cid = out_of_band(emulator, "voice-messagebird:1", "voice-adopted", phoneNumberId=number)
    program = {"phoneNumberId": number, "name": "voice-adopted"}
    urn, outs, checked = adopt(plugin, emulator, "VoiceChannel", program, cid)
    drift(emulator, cid, name="renamed-in-dashboard")

    outs, refreshed, diff = refresh(plugin, urn, cid, outs, checked)  # `pulumi refresh`
    assert refreshed["name"] == "renamed-in-dashboard" and refreshed["adoptId"] == cid
    assert diff.changes == DIFF.DIFF_SOME and list(diff.replaces) == ["name"]
    assert kinds(diff) == {"name": KIND.UPDATE_REPLACE} and list(diff.diffs) == ["name"]
    outs, refreshed, again = refresh(plugin, urn, cid, outs, refreshed)  # a second refresh: nothing new
    assert again.changes == DIFF.DIFF_NONE

    # The next up (or preview) stops at Check, naming adoptId and the fix, in the schema's names.
    _, failures = plugin.check(urn, {**program, "adoptId": cid}, olds=refreshed)
    assert [prop for prop, _ in failures] == ["adoptId"]
    reason = failures[0][1]
    assert reason.startswith(f"connector {cid} must be replaced (name 'renamed-in-dashboard' -> 'voice-adopted'), "
                             "but adoptId still names it")
    assert "remove adoptId" in reason and "adopt_id" not in reason
    # Declaring what Bird has: no failure, no change.
    agreed, failures = plugin.check(urn, {**program, "name": "renamed-in-dashboard", "adoptId": cid}, olds=refreshed)
    assert failures == [] and plugin.diff(urn, cid, outs, agreed, old_inputs=refreshed).changes == DIFF.DIFF_NONE
    assert [c["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id) if c["id"] == cid] == [cid]


def test_up_with_refresh_of_an_adopted_sms_channel_changed_in_bird(plugin, emulator):
    """`up --refresh`: Read and the refresh's Diff succeed, then the up's Check refuses; without adoptId the up's
    Diff plans the replacement, delete first."""
    number = str(uuid.uuid4())
    cid = out_of_band(emulator, "sms-messagebird:1", "sms-adopted", phoneNumberId=number,
                      channelMessageType="transactional")
    program = {"phoneNumberId": number, "channelMessageType": "transactional", "name": "sms-adopted"}
    urn, outs, checked = adopt(plugin, emulator, "SmsChannel", program, cid)
    drift(emulator, cid, name="sms-renamed", channelMessageType="2fa")

    outs, refreshed, diff = refresh(plugin, urn, cid, outs, checked)
    assert list(diff.replaces) == ["channelMessageType", "name"]
    assert kinds(diff) == {"channelMessageType": KIND.UPDATE_REPLACE, "name": KIND.UPDATE_REPLACE}
    _, failures = plugin.check(urn, {**program, "adoptId": cid}, olds=refreshed)
    assert [prop for prop, _ in failures] == ["adoptId"]
    assert "channelMessageType '2fa' -> 'transactional', name 'sms-renamed' -> 'sms-adopted'" in failures[0][1]

    news, failures = plugin.check(urn, program, olds=refreshed)  # adoptId removed, as the message says
    assert failures == []
    planned = plugin.diff(urn, cid, outs, news, old_inputs=refreshed)
    assert list(planned.replaces) == ["channelMessageType", "name"] and planned.deleteBeforeReplace
    plugin.delete(urn, cid, outs, old_inputs=refreshed)


def test_an_in_place_change_beside_a_drifted_replacement_is_reported_once_each(plugin, emulator):
    """The detailed diff comes from one comparison: an update in place and a replacement side by side."""
    number = str(uuid.uuid4())
    cid = out_of_band(emulator, "voice-messagebird:1", "voice-mixed", phoneNumberId=number)
    urn, outs, checked = adopt(plugin, emulator, "VoiceChannel", {"phoneNumberId": number, "name": "voice-mixed"}, cid)
    drift(emulator, cid, name="voice-elsewhere")
    outs, refreshed, _ = refresh(plugin, urn, cid, outs, checked)
    news = {**checked, "readyTimeout": 900, "adoptId": None}
    diff = plugin.diff(urn, cid, outs, {k: v for k, v in news.items() if v is not None}, old_inputs=refreshed)
    assert kinds(diff) == {"name": KIND.UPDATE_REPLACE, "readyTimeout": KIND.UPDATE}
    assert list(diff.replaces) == ["name"] and sorted(diff.diffs) == ["name", "readyTimeout"]
    plugin.delete(urn, cid, outs, old_inputs=refreshed)


def test_adopt_id_set_to_the_own_id_beside_a_replacing_change_fails_diff_before_any_request(plugin, emulator):
    """Created without adoptId, then adoptId = its own id and a replacing change: Check cannot see the id, so Diff
    refuses (preview and up stop there); the replacement would take over the object the up then deletes."""
    number = str(uuid.uuid4())
    program = {"phoneNumberId": number, "channelMessageType": "transactional", "name": "sms-own-id"}
    id_, outs, checked = plugin.up("SmsChannel", program["name"], program)
    urn = plugin.urn("SmsChannel", program["name"])

    def held():
        return [c for c in emulator.backend.list_all_connectors(emulator.workspace_id) if c["id"] == id_]

    before, seen = held(), emulator.recorded_requests_total
    news, failures = plugin.check(urn, {**program, "adoptId": id_, "channelMessageType": "2fa"}, olds=checked)
    assert failures == []
    with pytest.raises(grpc.RpcError) as caught:
        plugin.diff(urn, id_, outs, news, old_inputs=checked)
    reason = caught.value.details()
    assert reason.startswith(f"connector {id_} must be replaced (channelMessageType 'transactional' -> '2fa'), "
                             "but adoptId still names it")
    assert "remove adoptId" in reason and "adopt_id" not in reason
    assert emulator.recorded_requests_total == seen and held() == before != []
    # adoptId = its own id without a replacing change stays no change.
    same, _ = plugin.check(urn, {**program, "adoptId": id_}, olds=checked)
    assert plugin.diff(urn, id_, outs, same, old_inputs=checked).changes == DIFF.DIFF_NONE
    plugin.delete(urn, id_, outs, old_inputs=checked)
