"""Every example project, and the root Pulumi.yaml, run through the program runner against the emulator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from engine_double import ProgramError, ProjectError, destroy, refresh, run_program, secret

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CONSUMER_KEY = "consumer-key-1-9d2f6b0a4e8c3a7f1b5d"
# Automation API programs (no Pulumi project of their own: they make their stacks inline); tests/e2e runs them.
AUTOMATION_EXAMPLES = {"fleet"}


def project_examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and p.name not in AUTOMATION_EXAMPLES)


@pytest.fixture(scope="module")
def host(emulator_host):
    return emulator_host


def channels_config(bird_config):
    return dict(bird_config, smsPhoneNumberId=str(uuid.uuid4()), voicePhoneNumberId=str(uuid.uuid4()))


# --- every example as shipped: no host= below, so each run starts its provider host from the project, as the
# engine does (main directory, the shim's logic, the runtime options of its Pulumi.yaml) -------------------


def test_examples_name_no_virtualenv_that_would_not_exist_and_have_a_readme():
    from engine_double import load_project

    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "examples/*/Pulumi.*.yaml" in ignored and "venv/" in ignored
    for directory in project_examples():
        readme = (directory / "README.md").read_text()
        for needed in ("pulumi config set", "pulumi up", "python -m pulumi_bird.emulator"):
            assert needed in readme, (directory.name, needed)
        if not (directory / "__main__.py").is_file():  # TypeScript and YAML: through the native plugin
            assert "pulumi package add" in readme, directory.name
            continue
        loaded = load_project(directory)
        assert "virtualenv" not in loaded.runtime_options, directory
        assert "bird_stack" in readme, directory.name


def test_channels_example_as_shipped_finds_its_numbers_by_e164_text(emulator, bird_config):
    config = dict(bird_config, smsPhoneNumberId="+3197010520000", voicePhoneNumberId="+3197010520001")
    result = run_program(str(EXAMPLES / "channels"), config=config)
    assert result.outputs["smsPhoneNumber"] == "+3197010520000"
    sms = result.state.find("sms")
    assert sms.outputs["phone_number_id"] == "6a3f2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c"
    assert result.outputs["voiceChannelId"] and result.outputs["webhookSubscriptionId"]
    destroy(result.state, project=EXAMPLES / "channels", config=config)
    # The voice-only number cannot carry the SMS channel: Bird's 422, named.
    wrong = dict(config, smsPhoneNumberId="+3197010520001")
    with pytest.raises(ProgramError, match=r"phone number \+3197010520001 has no sms capability") as caught:
        run_program(str(EXAMPLES / "channels"), config=wrong)
    destroy(caught.value.state, project=EXAMPLES / "channels", config=wrong)


def test_every_example_is_a_pulumi_project():
    for directory in [ROOT, *project_examples()]:
        assert (directory / "Pulumi.yaml").is_file(), directory
        python = "runtime: yaml" not in (directory / "Pulumi.yaml").read_text() and not (directory / "index.ts").exists()
        if directory != ROOT and python:  # the other languages' examples of the native plugin: tests/test_plugin.py
            assert (directory / "__main__.py").is_file() and (directory / "requirements.txt").is_file(), directory


def test_root_project_up_refresh_up_destroy_with_hosts_started_as_the_engine_does(emulator, bird_config):
    # No host= here: each step starts its provider host from the project (main directory, shim logic).
    config = channels_config(bird_config)
    result = run_program(str(ROOT), config=config)
    # The stack's config stays between commands, as in Pulumi.<stack>.yaml: refresh and destroy take the config
    # the up was given (recorded in the state), and config= changes only the keys it names.
    refreshed = refresh(result.state, project=ROOT, config=bird_config)
    assert refresh(result.state, project=ROOT).resources == refreshed.resources
    # A state that recorded nothing (older than the double) needs the program's keys, and says which and why.
    unrecorded = result.state.copy()
    unrecorded.provider_config = None
    with pytest.raises(ProjectError, match=r"refresh: Stack 'dev' is missing configuration values 'smsPhoneNumberId' "
                                           r"and 'voicePhoneNumberId': Pulumi.yaml declares them without a default"):
        refresh(unrecorded, project=ROOT, config=bird_config)  # the CLI validates the config for refresh too
    again = run_program(str(ROOT), config=config, state=refreshed)
    assert set(again.steps.values()) == {"same"}
    destroy(again.state, project=ROOT, config=config)
    assert [c for c in emulator.backend.list_all_connectors(emulator.workspace_id)
            if c["id"] in {r.id for r in result.state.resources}] == []


def test_root_program_exports_channels_and_subscription(emulator, bird_config, host):
    result = run_program(str(ROOT), config=dict(channels_config(bird_config), webhookSigningKey=secret("k-1-3f8a0c6e2b9d4f71a5c0e8b6d2a7c9")), host=host)
    out = result.outputs
    assert out, (result.steps, result.state.outputs)
    assert out["smsChannelId"] and out["voiceChannelId"] and out["webhookSubscriptionId"]
    hook = emulator.backend.list_all_webhooks(emulator.organization_id, emulator.workspace_id)
    mine = [h for h in hook if h["id"] == out["webhookSubscriptionId"]]
    assert mine[0]["eventFilters"] == [{"key": "channelId", "value": out["smsChannelId"]}]
    destroy(result.state, host=host)


def test_consumer_stack_subscribes_to_the_channel_of_another_stack(emulator, bird_config, host):
    channels = run_program(str(EXAMPLES / "channels"), config=channels_config(bird_config))
    sms_channel = channels.outputs["smsChannelId"]
    consumer = run_program(
        str(EXAMPLES / "consumer"),
        config=dict(bird_config, inboundUrl="https://hooks.example.com/inbound", signingKey=secret(CONSUMER_KEY),
                    channelsStack="acme/bird-channels/prod"),
        stack_references={"acme/bird-channels/prod": channels.outputs},
    )
    assert consumer.outputs["subscribedChannelId"] == sms_channel
    sub_id = consumer.outputs["subscriptionId"]
    assert emulator.backend.get_signing_key(emulator.organization_id, emulator.workspace_id, sub_id) == CONSUMER_KEY
    assert CONSUMER_KEY not in consumer.state.to_json()
    destroy(consumer.state, host=host)
    destroy(channels.state, host=host)


def test_adopt_existing_adopts_what_make_connector_made_without_creating(emulator, bird_config, host):
    # As the example's README says: make_connector.py makes the connector (as the dashboard would) and prints the
    # `pulumi config set` commands for it; the example then adopts it.
    env = dict(os.environ, BIRD_API_URL=emulator.url, BIRD_ACCESS_KEY=emulator.access_key,
               BIRD_WORKSPACE_ID=emulator.workspace_id)
    made = subprocess.run([sys.executable, "make_connector.py", "--number", "+3197010520002"], cwd=EXAMPLES / "adopt-existing",
                          env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    config = dict(bird_config)
    for line in made.stdout.splitlines():
        key, value = line.removeprefix("pulumi config set ").split(" ", 1)
        config[key] = value.strip("'")
    assert config["phoneNumberId"] == "+3197010520002"
    existing = emulator.backend.get_connector(emulator.workspace_id, config["connectorId"])
    before = len(emulator.backend.list_all_connectors(emulator.workspace_id))
    emulator.clear_requests()
    adopted = run_program(str(EXAMPLES / "adopt-existing"), config=config)
    # adopt_id, not import_ (which the engine cannot serve for dynamic providers): no POST, the same connector.
    assert [r for r in emulator.requests if r.method == "POST"] == []
    assert adopted.state.find("adopted-sms").id == existing["id"]
    assert adopted.outputs["channelId"] == existing["channel"]["channelId"]
    assert adopted.outputs["liveChannelStatus"] == "ok"
    assert len(emulator.backend.list_all_connectors(emulator.workspace_id)) == before
    destroy(adopted.state, project=EXAMPLES / "adopt-existing", config=config)  # retain_on_delete: Bird keeps it
    assert any(c["id"] == existing["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id))
    emulator.backend.delete_connector(emulator.workspace_id, existing["id"])


def test_generic_connector_keeps_security_arguments_secret(emulator, bird_config, host):
    result = run_program(str(EXAMPLES / "generic-connector"),
                         config=dict(bird_config, wabaId="waba-123", accessToken=secret("wa-token-secret-9")))
    assert result.outputs["whatsappChannelId"]
    assert isinstance(result.outputs["smsConnectorCount"], int)
    state = result.state.to_json()
    assert "wa-token-secret-9" not in state and emulator.access_key not in state
    destroy(result.state, host=host)


RECEIVER_KEY = "receiver-key-5-Zq0vV8mT3xL1pR7nK2wY6sB9"


def _load_receiver():
    spec = importlib.util.spec_from_file_location("receiver", EXAMPLES / "webhook-receiver" / "receiver.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_webhook_receiver_example_and_its_receiver(emulator, bird_config, host):
    public = "https://hooks.example.com/bird/created"
    result = run_program(str(EXAMPLES / "webhook-receiver"),
                         config=dict(bird_config, publicUrl=public, signingKey=secret(RECEIVER_KEY)))
    sub = result.outputs["subscriptionId"]
    key = emulator.backend.get_signing_key(emulator.organization_id, emulator.workspace_id, sub)
    assert key == RECEIVER_KEY

    events = []
    server = _load_receiver().serve(0, key, public, handle=events.append)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        body = json.dumps({"service": "channels", "event": "channel.created"}).encode()
        stamp = str(int(__import__("time").time()))
        message = f"{stamp}\n{public}\n".encode() + hashlib.sha256(body).digest()
        signature = base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()
        url = f"http://127.0.0.1:{server.server_address[1]}/bird/created"

        def post(sig: str, delivery: "str | None") -> int:
            headers = {"messagebird-signature": sig, "messagebird-request-timestamp": stamp}
            if delivery is not None:
                headers["messagebird-request-id"] = delivery
            request = urllib.request.Request(url, data=body, method="POST", headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert post(signature, "d-1") == 204
        # a retry of a handled delivery, and replays of it with another id or none (the id is not signed): each
        # acknowledged, none handled again
        assert [post(signature, d) for d in ("d-1", "d-2", "", None)] == [204] * 4
        assert post(base64.b64encode(b"forged" * 6).decode(), "d-3") == 401
        assert events == [{"service": "channels", "event": "channel.created"}]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    destroy(result.state, host=host)


def test_the_receiver_handles_a_delivery_whose_handling_failed_when_bird_retries_it():
    public = "https://hooks.example.com/bird/created"
    handled = []

    def handle(event: dict) -> None:
        handled.append(event)
        if len(handled) == 1:
            raise RuntimeError("the database is down")

    server = _load_receiver().serve(0, RECEIVER_KEY, public, handle=handle)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        body = b'{"event": "channel.created"}'
        stamp = str(int(__import__("time").time()))
        message = f"{stamp}\n{public}\n".encode() + hashlib.sha256(body).digest()
        signature = base64.b64encode(hmac.new(RECEIVER_KEY.encode(), message, hashlib.sha256).digest()).decode()
        url = f"http://127.0.0.1:{server.server_address[1]}/bird/created"

        def post() -> int:
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "messagebird-signature": signature, "messagebird-request-timestamp": stamp})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        # failed, so Bird's retry is handled; handled, so the next repeat is not
        assert [post(), post(), post()] == [500, 204, 204] and len(handled) == 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the README's "Your own stack in five minutes", as written ---------------------------------------------------


def readme_block(name: str) -> str:
    """The fenced block right after ``<!-- own-stack:NAME -->`` in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text.split(f"<!-- own-stack:{name} -->\n", 1)
    assert len(after) == 2, f"README.md lost its own-stack:{name} marker"
    fence, rest = after[1].split("\n", 1)
    assert fence.startswith("```"), (name, fence)
    return rest.split("\n```\n", 1)[0] + "\n"


