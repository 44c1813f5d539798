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
    ("bird:apiUrl", "http://collector.example:8081\\@127.0.0.1:8080", "BIRD_API_URL", "pulumi config rm bird:apiUrl"),
    ("bird:apiUrl", "https://user:hunter2-password@api.bird.com", "BIRD_API_URL", "pulumi config rm bird:apiUrl"),
    ("bird:workspaceId", "my-workspace", "BIRD_WORKSPACE_ID", "pulumi config set bird:workspaceId <UUID>"),
    ("bird:organizationId", "acme", "BIRD_ORGANIZATION_ID", "pulumi config set bird:organizationId <UUID>"),
    ("bird:getRateLimit", "100", "BIRD_GET_RATE_LIMIT", "pulumi config set bird:getRateLimit"),
    ("bird:getRateLimit", "fast", "BIRD_GET_RATE_LIMIT", "pulumi config rm bird:getRateLimit"),
])
def test_each_malformed_setting_fails_preview_naming_key_variable_and_fix(bird_config, no_bird_env, key, value, env, fix):
    failures = preview_failures(dict(bird_config, **{key: value}))
    assert failures and {p for p, _ in failures} == {key}, failures
    assert all(env in reason and fix in reason and key in reason for _, reason in failures)
    assert all("hunter2" not in reason for _, reason in failures)  # a password in the URL is not shown


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


# --- one judgement for every path: the lookups judge the program's config as check does ------------------------

LOOKUPS = {
    "get_phone_number": lambda: __import__("pulumi_bird").get_phone_number("+3197010520000"),
    "get_connector": lambda: __import__("pulumi_bird").get_connector("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    "list_connectors": lambda: __import__("pulumi_bird").list_connectors(),
}


def lookup_failure(lookup, cfg: dict) -> str:
    with pytest.raises(ProgramError) as caught:
        run_program(LOOKUPS[lookup], config=cfg)
    return str(caught.value)


@pytest.mark.parametrize("lookup", sorted(LOOKUPS))
def test_a_lookup_names_a_misspelled_key_beside_the_known_one(emulator, bird_config, no_bird_env, lookup):
    emulator.clear_requests()
    cfg = {k: v for k, v in bird_config.items() if k != "bird:accessKey"}
    cfg["bird:acessKey"] = "typo-key"
    message = lookup_failure(lookup, cfg)
    assert "ConfigError" in message and "bird:accessKey is not set" in message, message
    assert "bird:acessKey is not a setting of the bird provider" in message and "did you mean bird:accessKey?" in message
    assert "typo-key" not in message and emulator.requests == []


@pytest.mark.parametrize("lookup", sorted(LOOKUPS))
def test_a_lookup_judges_a_malformed_workspace_offline_as_check_does(emulator, bird_config, no_bird_env, lookup):
    emulator.clear_requests()
    message = lookup_failure(lookup, dict(bird_config, **{"bird:workspaceId": "acme-prod"}))
    (_, expected), = config.config_problems(dict(bird_config, **{"bird:workspaceId": "acme-prod"}), unknown=())
    assert expected in message and "pulumi config set bird:workspaceId <UUID>" in message, message
    assert emulator.requests == []  # no 404 from /workspaces/acme-prod/numbers: nothing was sent


def test_a_lookup_warns_of_an_unknown_key_beside_a_correct_one_once_per_run(emulator, bird_config, no_bird_env):
    import pulumi

    from pulumi_bird import get_phone_number, list_connectors

    def lookups() -> None:
        pulumi.export("id", get_phone_number("+3197010520000").id)
        list_connectors()

    cfg = dict(bird_config, **{"bird:workspaceID": "5f0e4c9e-2b7a-4d1e-9c3b-000000000001"})
    result = run_program(lookups, config=cfg, preview=True)
    assert result.outputs["id"]
    assert result.warnings == ["pulumi-bird: bird:workspaceID is not a setting of the bird provider and is ignored "
                               "(did you mean bird:workspaceId?): `pulumi config rm bird:workspaceID`"]
    # each run of a program warns again (the SDK sets a new stack config per run)
    assert run_program(lookups, config=cfg, preview=True).warnings == result.warnings
    assert run_program(lookups, config=bird_config, preview=True).warnings == []


def test_a_resource_warns_in_the_program_too(bird_config, no_bird_env):
    result = run_program(program, config=dict(bird_config, **{"bird:organisationId": "x"}), preview=True)
    assert [w for w in result.warnings if "bird:organisationId" in w and "did you mean bird:organizationId?" in w]


def test_the_plugin_judges_its_settings_with_the_same_words(bird_config, no_bird_env):
    from pulumi_bird.plugin.settings import check_config
    from pulumi_bird.plugin.values import to_value

    bad = {"workspaceId": "acme-prod", "getRateLimit": "fast", "apiUrl": "http://bird.internal.example"}
    failures = check_config({k: to_value(v) for k, v in bad.items()}).failures
    expected = config.config_problems({f"bird:{k}": v for k, v in bad.items()}, unknown=())
    assert sorted((f.property, f.reason) for f in failures) == sorted((k.split(":")[1], m) for k, m in expected
                                                                      if k.split(":")[1] in bad)
    assert len(failures) == 3
