"""examples/fleet under the real CLI: one stack per customer workspace, three deployed side by side through the
Automation API against an emulator of three workspaces (Bird's rate limits on).

One customer lists a number its workspace lacks: it fails and the others succeed; once the number is bought (added
to the emulator) the same command converges; a rerun changes nothing, also from a machine without the stacks'
config files (the signing keys come back from the stacks' state); destroy leaves every workspace empty.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any, Dict, Iterator, List

import pytest

from pulumi_bird.emulator import BirdEmulator, seeded_number
from pulumi_cli import COMMAND_TIMEOUT, REPO, Pulumi

FLEET = REPO / "examples" / "fleet"
NAMES = ("acme", "globex", "initech")
NUMBERS = 2  # per workspace, seeded; initech also lists a third, which its workspace lacks at first
MISSING = seeded_number(3, NUMBERS)


@pytest.fixture
def fleet_emulator() -> Iterator[BirdEmulator]:
    with BirdEmulator(provision_seconds=1.0, rate_limits=True, workspaces=3, numbers_per_workspace=NUMBERS) as emu:
        yield emu


class Fleet:
    """``python examples/fleet`` with the e2e CLI's environment, its backend and PULUMI_HOME, and the emulator's
    Bird settings in the environment, as a user runs it."""

    def __init__(self, cli: Pulumi, emulator: BirdEmulator) -> None:
        self.cli, self.emulator = cli, emulator
        self.work_dir = cli.workdir / "fleet"
        self.customers = cli.workdir / "customers.json"
        self.runs = 0
        customers = [{"name": name, "workspaceId": workspace, "webhookUrl": f"https://hooks.{name}.example/bird",
                      "numbers": [seeded_number(index, n) for n in range(NUMBERS)]}
                     for index, (name, workspace) in enumerate(zip(NAMES, emulator.workspace_ids), start=1)]
        customers[2]["numbers"].append(MISSING)
        self.customers.write_text(json.dumps({"customers": customers}))

    def __call__(self, *extra: str) -> tuple[subprocess.CompletedProcess[str], Dict[str, Dict[str, Any]]]:
        self.runs += 1
        summary = self.cli.workdir / f"fleet-{self.runs}.json"
        env = dict(self.cli.env, BIRD_ACCESS_KEY=self.emulator.access_key, BIRD_API_URL=self.emulator.url,
                   BIRD_ORGANIZATION_ID=self.emulator.organization_id)
        command = [sys.executable, str(FLEET), str(self.customers), "--workers", "3", "--progress-seconds", "0",
                   "--work-dir", str(self.work_dir), "--backend-url", self.cli.env["PULUMI_BACKEND_URL"],
                   "--pulumi-home", self.cli.env["PULUMI_HOME"], "--pulumi-root", str(self.cli.bin),
                   "--json", str(summary), *extra]
        done = subprocess.run(command, env=env, text=True, capture_output=True, timeout=COMMAND_TIMEOUT, check=False)
        assert summary.is_file(), done.stdout + done.stderr
        stacks = {s["customer"]: s for s in json.loads(summary.read_text())["stacks"]}
        return done, stacks


def channel_ids(emulator: BirdEmulator, workspace_id: str) -> Dict[str, str]:
    """number -> channel id of the workspace's connectors."""
    return {c["number"]["phoneNumber"]: c["channel"]["channelId"]
            for c in emulator.backend.list_all_connectors(workspace_id)}


def webhooks(emulator: BirdEmulator, workspace_id: str) -> List[Dict[str, Any]]:
    return emulator.backend.list_all_webhooks(emulator.organization_id, workspace_id)


def signing_keys(emulator: BirdEmulator) -> List[set[str]]:
    """Per workspace, the signing keys its subscriptions carry (as stored; Bird never returns them)."""
    backend, org = emulator.backend, emulator.organization_id
    return [{backend.get_signing_key(org, ws, w["id"]) or "" for w in webhooks(emulator, ws)}
            for ws in emulator.workspace_ids]