def config_set(commands: str) -> tuple[dict, list[str]]:
    """What the ``pulumi config set`` lines set (``--secret`` as secret(...)), and every pulumi command in order."""
    import shlex

    config: dict = {}
    pulumi_commands = []
    for line in commands.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] != ["pulumi"]:
            continue
        pulumi_commands.append(" ".join(words[1:3]))
        if words[1:3] == ["config", "set"]:
            args = words[3:]
            is_secret = "--secret" in args
            key, *words_of_value = (a for a in args if a != "--secret")
            value = " ".join(words_of_value)  # a placeholder such as <your access key> is several words
            config[key] = secret(value) if is_secret else value
    return config, pulumi_commands


def test_the_readmes_own_stack_runs_as_written_from_nothing_to_destroy(emulator, tmp_path):
    from pulumi_bird.emulator import DEFAULT_ACCESS_KEY, DEFAULT_WORKSPACE_ID

    project = tmp_path / "bird-stack"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(readme_block("Pulumi.yaml"), encoding="utf-8")
    (project / "__main__.py").write_text(readme_block("__main__.py"), encoding="utf-8")
    commands = readme_block("emulator")
    assert "python -m pulumi_bird.emulator --port 8787 &" in commands
    config, steps = config_set(commands)
    assert steps == ["stack init", "config set", "config set", "config set", "config set", "up --yes",
                     "stack output", "destroy --yes"]
    # The emulator the README starts answers on port 8787; this test's emulator listens on a free port.
    assert config["bird:apiUrl"] == "http://127.0.0.1:8787"
    config["bird:apiUrl"] = emulator.url
    assert config["bird:accessKey"].value == DEFAULT_ACCESS_KEY == emulator.access_key
    assert config["bird:workspaceId"] == DEFAULT_WORKSPACE_ID == emulator.workspace_id

    result = run_program(str(project), config=config, stack="dev")  # pulumi up --yes
    assert result.outputs["phoneNumber"] == "+3197010520000" and result.outputs["smsChannelId"]
    assert result.warnings == []
    sms = result.state.find("sms")
    assert emulator.backend.get_connector(emulator.workspace_id, sms.id)["arguments"]["phoneNumberId"] == \
        "6a3f2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c"
    assert destroy(result.state, project=project).resources == []  # pulumi destroy --yes: the stack's own config
    assert sms.id not in {c["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id)}

    # Against Bird: the same keys but apiUrl (Bird's own is the default), each a placeholder to fill in.
    bird, bird_steps = config_set(readme_block("bird"))
    assert set(bird) == set(config) - {"bird:apiUrl"}
    assert all(str(getattr(v, "value", v)).startswith("<") for v in bird.values()), bird
    assert isinstance(bird["bird:accessKey"], type(secret("x")))
    assert bird_steps[0] == "stack init" and bird_steps[-3:] == ["preview", "up", "destroy"]
