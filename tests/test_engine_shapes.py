"""An independent driver: the engine's request shapes, written here from pulumi/pulumi's Go source and not taken
from the engine double's runner, sent straight to the SDK's provider host (ProviderHost, one RPC at a time)
against the independent Bird double.

The shapes (file and function of pulumi/pulumi they come from):

- create: Check(news = program inputs, no olds), then Create(properties = checked inputs)
  (pkg/resource/deploy/step_generator.go continueStepsFromImport; step.go CreateStep.Apply).
- up of an existing resource: Check(olds = old *inputs*, news = program inputs), then Diff(olds = old
  *outputs*, old_inputs = old inputs, news = checked inputs) (continueStepsFromImport; step_generator.go
  diffResource); DIFF_UNKNOWN means the engine compares the inputs itself.
- refresh: Read(properties = old outputs, inputs = old inputs); returned inputs replace the stored ones
  (step.go RefreshStep.Apply).
- get(): Read(properties = inputs = the registered properties) (step.go ReadStep.Apply); the engine fails only
  when the response has no properties.
- import_: Read(id only) (step.go ImportStep.Apply).
- Configure: the whole stack config, namespaces kept (pkg/resource/deploy/target.go GetPackageConfig), where
  Pulumi.yaml's values and defaults are merged under the stack's (pkg/workspace/config.go mergeConfig).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bird_double import KEY, ORG, WS, BirdDouble
from engine_double import ProgramError, ProviderError, ProviderHost, run_program
from pulumi_bird import SmsChannel, WebhookSubscription, event_filter

ROOT = Path(__file__).resolve().parents[1]
NUMBER = "3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f"


def up_new(host: ProviderHost, reg) -> dict[str, Any]:
    """Check(no olds) then Create(checked inputs); the stack's record of the resource."""
    checked = host.check(reg.urn, reg.inputs)  # continueStepsFromImport, old == nil: News only
    assert checked.failures == []
    created = host.create(reg.urn, checked.inputs)  # CreateStep.Apply: Properties = new.Inputs
    return {"id": created.id, "inputs": checked.inputs, "outputs": created.outs}


