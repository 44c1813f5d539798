"""pulumi_bird.testing on the real engine: a stack of an inline program (through the ``bird_stack`` pytest fixture)
and of a project directory (the root Pulumi.yaml), deployed on the emulator, read back, destroyed."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_bird import SmsChannel, WebhookSubscription, event_filter, get_phone_number
from pulumi_bird.emulator import DEFAULT_NUMBERS
from pulumi_bird.testing import bird_stack, emulator_contents, pulumi_command
from pulumi_cli import ENGINE_ENV, REPO

SMS_NUMBER, VOICE_NUMBER = DEFAULT_NUMBERS[0][0], DEFAULT_NUMBERS[1][0]


def program() -> None:
    config = pulumi.Config()
    sms = SmsChannel("sms", phone_number_id=get_phone_number(config.require("smsNumber")).id,
                     channel_message_type="transactional")
    hook = WebhookSubscription("updates", service="channels", event="channel.updated",
                               url="https://hooks.example.com/bird", signing_key=config.require_secret("signingKey"),
                               event_filters=[event_filter("channelId", sms.channel_id)])
    pulumi.export("connectorId", sms.connector_id)
    pulumi.export("channelId", sms.channel_id)
    pulumi.export("webhookId", hook.id)


def test_an_inline_program_through_the_fixture_up_refresh_destroy(bird_stack, bird_emulator) -> None:
    bird_emulator.provision_seconds = 0.2
    signing_key = "sk-" + "s" * 40
    stack = bird_stack(program, config={"smsNumber": SMS_NUMBER,
                                        "signingKey": auto.ConfigValue(signing_key, secret=True)})
    assert stack.preview().change_summary == {"create": 3}  # the stack and its two resources
    assert stack.objects() == {"connectors": [], "webhooks": []}

    up = stack.up()
    assert up.summary.result == "succeeded"
    assert up.outputs["webhookId"].value == stack.outputs()["webhookId"]
    held = stack.objects()
    assert [c["id"] for c in held["connectors"]] == [stack.outputs()["connectorId"]]
    assert held["webhooks"][0]["eventFilters"] == [{"key": "channelId", "value": stack.outputs()["channelId"]}]

    assert stack.refresh().summary.resource_changes == {"same": 3}
    assert stack.destroy().summary.resource_changes == {"delete": 3}
    assert stack.objects() == {"connectors": [], "webhooks": []}


def test_a_project_directory_deployed_read_back_and_removed_on_close(bird_emulator, tmp_path) -> None:
    config = {"smsPhoneNumberId": SMS_NUMBER, "voicePhoneNumberId": VOICE_NUMBER}
    with bird_stack(REPO, bird_emulator, config=config) as stack:
        config_file = REPO / f"Pulumi.{stack.name}.yaml"
        assert config_file.is_file()
        stack.up()
        outputs = stack.outputs()
        assert sorted(c["id"] for c in stack.objects()["connectors"]) == sorted(
            [outputs["smsConnectorId"], outputs["voiceConnectorId"]])
        assert stack.preview().change_summary == {"same": 4}
    # Leaving the block destroyed the stack, removed its config file and its temporary backend.
    assert emulator_contents(bird_emulator) == {"connectors": [], "webhooks": []}
    assert not config_file.exists() and not stack.workdir.exists()


def test_the_cli_is_found_from_its_bin_directory_and_a_wrong_one_is_named(monkeypatch, tmp_path) -> None:
    import os

    engine = os.environ[ENGINE_ENV]
    assert pulumi_command(engine).command == os.path.join(engine, "pulumi")
    monkeypatch.setenv(ENGINE_ENV, str(tmp_path))
    with pytest.raises(RuntimeError, match=f"no pulumi in {tmp_path}/bin; pass pulumi_command= "):
        pulumi_command()


def test_the_readmes_integration_example_runs_as_written_with_pulumi_on_path(tmp_path) -> None:
    """README.md's "Testing your own programs" example (docs/testing.md shows the same one: test_docs_testing.py)."""
    import os
    import subprocess
    import sys

    from doc_blocks import README, doc_block

    (tmp_path / "test_my_stack.py").write_text(doc_block("integration", README))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "BIRD_"))}
    env["PATH"] = os.pathsep.join([os.environ[ENGINE_ENV], env.get("PATH", "")])  # the CLI on PATH, as installed
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-rA",
                           str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert "PASSED test_my_stack.py::test_my_stack" in done.stdout, done.stdout


def run_readme_block(readme: Path, after: str) -> str:
    """Runs the first ```python block after ``after`` in ``readme`` from the clone's root, with the CLI on PATH, and
    returns its stdout; the stacks it makes leave no ``Pulumi.<stack>.yaml`` behind."""
    import os
    import subprocess
    import sys

    block = readme.read_text().split(after, 1)[1].split("```python\n", 1)[1].split("\n```\n")[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "BIRD_"))}
    env["PATH"] = os.pathsep.join([os.environ[ENGINE_ENV], str(Path(sys.executable).parent), env.get("PATH", "")])
    before = sorted(REPO.glob("**/Pulumi.*.yaml"))
    done = subprocess.run([sys.executable, "-c", block], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(REPO.glob("**/Pulumi.*.yaml")) == before  # the stacks' config files went with them
    return done.stdout


def test_the_readmes_emulator_on_its_own_example_runs_as_written() -> None:
    objects, made = run_readme_block(REPO / "README.md", "### The emulator on its own").splitlines()
    assert objects.startswith("{'connectors': [{") and "'webhooks': [" in objects, objects  # the example's channels
    assert len(made) == 36, made  # the id of the connector made outside Pulumi


@pytest.mark.parametrize("example", ["channels", "consumer", "generic-connector", "webhook-receiver"])
def test_each_examples_readme_runs_its_stack_with_bird_stack_as_written(example: str) -> None:
    outputs = run_readme_block(REPO / "examples" / example / "README.md", "`pulumi_bird.testing.bird_stack` runs it")
    assert outputs.startswith("{'"), outputs  # the stack's outputs


def test_a_stack_that_cannot_be_configured_leaves_no_config_file_in_the_project(bird_emulator, tmp_path) -> None:
    from pulumi_cli import project_copy

    project = project_copy(REPO / "examples" / "webhook-receiver", tmp_path / "project")
    before = sorted(p.name for p in project.iterdir())
    with pytest.raises(auto.CommandError, match="a:b:c"):
        bird_stack(project, bird_emulator, config={"a:b:c": "x"})  # not of the form namespace:name
    assert sorted(p.name for p in project.iterdir()) == before
