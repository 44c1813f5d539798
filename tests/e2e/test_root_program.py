"""The root Pulumi.yaml program under the real CLI: preview, up, no-op up, an in-place update, a replacement,
refresh with and without a change made in Bird, destroy; and a second stack that reads its channel id."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from demo import SECRET_KEYS, demo_config
from pulumi_cli import REPO, Pulumi, Stack, emulator_objects, is_empty, project_copy


def mutations(emulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests if r.method != "GET"]


def by_name(steps: dict[str, str]) -> dict[str, str]:
    return {urn.rsplit("::", 1)[1]: op for urn, op in steps.items()}


def root_stack(cli: Pulumi, emulator, name: str = "dev") -> Stack:
    project = project_copy(REPO, cli.workdir / "root")
    return cli.stack(project, name, demo_config(emulator), secrets=SECRET_KEYS)


def patch_webhook(emulator, subscription_id: str, **fields: str) -> None:
    """A change made in Bird's dashboard: straight to the API, past the stack."""
    url = (f"{emulator.url}/organizations/{emulator.organization_id}/workspaces/{emulator.workspace_id}"
           f"/webhook-subscriptions/{subscription_id}")
    answer = requests.patch(url, json=fields, headers={"Authorization": f"AccessKey {emulator.access_key}"},
                            timeout=10)
    answer.raise_for_status()


def test_root_program_lifecycle(cli: Pulumi, emulator) -> None:
    stack = root_stack(cli, emulator)
    names = {"sms", "voice", "sms-channel-updates"}
    try:
        preview = stack.preview()
        assert by_name(preview.steps()) == dict.fromkeys(names, "create")
        assert mutations(emulator) == []  # a preview creates nothing (it reads the numbers only)

        up = stack.up()
        assert by_name(up.steps()) == dict.fromkeys(names, "create")
        outputs = stack.outputs()
        held = emulator_objects(emulator)
        assert sorted(c["id"] for c in held["connectors"]) == sorted([outputs["smsConnectorId"],
                                                                      outputs["voiceConnectorId"]])
        assert [w["id"] for w in held["webhooks"]] == [outputs["webhookSubscriptionId"]]

        emulator.clear_requests()
        again = stack.up("--expect-no-changes")
        assert set(by_name(again.steps()).values()) == {"same"}
        assert mutations(emulator) == []

        # An in-place update: the webhook's url is PATCHed, nothing else is touched.
        stack.set_config({"webhookUrl": "https://hooks.example.com/bird/renamed"})
        emulator.clear_requests()
        updated = stack.up()
        assert by_name(updated.steps()) == {"sms": "same", "voice": "same", "sms-channel-updates": "update"}
        assert [m for m, _ in mutations(emulator)] == ["PATCH"]
        assert stack.outputs()["webhookSubscriptionId"] == outputs["webhookSubscriptionId"]

        # A replacement: another message type is another SMS connector (the old one deleted first); the webhook's
        # filter follows the new channel id in place.
        stack.set_config({"smsMessageType": "promotional"})
        replaced = stack.up()
        assert by_name(replaced.steps()) == {"sms": "replace", "voice": "same", "sms-channel-updates": "update"}
        after = stack.outputs()
        assert after["smsConnectorId"] != outputs["smsConnectorId"]
        assert len(emulator_objects(emulator)["connectors"]) == 2

        stack.refresh("--expect-no-changes")

        # A change made in Bird: refresh shows it and records it; the next up puts the program's url back.
        patch_webhook(emulator, after["webhookSubscriptionId"], url="https://elsewhere.example.com/hook")
        drift = stack.refresh()
        assert by_name(drift.steps()).get("sms-channel-updates") == "update", drift.output
        assert stack.preview("--expect-no-changes", check=False).returncode != 0  # the program differs from Bird now
        stack.up()
        assert emulator_objects(emulator)["webhooks"][0]["url"] == "https://hooks.example.com/bird/renamed"

        destroyed = stack.destroy()
        assert set(by_name(destroyed.steps()).values()) == {"delete"}
    finally:
        stack.destroy(check=False)
    assert is_empty(emulator)


def test_a_second_stack_reads_the_channel_id(cli: Pulumi, emulator, tmp_path: Path) -> None:
    channels = root_stack(cli, emulator)
    consumer_project = project_copy(REPO / "examples" / "consumer", tmp_path / "consumer")
    consumer = cli.stack(consumer_project, "dev", {
        "channelsStack": "organization/bird-channels/dev",
        "inboundUrl": "https://hooks.example.com/bird/inbound",
        "signingKey": demo_config(emulator)["webhookSigningKey"],
        "bird:accessKey": emulator.access_key, "bird:apiUrl": emulator.url,
        "bird:workspaceId": emulator.workspace_id, "bird:organizationId": emulator.organization_id,
    }, secrets={"signingKey", "bird:accessKey"})
    try:
        channels.up("--skip-preview")
        consumer.up("--skip-preview")
        sms_channel = channels.outputs()["smsChannelId"]
        assert consumer.outputs()["subscribedChannelId"] == sms_channel
        filters = [w["eventFilters"] for w in emulator_objects(emulator)["webhooks"]
                   if w["event"] == "sms.inbound"]
        assert filters == [[{"key": "channelId", "value": sms_channel}]]
    finally:
        consumer.destroy(check=False)
        channels.destroy(check=False)
    assert is_empty(emulator)


def test_make_demo_deploys_the_root_program_and_prints_its_outputs(cli: Pulumi) -> None:
    """`make demo`'s job (python tools/demo.py) with this CLI first on PATH and nothing else set: it
    points the engine at this Python, deploys, prints the outputs as JSON, destroys, and leaves no stack file."""
    env = {k: v for k, v in cli.env.items() if not k.startswith("PULUMI_")}
    before = sorted(p.name for p in REPO.glob("Pulumi.*.yaml"))
    done = subprocess.run([sys.executable, str(REPO / "tools" / "demo.py"), "--provision-seconds", "0.2"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = json.loads(done.stdout[done.stdout.rindex("\n{"):])
    assert set(outputs) == {"smsChannelId", "smsConnectorId", "smsPhoneNumber", "voiceChannelId",
                            "voiceConnectorId", "webhookSubscriptionId"}
    assert outputs["smsPhoneNumber"] == "+3197010520000"
    assert sorted(p.name for p in REPO.glob("Pulumi.*.yaml")) == before
