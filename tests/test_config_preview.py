"""Configuration mistakes that can be judged offline fail check, so `pulumi preview` fails before any request;
unknown ``bird:*`` keys are named beside the key they most likely misspell."""

from __future__ import annotations

import pytest

from pulumi_bird.provider import config
from pulumi_bird.testing import ProgramError, ProviderHost, registered_inputs, run_program

NUMBER = "6a3f2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c"
NO_ENV = {"BIRD_ACCESS_KEY": "", "BIRD_API_URL": "", "BIRD_WORKSPACE_ID": "", "BIRD_ORGANIZATION_ID": "",
          "BIRD_GET_RATE_LIMIT": ""}


def program() -> None:
    from pulumi_bird import SmsChannel, WebhookSubscription

    SmsChannel("sms", phone_number_id=NUMBER, channel_message_type="transactional")
    WebhookSubscription("hook", service="channels", event="channel.updated", url="https://hooks.example.com/x")


@pytest.fixture
def no_bird_env(monkeypatch):
    for name in NO_ENV:
        monkeypatch.delenv(name, raising=False)


def preview_failures(cfg: dict) -> list[tuple[str, str]]:
    with pytest.raises(ProgramError) as caught:
        run_program(program, config=cfg, preview=True, host_env=dict(NO_ENV, PYTHONPATH=":".join(__import__("sys").path)))
    return caught.value.failures


def test_preview_fails_without_an_access_key_and_sends_nothing(emulator, bird_config, no_bird_env):
    emulator.clear_requests()
    cfg = {k: v for k, v in bird_config.items() if k != "bird:accessKey"}
    failures = preview_failures(cfg)
    assert [p for p, _ in failures] == ["bird:accessKey"]
    reason = failures[0][1]
    assert "BIRD_ACCESS_KEY" in reason and "pulumi config set --secret bird:accessKey" in reason
    # The emulator is no exception: it wants a key too, and the message says where it is.
    assert "emulator" in reason
    assert emulator.requests == []


def test_a_misspelled_key_is_named_beside_the_known_one(bird_config, no_bird_env):
    cfg = {k: v for k, v in bird_config.items() if k != "bird:accessKey"}
    cfg["bird:acessKey"] = "typo-key"
    (prop, reason), = preview_failures(cfg)
    assert prop == "bird:accessKey"
    assert "bird:acessKey is not a setting of the bird provider" in reason and "did you mean bird:accessKey?" in reason
    assert "typo-key" not in reason


def test_with_a_key_an_unknown_key_is_a_warning_on_the_hosts_stderr(bird_config):
    cfg = dict(bird_config, **{"bird:apiURL": "https://api.bird.com", "bird:whatever": "x"})
    reg = registered_inputs(program)["sms"]
    with ProviderHost(config=cfg, env=dict(NO_ENV)) as host:
        assert host.check(reg.urn, reg.inputs).failures == []
        host.check(reg.urn, reg.inputs)
        text = host.stderr_text()
    assert "warning: pulumi-bird: bird:apiURL is not a setting of the bird provider" in text
    assert "did you mean bird:apiUrl?" in text and "`pulumi config rm bird:apiURL`" in text
    assert "bird:whatever is not a setting" in text and "the provider reads bird:accessKey" in text
    assert text.count("bird:apiURL is not") == 1  # once per process, not per call


@pytest.mark.parametrize("key,value,env,fix", [
    ("bird:apiUrl", "http://bird.internal.example", "BIRD_API_URL", "pulumi config set bird:apiUrl https://"),
    ("bird:apiUrl", "ftp://127.0.0.1", "BIRD_API_URL", "pulumi config rm bird:apiUrl"),
    ("bird:apiUrl", "https://api.bird.com/v1", "BIRD_API_URL", "/workspaces/{workspaceId}/connectors"),
    ("bird:apiUrl", "https://proxy.example.com/bird/workspaces", "BIRD_API_URL", "use https://api.bird.com"),
    ("bird:workspaceId", "my-workspace", "BIRD_WORKSPACE_ID", "pulumi config set bird:workspaceId <UUID>"),
    ("bird:organizationId", "acme", "BIRD_ORGANIZATION_ID", "pulumi config set bird:organizationId <UUID>"),
    ("bird:getRateLimit", "100", "BIRD_GET_RATE_LIMIT", "pulumi config set bird:getRateLimit"),
    ("bird:getRateLimit", "fast", "BIRD_GET_RATE_LIMIT", "pulumi config rm bird:getRateLimit"),
])
def test_each_malformed_setting_fails_preview_naming_key_variable_and_fix(bird_config, no_bird_env, key, value, env, fix):
    failures = preview_failures(dict(bird_config, **{key: value}))
    assert failures and {p for p, _ in failures} == {key}, failures
    assert all(env in reason and fix in reason and key in reason for _, reason in failures)


def test_settings_from_the_environment_are_judged_too(bird_config, monkeypatch):
    monkeypatch.setenv("BIRD_GET_RATE_LIMIT", "0")
    cfg = {k: v for k, v in bird_config.items() if k != "bird:accessKey"}
    monkeypatch.setenv("BIRD_ACCESS_KEY", bird_config["bird:accessKey"].value)  # the key itself, not its wrapper
    assert [k for k, _ in config.config_problems(cfg)] == ["bird:getRateLimit"]


def test_a_good_configuration_has_no_problem_and_a_key_that_cannot_be_a_header_is_one(bird_config, no_bird_env):
    assert config.config_problems(bird_config) == []
    bad = dict(bird_config, **{"bird:accessKey": "sk-live\nsecond"})
    (key, reason), = config.config_problems(bad)
    assert key == "bird:accessKey" and "line break" in reason and "sk-live" not in reason


def test_closest_key():
    assert config.closest_key("bird:acessKey") == "bird:accessKey"
    assert config.closest_key("bird:APIURL") == "bird:apiUrl"
    assert config.closest_key("bird:workspace") == "bird:workspaceId"
    assert config.closest_key("bird:colour") is None