def mutations(emulator: BirdEmulator) -> List[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests if r.method != "GET"]


def changed(stack: Dict[str, Any]) -> Dict[str, int]:
    return {op: n for op, n in stack["changes"].items() if op != "same" and n}


def assert_deployed(emulator: BirdEmulator, stacks: Dict[str, Dict[str, Any]], names: tuple[str, ...]) -> None:
    for name, workspace in zip(NAMES, emulator.workspace_ids):
        if name not in names:
            continue
        held = channel_ids(emulator, workspace)
        assert stacks[name]["channels"] == held, name
        # One signed subscription on the updates of every channel in the customer's workspace.
        assert [(w["service"], w["event"], w.get("eventFilters") or []) for w in webhooks(emulator, workspace)] == [
            ("channels", "channel.updated", [])], name


def test_fleet_of_three_workspaces(cli: Pulumi, fleet_emulator: BirdEmulator) -> None:
    emu, fleet = fleet_emulator, Fleet(cli, fleet_emulator)
    try:
        # initech's third number is not in its workspace: it fails, acme and globex are deployed.
        first, stacks = fleet()
        assert first.returncode == 1, first.stdout + first.stderr
        assert {n: s["state"] for n, s in stacks.items()} == {"acme": "ok", "globex": "ok", "initech": "failed"}
        assert MISSING in stacks["initech"]["error"] and "customer initech" in stacks["initech"]["error"]
        assert f"failed: {stacks['initech']['error']}" in first.stdout  # the table names the failure
        assert_deployed(emu, stacks, ("acme", "globex"))
        assert len(channel_ids(emu, emu.workspace_ids[0])) == NUMBERS
        assert channel_ids(emu, emu.workspace_ids[2]) == {}  # the failed program created nothing

        # Bought: the same command converges; acme and globex are not touched.
        emu.add_number(MISSING, ["sms"], workspace_id=emu.workspace_ids[2])
        second, stacks = fleet()
        assert second.returncode == 0, second.stdout + second.stderr
        assert {n: s["state"] for n, s in stacks.items()} == dict.fromkeys(NAMES, "ok")
        assert changed(stacks["acme"]) == {} and changed(stacks["globex"]) == {}
        # Its channels and its webhook (the stack's own resource exists since the failed run).
        assert changed(stacks["initech"]) == {"create": NUMBERS + 1 + 1}
        assert_deployed(emu, stacks, NAMES)
        keys = signing_keys(emu)
        assert all(len(k) == 1 for k in keys) and len(set().union(*keys)) == 3  # one key per customer

        # A no-op up: no changes shown, nothing sent to Bird but reads; then the same from a machine without the
        # stacks' config files (a CI runner with the shared backend): the keys come back from the state.
        for fresh in (False, True):
            if fresh:
                shutil.rmtree(fleet.work_dir / "stacks")
            emu.clear_requests()
            again, stacks = fleet()
            assert again.returncode == 0, again.stdout + again.stderr
            assert all(changed(s) == {} for s in stacks.values()), stacks
            assert again.stdout.count("no changes") >= len(NAMES)
            assert mutations(emu) == []
            assert signing_keys(emu) == keys

        previewed, stacks = fleet("--preview")
        assert previewed.returncode == 0, previewed.stdout + previewed.stderr
        assert all(changed(s) == {} for s in stacks.values()), stacks

        destroyed, stacks = fleet("--destroy")
        assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
        assert {n: s["state"] for n, s in stacks.items()} == dict.fromkeys(NAMES, "ok")
    finally:
        fleet("--destroy")
    for workspace in emu.workspace_ids:
        assert channel_ids(emu, workspace) == {} and webhooks(emu, workspace) == []
    gone, stacks = fleet("--destroy")  # the stacks were removed too: nothing left to destroy
    assert gone.returncode == 0 and {s["state"] for s in stacks.values()} == {"absent"}
