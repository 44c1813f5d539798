"""Failure paths under the real CLI: a Check failure, an interrupted `pulumi up`, a rotated access key, and
refreshes of an adopted channel renamed in Bird."""

from __future__ import annotations

import sys
from pathlib import Path

from demo import SECRET_KEYS, demo_config
from pulumi_bird.api.values import VOICE_TEMPLATE
from pulumi_bird.emulator.backend import DEFAULT_NUMBERS
from pulumi_cli import (
    REPO,
    Pulumi,
    Stack,
    Started,
    emulator_objects,
    finish,
    interrupt,
    is_empty,
    project_copy,
    wait_until,
)

PROGRAMS = Path(__file__).parent / "programs"
VOICE_NUMBER_ID = DEFAULT_NUMBERS[1][1]  # the voice-only number


def bird_config(emulator) -> dict[str, str]:
    return {k: v for k, v in demo_config(emulator).items() if k.startswith("bird:")}


def slow_root_stack(cli: Pulumi, emulator) -> Stack:
    """The root program's stack, on an emulator whose channels take 6 s to become active."""
    emulator.provision_seconds = 6.0
    return cli.stack(project_copy(REPO, cli.workdir / "root"), "dev", demo_config(emulator), secrets=SECRET_KEYS)


def up_interrupted_after_the_posts(cli: Pulumi, stack: Stack, emulator) -> Started:
    """`pulumi up` in the background, sent SIGINT once both connector POSTs reached Bird (the creates then wait
    for readiness)."""
    started = cli.start("up", "--yes", "--skip-preview", "--stack", stack.name, cwd=stack.project)
    wait_until(lambda: sum(r.method == "POST" for r in emulator.requests) >= 2, 120, "both connector POSTs")
    interrupt(started.process)
    return started


def test_a_check_failure_stops_the_preview_before_any_create(cli: Pulumi, emulator) -> None:
    project = project_copy(PROGRAMS / "webhook", cli.workdir / "webhook")
    stack = cli.stack(project, "dev", {**bird_config(emulator), "event": "channel.exploded"},
                      secrets={"bird:accessKey"})
    for run in (stack.preview(check=False), stack.up(check=False)):
        assert run.returncode != 0
        assert "event" in run.output and "channel.exploded" in run.output, run.output
        assert "create" not in run.steps().values()
    assert [r for r in emulator.requests if r.method != "GET"] == []
    assert stack.export()["deployment"].get("resources", []) in ([], None) or all(
        r["type"] in ("pulumi:pulumi:Stack", "pulumi:providers:pulumi-python")
        for r in stack.export()["deployment"]["resources"])


def test_an_interrupted_up_converges_to_one_object_per_resource(cli: Pulumi, emulator) -> None:
    """SIGINT while the creates wait for Bird's readiness: the engine lets the steps in flight finish (its
    first ^C cancels gracefully), and the next `up` converges with nothing created twice."""
    stack = slow_root_stack(cli, emulator)
    try:
        started = up_interrupted_after_the_posts(cli, stack, emulator)
        first = finish(started)
        assert first.returncode != 0, first.output
        emulator.provision_seconds = 1.0
        stack.refresh(check=False)
        stack.up()
        held = emulator_objects(emulator)
        outputs = stack.outputs()
        assert sorted(c["id"] for c in held["connectors"]) == sorted([outputs["smsConnectorId"],
                                                                      outputs["voiceConnectorId"]])
        assert [w["id"] for w in held["webhooks"]] == [outputs["webhookSubscriptionId"]]
        stack.up("--expect-no-changes")
    finally:
        stack.destroy(check=False)
    assert is_empty(emulator)


def test_a_rotated_access_key_gets_the_hint_on_destroy(cli: Pulumi, emulator) -> None:
    project = project_copy(REPO, cli.workdir / "root")
    stack = cli.stack(project, "dev", demo_config(emulator), secrets=SECRET_KEYS)
    stack.up("--skip-preview")
    emulator.access_key = "the-rotated-key"
    stack.set_config({"bird:accessKey": "the-rotated-key"}, secrets={"bird:accessKey"})
    refused = stack.destroy(check=False)
    assert refused.returncode != 0
    assert "Bird refused the access key" in refused.output and "--run-program" in refused.output, refused.output
    assert "the-rotated-key" not in refused.output and "bird-emulator-access-key" not in refused.output
    assert len(emulator_objects(emulator)["connectors"]) == 2  # nothing was deleted, nothing dropped from state
    stack.destroy("--run-program")
    assert is_empty(emulator)


def test_refresh_of_an_adopted_channel_renamed_in_bird(cli: Pulumi, emulator) -> None:
    """The refresh shows the rename; the plan that follows would replace the adopted connector, which adopt_id
    still names, so it stops with the fix named and touches nothing; declaring the new name converges."""
    made = emulator.backend.create_connector(emulator.workspace_id, {
        "name": "made in the dashboard", "connectorTemplateRef": VOICE_TEMPLATE,
        "arguments": {"phoneNumberId": VOICE_NUMBER_ID}})
    project = project_copy(PROGRAMS / "adopted", cli.workdir / "adopted")
    stack = cli.stack(project, "dev", {**bird_config(emulator), "phoneNumberId": VOICE_NUMBER_ID,
                                       "name": "made in the dashboard", "connectorId": made["id"]},
                      secrets={"bird:accessKey"})
    try:
        stack.up("--skip-preview")
        emulator.backend._find_connector(emulator.workspace_id, made["id"]).name = "renamed in the dashboard"
        emulator.clear_requests()
        for run in (stack.preview("--refresh", check=False), stack.up("--refresh", check=False)):
            assert "refresh [diff: ~name]" in run.output, run.output
            assert run.returncode != 0
            assert "adopt_id still names it" in run.output and "declare its current values" in run.output
            assert "Traceback (most recent call last):\n  File \"" not in run.stderr  # no plugin crash
        assert [r for r in emulator.requests if r.method != "GET"] == []
        stack.set_config({"name": "renamed in the dashboard"})
        converged = stack.up("--refresh")
        assert set(converged.steps().values()) <= {"same", "refresh"}, converged.steps()
        assert [c["id"] for c in emulator_objects(emulator)["connectors"]] == [made["id"]]
    finally:
        stack.destroy(check=False)
    assert is_empty(emulator)


