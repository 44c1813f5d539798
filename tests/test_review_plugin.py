"""Adversarial review of ``pulumi-resource-bird`` over gRPC against the emulator: secrets held in state, echoed
back by Bird in an error, stay out of the error details and the plugin's output."""

from __future__ import annotations

import grpc
import pytest
from plugin_engine import secret

SIGNING_KEY = "whsec-review-plugin-" + "1a3c5e7f9b0d2e4f"


@pytest.fixture(autouse=True)
def _clean_faults(emulator):
    emulator.faults.clear()
    yield
    emulator.faults.clear()


def test_a_delete_error_echoing_the_stored_signing_key_does_not_leak_through_the_plugin(plugin, emulator):
    news = {"service": "channels", "event": "channel.created", "url": "https://hooks.example.com/review-plugin",
            "signingKey": secret(SIGNING_KEY)}
    id_, outs, _ = plugin.up("WebhookSubscription", "signed", news)
    urn = plugin.urn("WebhookSubscription", "signed")
    emulator.faults.add("DELETE", r"/webhook-subscriptions/", 400,
                        body={"code": "InvalidRequest", "message": f"rejected {SIGNING_KEY}"})
    with pytest.raises(grpc.RpcError) as caught:
        plugin.delete(urn, id_, outs)
    assert "rejected" in caught.value.details() and SIGNING_KEY not in caught.value.details()
    assert SIGNING_KEY not in "".join(plugin.stderr + plugin.stdout)
    plugin.delete(urn, id_, outs)


def test_a_misspelled_setting_is_named_beside_the_one_it_means_without_its_value(plugin):
    _, failures = plugin.check_config({"acessKey": "k-review-misspelled-0a1b2c"})
    assert [key for key, _ in failures] == ["acessKey"]
    assert "did you mean accessKey?" in failures[0][1] and "k-review-misspelled" not in failures[0][1], failures


@pytest.mark.parametrize("security", ["sk-review-plain-0c4e", ["sk-review-plain-0c4e"], {"oauth": "sk-review-plain-0c4e"}])
def test_security_arguments_of_the_wrong_shape_are_not_shown(plugin, security):
    """A credential given where a mapping of mappings belongs (a YAML program passing its secret straight in)."""
    news = {"connectorTemplateRef": "whatsapp:1", "securityArguments": secret(security)}
    _, failures = plugin.check(plugin.urn("Connector", "bad-security"), news)
    assert failures and all(p.startswith("securityArguments") for p, _ in failures), failures
    assert "sk-review-plain" not in repr(failures)
