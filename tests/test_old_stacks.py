"""Stacks made by earlier layouts keep working. The engine refreshes and deletes with the provider pickled into the
*old* state (``__provider``: dill's bytes, which name the provider's module and class), so every class path ever
pickled must still load, and Read and Delete must run with it. Each blob below was made with dill from the commit
that wrote it (``git worktree add /tmp/old <rev>``; the SDK's ``dill.dumps(provider, protocol=pickle.DEFAULT_PROTOCOL,
recurse=True)``). Every resource registered today is run with its own, current pickle as well."""

from __future__ import annotations

import base64
import pickle

import dill
import pytest

from helpers import example_inputs, resource_classes

# class path -> the resource class whose provider it is now, and the bytes an earlier version pickled
PICKLED_BEFORE = {
    # 0.1 (531c0f6, the first layout, until 702d10d): the channels shared one module
    "pulumi_bird.channels.SmsChannelProvider": (
        "SmsChannel", "gASVMgAAAAAAAACMFHB1bHVtaV9iaXJkLmNoYW5uZWxzlIwSU21zQ2hhbm5lbFByb3ZpZGVylJOUKYGULg=="),
    "pulumi_bird.channels.VoiceChannelProvider": (
        "VoiceChannel", "gASVNAAAAAAAAACMFHB1bHVtaV9iaXJkLmNoYW5uZWxzlIwUVm9pY2VDaGFubmVsUHJvdmlkZXKUk5QpgZQu"),
    "pulumi_bird.connector.ConnectorProvider": (
        "Connector", "gASVMgAAAAAAAACMFXB1bHVtaV9iaXJkLmNvbm5lY3RvcpSMEUNvbm5lY3RvclByb3ZpZGVylJOUKYGULg=="),
    "pulumi_bird.webhook_subscription.WebhookSubscriptionProvider": (
        "WebhookSubscription",
        "gASVRwAAAAAAAACMIHB1bHVtaV9iaXJkLndlYmhvb2tfc3Vic2NyaXB0aW9ulIwbV2ViaG9va1N1YnNjcmlwdGlvblByb3ZpZGVylJOUKYGULg=="),
    # the layered layout (5ca3e7f): one module per resource
    "pulumi_bird.sms_channel.SmsChannelProvider": (
        "SmsChannel", "gASVNQAAAAAAAACMF3B1bHVtaV9iaXJkLnNtc19jaGFubmVslIwSU21zQ2hhbm5lbFByb3ZpZGVylJOUKYGULg=="),
    "pulumi_bird.voice_channel.VoiceChannelProvider": (
        "VoiceChannel", "gASVOQAAAAAAAACMGXB1bHVtaV9iaXJkLnZvaWNlX2NoYW5uZWyUjBRWb2ljZUNoYW5uZWxQcm92aWRlcpSTlCmBlC4="),
}


def current_pickle(cls) -> str:
    return base64.b64encode(dill.dumps(cls.bird_provider(), protocol=pickle.DEFAULT_PROTOCOL, recurse=True)).decode()


CASES = [(path, name, blob) for path, (name, blob) in PICKLED_BEFORE.items()] + [
    (f"{cls.bird_provider.__module__}.{cls.bird_provider.__qualname__} (today)", cls.__name__, current_pickle(cls))
    for cls in resource_classes()
]


@pytest.mark.parametrize("path,resource,blob", CASES, ids=[c[0] for c in CASES])
def test_read_and_delete_run_with_the_provider_an_older_version_pickled(host, double, inputs_of, path, resource, blob):
    provider = dill.loads(base64.b64decode(blob))
    cls = next(c for c in resource_classes() if c.__name__ == resource)
    assert isinstance(provider, cls.bird_provider)  # the old path leads to today's provider of that resource
    reg = inputs_of(lambda: cls("old", **example_inputs(cls)))
    checked = host.check(reg.urn, reg.inputs)
    assert checked.failures == []
    made = host.create(reg.urn, checked.inputs)
    old_state = {**made.outs, "__provider": blob}  # as the stack written by that version holds it

    read = host.read(reg.urn, made.id, properties=old_state)
    assert read.id == made.id and {k: read.outs.get(k) for k in checked.inputs if k != "__provider"} == {
        k: made.outs.get(k) for k in checked.inputs if k != "__provider"}
    host.delete(reg.urn, made.id, old_state)
    gone = host.read(reg.urn, made.id, properties=old_state)
    assert gone.id == ""  # deleted on Bird: a refresh drops it


def test_todays_providers_are_pickled_by_reference():
    """Nothing of the provider's code or schema lands in state: only its module and class name (a few dozen bytes)."""
    for cls in resource_classes():
        raw = base64.b64decode(current_pickle(cls))
        assert len(raw) < 120 and cls.bird_provider.__module__.encode() in raw, (cls, len(raw))


def test_every_resource_today_has_a_pickle_held_here():
    """Renaming a provider's module or class would strand the stacks that pickled it: hold its bytes above first."""
    held = {path for path in PICKLED_BEFORE}
    for cls in resource_classes():
        assert f"{cls.bird_provider.__module__}.{cls.bird_provider.__qualname__}" in held or \
            cls.__name__ not in {name for name, _ in PICKLED_BEFORE.values()}, cls