def test_adopt_id_set_to_the_own_id_beside_a_replacing_change_stops_preview_and_up(cli: Pulumi, emulator) -> None:
    """A channel created without adopt_id, then adopt_id = its own connector id and a new name (a replacement):
    the replacement would take over the object the up deletes, so Diff stops preview and up, touching nothing."""
    project = project_copy(PROGRAMS / "adopted", cli.workdir / "adopted")
    stack = cli.stack(project, "dev", {**bird_config(emulator), "phoneNumberId": VOICE_NUMBER_ID,
                                       "name": "created by the stack"}, secrets={"bird:accessKey"})
    try:
        stack.up("--skip-preview")
        before = emulator_objects(emulator)["connectors"]
        assert len(before) == 1
        stack.set_config({"connectorId": before[0]["id"], "name": "renamed in the program"})
        emulator.clear_requests()
        for run in (stack.preview(check=False), stack.up(check=False)):
            assert run.returncode != 0
            assert "adopt_id still names it" in run.output and "remove adopt_id" in run.output, run.output
            assert "Traceback (most recent call last):\n  File \"" not in run.stderr
        assert [r for r in emulator.requests if r.method != "GET"] == []
        assert emulator_objects(emulator)["connectors"] == before
    finally:
        stack.destroy(check=False)
    assert is_empty(emulator)


def test_a_relative_virtualenv_is_resolved_from_the_main_directory_for_the_provider_host(cli: Pulumi, emulator,
                                                                                         tmp_path: Path) -> None:
    """The README's caveat, on the real engine: with `main:` in a subdirectory, the engine starts the dynamic
    provider plugin in the main directory and hands it the `virtualenv` option as it is (PULUMI_RUNTIME_VIRTUALENV),
    so a virtualenv relative to Pulumi.yaml is looked for beside the program instead (pulumi/pulumi#7061)."""
    project = tmp_path / "venv-project"
    (project / "program").mkdir(parents=True)
    (project / "program" / "__main__.py").symlink_to(PROGRAMS / "webhook" / "__main__.py")
    (project / "venv").symlink_to(Path(sys.executable).parents[1], target_is_directory=True)
    (project / "Pulumi.yaml").write_text("name: e2e-venv\nmain: program/\n"
                                         "runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    stack = cli.stack(project, "dev", {**bird_config(emulator), "event": "channel.updated"},
                      secrets={"bird:accessKey"})
    missing = stack.preview(check=False)
    assert missing.returncode != 0
    assert "venv/bin/python does not exist" in missing.output, missing.output
    (project / "program" / "venv").symlink_to(Path(sys.executable).parents[1], target_is_directory=True)
    stack.preview()


def test_a_killed_up_leaves_no_duplicate_and_names_the_leftover(cli: Pulumi, emulator) -> None:
    """A second SIGINT terminates `pulumi up` at once, after the connector POSTs: the state keeps pending CREATE
    operations, Bird keeps one connector per resource, and the next `up` creates no second one: Bird's 409 is
    reported naming the leftover and the adopt_id that takes it over."""
    stack = slow_root_stack(cli, emulator)
    try:
        started = up_interrupted_after_the_posts(cli, stack, emulator)
        wait_until(lambda: "^C received; cancelling" in started.output_so_far(), 30, "the engine to take the ^C")

        def terminated() -> bool:  # a ^C the CLI reads before it listens again is lost: repeat until it says so
            if "^C received; terminating" in started.output_so_far() or started.process.poll() is not None:
                return True
            interrupt(started.process)
            return False
        wait_until(terminated, 30, "the second ^C to terminate the update")
        killed = finish(started)
        assert killed.returncode != 0 and "terminating" in killed.output, killed.output
        pending = {op["resource"]["urn"].rsplit("::", 1)[1]
                   for op in stack.export()["deployment"].get("pending_operations", [])}
        assert pending == {"sms", "voice"}, killed.output
        leftovers = {c["name"]: c["id"] for c in emulator_objects(emulator)["connectors"]}
        again = stack.up(check=False)
        assert again.returncode != 0
        for name in ("sms", "voice"):
            assert f"adopt_id='{leftovers[name]}'" in again.output, again.output
        assert {c["id"] for c in emulator_objects(emulator)["connectors"]} == set(leftovers.values())
    finally:
        stack.refresh("--clear-pending-creates", check=False)
        stack.destroy(check=False)
        for connector in emulator_objects(emulator)["connectors"]:  # not the stack's: deleted as a user would
            emulator.backend.delete_connector(emulator.workspace_id, connector["id"])
    assert is_empty(emulator)