def up_existing(host: ProviderHost, reg, old: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Check(olds = old inputs, news) then Diff(old outputs, old inputs, checked); the engine's verdict."""
    checked = host.check(reg.urn, reg.inputs, olds=old["inputs"])
    assert checked.failures == []
    diff = host.diff(reg.urn, old["id"], old["outputs"], checked.inputs, old_inputs=old["inputs"])
    if diff.changes == "unknown":  # diffResource: compare the inputs
        return ("none" if old["inputs"] == checked.inputs else "some"), checked.inputs
    return ("replace" if diff.replaces and diff.changes == "some" else diff.changes), checked.inputs


def refresh(host: ProviderHost, urn: str, old: dict[str, Any]) -> dict[str, Any]:
    found = host.read(urn, old["id"], old["outputs"], old["inputs"])  # RefreshStep.Apply
    assert found.id == old["id"]
    return {"id": found.id, "outputs": found.outs, "inputs": found.inputs if found.inputs is not None else old["inputs"]}


def sms_program(**kw: Any):
    kw.setdefault("phone_number_id", NUMBER)
    kw.setdefault("channel_message_type", "transactional")
    return lambda: SmsChannel("sms", **kw)


def hook_program(**kw: Any):
    kw.setdefault("url", "https://hooks.example.com/a")
    return lambda: WebhookSubscription("hook", service="channels", event="channel.updated",
                                       event_filters=[event_filter("channelStatus", "active")], **kw)


def writes(double: BirdDouble) -> list[tuple[str, str]]:
    return [(s.method, s.path) for s in double.seen if s.method in ("POST", "PATCH", "DELETE")]


def test_refresh_then_an_unchanged_up_is_a_no_op(host, double, inputs_of):
    for program in (sms_program(), hook_program(signing_key="whsec-shapes-1-8b3e0f6a2c9d41e7b5a0")):
        reg = inputs_of(program)
        record = up_new(host, reg)
        refreshed = refresh(host, reg.urn, record)
        verdict, _ = up_existing(host, reg, refreshed)
        assert verdict == "none", reg.type
        host.delete(reg.urn, record["id"], refreshed["outputs"], old_inputs=refreshed["inputs"])  # DeleteStep.Apply


def _project_config() -> dict[str, str]:
    """pkg/workspace/config.go mergeConfig, written out: every Pulumi.yaml key the stack lacks takes its `value`
    or `default` (keys without a namespace belong to the project); here the stack sets the program's keys."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    stack = {f"{project['name']}:smsPhoneNumberId": NUMBER, f"{project['name']}:voicePhoneNumberId": NUMBER}
    merged = dict(stack)
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{project['name']}:{key}"
        if not isinstance(declaration, dict):
            declaration = {"default" if ":" not in key else "value": declaration}
        value = declaration.get("value", declaration.get("default"))
        if full not in merged and value is not None:
            merged[full] = str(value)
    return merged


def test_root_project_host_with_bird_environment_reaches_bird_api_url(double, inputs_of):
    config = _project_config()
    assert not [k for k in config if k.startswith("bird:")]  # nothing in Pulumi.yaml shadows BIRD_*
    env = {"BIRD_API_URL": double.url, "BIRD_ACCESS_KEY": KEY, "BIRD_WORKSPACE_ID": WS, "BIRD_ORGANIZATION_ID": ORG,
           "PULUMI_PYTHON_CMD": sys.executable}
    # Started as the engine starts it: through the shim's logic, in the main directory, PULUMI_PROJECT set.
    with ProviderHost.for_project(ROOT, config, env) as host:
        assert host.cwd == str(ROOT / "examples" / "channels")
        record = up_new(host, inputs_of(sms_program()))
        posts = [s for s in double.seen if s.method == "POST"]
        assert posts and posts[0].path == f"/workspaces/{WS}/connectors"
        assert posts[0].authorization.endswith(KEY)
        host.delete(inputs_of(sms_program()).urn, record["id"], record["outputs"], old_inputs=record["inputs"])


def test_import_id_only_read_fails_in_the_sdk_host_and_run_program_refuses(host, double, inputs_of):
    reg = inputs_of(sms_program())
    record = up_new(host, reg)
    double.seen.clear()
    with pytest.raises(ProviderError, match="KeyError: '__provider'"):
        host.read(reg.urn, record["id"])  # ImportStep.Apply: ID only, neither State nor Inputs
    assert double.seen == []
    import pulumi

    with pytest.raises(ProgramError, match=r"adopt_id=.*instead of import_"):
        run_program(lambda: SmsChannel("sms", phone_number_id=NUMBER, channel_message_type="transactional",
                                       opts=pulumi.ResourceOptions(import_=record["id"])), host=host)
    host.delete(reg.urn, record["id"], record["outputs"], old_inputs=record["inputs"])


# --- adoption and get() (the provider's adopt_id and lookups), in the engine's shapes ----------------


def test_adoption_of_objects_made_out_of_band(host, double, inputs_of):
    made_sms = up_new(host, inputs_of(sms_program(name="dashboard sms")))
    made_hook = up_new(host, inputs_of(hook_program()))
    double.seen.clear()

    sms = inputs_of(sms_program(name="dashboard sms", adopt_id=made_sms["id"]))
    adopted_sms = up_new(host, sms)
    hook = inputs_of(hook_program(url="https://hooks.example.com/b", adopt_id=made_hook["id"]))
    adopted_hook = up_new(host, hook)
    assert (adopted_sms["id"], adopted_hook["id"]) == (made_sms["id"], made_hook["id"])
    # No POST: the connector is taken as it is; the subscription's url is PATCHed.
    assert writes(double) == [("PATCH", f"/organizations/{ORG}/workspaces/{WS}/webhook-subscriptions/{made_hook['id']}")]
    assert double.subscriptions[made_hook["id"]]["url"] == "https://hooks.example.com/b"

    # Removing adopt_id later changes nothing.
    double.seen.clear()
    for program, record in ((sms_program(name="dashboard sms"), adopted_sms),
                            (hook_program(url="https://hooks.example.com/b"), adopted_hook)):
        verdict, _ = up_existing(host, inputs_of(program), record)
        assert verdict == "none"
    assert writes(double) == []
    for reg, record in ((sms, adopted_sms), (hook, adopted_hook)):
        host.delete(reg.urn, record["id"], record["outputs"], old_inputs=record["inputs"])


def test_mismatched_or_missing_adoption_and_missing_get_fail_naming_it(host, double, inputs_of):
    made = up_new(host, inputs_of(sms_program(name="dashboard sms")))
    double.seen.clear()
    mismatched = inputs_of(sms_program(name="another name", adopt_id=made["id"]))
    checked = host.check(mismatched.urn, mismatched.inputs)
    with pytest.raises(ProviderError, match="name") as caught:
        host.create(mismatched.urn, checked.inputs)
    assert "another name" in caught.value.message and "dashboard sms" in caught.value.message
    assert writes(double) == []

    missing = "5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
    absent = inputs_of(sms_program(phone_number_id="7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", adopt_id=missing))
    with pytest.raises(ProviderError, match=missing):
        host.create(absent.urn, host.check(absent.urn, absent.inputs).inputs)
    get = inputs_of(lambda: SmsChannel.get("ghost", missing))
    with pytest.raises(ProviderError, match=missing):
        host.read(get.urn, missing, get.inputs, get.inputs)  # ReadStep.Apply: Inputs and State = the props
    assert writes(double) == []
    reg = inputs_of(sms_program(name="dashboard sms"))
    host.delete(reg.urn, made["id"], made["outputs"], old_inputs=made["inputs"])
