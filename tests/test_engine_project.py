"""Projects as the Pulumi CLI reads them and provider hosts started as the engine starts them.

The rules are pulumi/pulumi's: sdk/go/common/workspace/project.go (ValidateProject, Project.Validate),
pkg/workspace/config.go (mergeConfig, validateStackConfigValue), pkg/engine/project.go (getPwdMain) and the
pulumi-resource-pulumi-python shim (sdk/python/dist).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from pulumi_bird.testing import (
    HostStartError,
    ProjectError,
    ProviderHost,
    load_project,
    registered_inputs,
    secret,
    shim_command,
    stack_config,
    validate_project,
)

ROOT = Path(__file__).resolve().parents[1]
# The Python projects (examples/yaml-channels and typescript-channels use the native plugin: tests/test_plugin.py;
# examples/fleet is an Automation API program, which makes its projects inline: tests/e2e/test_fleet.py).
PROJECTS = [ROOT, *sorted(p for p in (ROOT / "examples").iterdir()
                          if (p / "__main__.py").is_file() and (p / "Pulumi.yaml").is_file())]
WORKSPACE = {"bird:workspaceId": "0c9d8e7f-2a1b-4c3d-9e8f-7a6b5c4d3e2f",  # Configure must reach the provider
             "bird:accessKey": "test-key"}  # check judges the key (preview fails without one)
BIRD_ENV = {"bird:accessKey": "BIRD_ACCESS_KEY", "bird:apiUrl": "BIRD_API_URL",
            "bird:workspaceId": "BIRD_WORKSPACE_ID", "bird:organizationId": "BIRD_ORGANIZATION_ID"}


def project(tmp_path: Path, text: str, main: str | None = None) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(textwrap.dedent(text))
    program = tmp_path / (main or "")
    program.mkdir(parents=True, exist_ok=True)
    (program / "__main__.py").write_text("")
    return tmp_path


# --- Pulumi.yaml ------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", PROJECTS, ids=lambda p: str(p.relative_to(ROOT)) or "root")
def test_every_pulumi_yaml_in_the_repo_passes_the_clis_validation(directory):
    raw = yaml.safe_load((directory / "Pulumi.yaml").read_text())
    assert validate_project(raw) == []
    loaded = load_project(directory)
    assert loaded.runtime == "python" and os.path.isfile(loaded.entry)


@pytest.mark.parametrize("directory", PROJECTS, ids=lambda p: str(p.relative_to(ROOT)) or "root")
def test_no_project_value_shadows_a_bird_environment_fallback(directory):
    # The CLI merges every Pulumi.yaml value into the stack config, which beats the environment.
    loaded = load_project(directory)
    for key, declaration in loaded.config.items():
        if loaded.full_key(key) in BIRD_ENV:
            assert declaration.get("value") in (None, "") and declaration.get("default") in (None, ""), key


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"bird:apiUrl": {"description": "no value"}},
         "Configuration key 'bird:apiUrl' is namespaced and must provide an attribute 'value'"),
        ({"bird:apiUrl": {"default": "https://api.bird.com"}},
         "Configuration key 'bird:apiUrl' is not namespaced by the project and should not define a default value"),
        ({"bird:apiUrl": {"type": "string", "value": "x"}},
         "Configuration key 'bird:apiUrl' is not namespaced by the project and should not define a type"),
        ({"key": {"default": "a", "value": "b"}}, "project config 'key' cannot have both a 'default' and 'value'"),
        ({"key": {"type": "integer", "default": "many"}},
         "The default value specified for configuration key 'key' is not of the expected type 'integer'"),
        ({"key": {"type": "array"}}, "declares an array but does not specify the underlying type"),
        ({"key": {"type": "text"}}, "#/config/key/type: value must be one of"),
        ({"key": {"typ": "string"}}, "#/config/key: additionalProperties 'typ' not allowed"),
        ({"key": {"type": "string", "secret": True, "default": ""}},
         "configuration key 'key' is secret but declares a plaintext default"),
    ],
)
def test_invalid_projects_fail_with_the_clis_reason(config, reason):
    errors = validate_project({"name": "p", "runtime": "python", "config": config})
    assert len(errors) == 1 and reason in errors[0], errors


def test_shorthand_values_and_missing_names_follow_the_cli():
    # RewriteShorthandConfigValues: a bare value is a project key's default, another namespace's value.
    assert validate_project({"name": "p", "runtime": "python", "config": {"bird:apiUrl": "x", "size": 3}}) == []
    assert validate_project({"runtime": "python"}) == ["project is missing a 'name' attribute"]
    assert validate_project({"name": "", "runtime": "python"}) == [
        "project is missing a non-empty string 'name' attribute"]


def test_load_project_refuses_an_invalid_file(tmp_path):
    project(tmp_path, """
        name: p
        runtime: python
        config:
          bird:apiUrl:
            description: no value
        """)
    with pytest.raises(ProjectError, match="must provide an attribute 'value'"):
        load_project(tmp_path)


# --- stack config -----------------------------------------------------------------------------


def test_stack_config_is_merged_and_validated_as_the_cli_does(tmp_path):
    project(tmp_path, """
        name: p
        runtime: python
        config:
          other:flag: true
          region:
            type: string
            default: eu
          count:
            type: integer
          token:
            type: string
            secret: true
        """)
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  p:count: 2\n  p:region: us\n")
    loaded = load_project(tmp_path)
    values, secure = stack_config(loaded, "dev", {"token": secret("t0k"), "count": 3})
    # Stack file, then config= (like `pulumi config set`), then Pulumi.yaml's values and defaults.
    assert values == {"p:count": "3", "p:region": "us", "p:token": "t0k", "other:flag": "true"}
    assert secure == {"p:token"}

    with pytest.raises(ProjectError, match="Stack 'dev' with configuration key 'token' must be encrypted as it's secret"):
        stack_config(loaded, "dev", {"token": "t0k"})
    with pytest.raises(ProjectError, match="Stack 'dev' with configuration key 'count' must be of type 'integer'"):
        stack_config(loaded, "dev", {"token": secret("t"), "count": "many"})
    (tmp_path / "Pulumi.dev.yaml").unlink()
    with pytest.raises(ProjectError, match="Stack 'dev' is missing configuration values 'count' and 'token'"):
        stack_config(loaded, "dev", {})


def test_root_project_config_sets_no_bird_key(tmp_path):
    values, _ = stack_config(load_project(ROOT), "dev", {"smsPhoneNumberId": "a", "voicePhoneNumberId": "b"})
    assert not [k for k in values if k.startswith("bird:")]
    assert values["bird-channels:smsMessageType"] == "transactional"


# --- where and how the engine starts the provider host -----------------------------------------


def test_shim_resolves_the_virtualenv_from_the_main_directory(tmp_path):
    main = tmp_path / "examples" / "channels"
    main.mkdir(parents=True)
    with pytest.raises(HostStartError, match=f'set to "{main}/.venv", but "{main}/.venv" doesn\'t exist'):
        shim_command(str(main), {"PULUMI_RUNTIME_VIRTUALENV": ".venv/"})
    (main / ".venv").mkdir()
    with pytest.raises(HostStartError, match="doesn't appear to be a virtual environment"):
        shim_command(str(main), {"PULUMI_RUNTIME_VIRTUALENV": ".venv"})
    (main / ".venv" / "bin").mkdir()
    (main / ".venv" / "bin" / "python").write_text("")
    argv, env = shim_command(str(main), {"PULUMI_RUNTIME_VIRTUALENV": ".venv", "PATH": "/usr/bin", "PYTHONHOME": "/x"})
    assert argv == [f"{main}/.venv/bin/python", "-u", "-m", "pulumi.dynamic"]
    assert env["PATH"] == f"{main}/.venv/bin:/usr/bin" and "PYTHONHOME" not in env
    # uv means .venv; no virtualenv at all means PULUMI_PYTHON_CMD, else python3.
    assert shim_command(str(main), {"PULUMI_RUNTIME_TOOLCHAIN": "uv"})[0][0] == f"{main}/.venv/bin/python"
    assert shim_command(str(main), {"PULUMI_PYTHON_CMD": "/opt/py"})[0][0] == "/opt/py"
    assert shim_command(str(main), {})[0][0] == "python3"


def test_the_old_root_layout_cannot_start_its_host(tmp_path):
    # `main: examples/channels/` with `virtualenv: .venv` (pulumi/pulumi#7061): the repo's .venv exists at the
    # root, but the engine looks for it in the main directory.
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    project(tmp_path, """
        name: old-root
        main: examples/channels/
        runtime:
          name: python
          options:
            toolchain: pip
            virtualenv: .venv
        """, main="examples/channels")
    host = ProviderHost.for_project(tmp_path)
    assert host.cwd == str(tmp_path / "examples" / "channels")
    assert host.env["PULUMI_RUNTIME_VIRTUALENV"] == ".venv" and host.env["PULUMI_PROJECT"] == "old-root"
    with pytest.raises(HostStartError, match=f"{tmp_path}/examples/channels/.venv\" doesn't exist"):
        host.start()


def _sms_check(host: ProviderHost) -> None:
    """One Check of a real SmsChannel: the host could import pulumi_bird and unpickle its provider."""
    from pulumi_bird import SmsChannel

    reg = registered_inputs(lambda: SmsChannel("sms", phone_number_id="6a3f2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c",
                                               channel_message_type="transactional"))["sms"]
    assert host.check(reg.urn, reg.inputs).failures == []


def test_root_project_host_starts_through_the_shim_from_its_main_directory():
    # No virtualenv option: the shim runs PULUMI_PYTHON_CMD, as the language host does for the program.
    with ProviderHost.for_project(ROOT, WORKSPACE, env={"PULUMI_PYTHON_CMD": sys.executable}) as host:
        assert host.cwd == str(ROOT / "examples" / "channels")
        assert host.argv == [sys.executable, "-u", "-m", "pulumi.dynamic"]
        _sms_check(host)
    # python3 on PATH is what runs when PULUMI_PYTHON_CMD is unset: an activated .venv.
    bin_dir = Path(sys.executable).parent
    with ProviderHost.for_project(ROOT, WORKSPACE, env={"PULUMI_PYTHON_CMD": "", "PATH": f"{bin_dir}:{os.environ['PATH']}"}) as host:
        assert host.argv[0] == "python3"
        _sms_check(host)


@pytest.mark.parametrize("example", PROJECTS[1:], ids=lambda p: p.name)
def test_example_host_starts_through_the_shim_as_shipped(example):
    # No `virtualenv` option (a relative one would have to exist beside each example): the shim runs
    # PULUMI_PYTHON_CMD, else python3 on PATH, i.e. the activated .venv, as for the root project.
    loaded = load_project(example)
    assert "virtualenv" not in loaded.runtime_options and loaded.main_dir == str(example)
    with ProviderHost.for_project(example, WORKSPACE, env={"PULUMI_PYTHON_CMD": sys.executable}) as host:
        assert host.cwd == str(example) and host.argv[0] == sys.executable
        _sms_check(host)


# --- importing the toolkit ---------------------------------------------------------------------


def test_testing_toolkit_and_emulator_helpers_import_without_pytest():
    code = textwrap.dedent("""
        import sys
        sys.modules["pytest"] = None  # any `import pytest` now raises ImportError
        import pulumi_bird.testing as testing
        from pulumi_bird.testing import run_program, ProviderHost, State, ProgramError, secret
        from pulumi_bird.testing.fixtures import start_emulator
        with start_emulator(provision_seconds=0.1) as emulator:
            assert emulator.url.startswith("http://127.0.0.1:")
        for name in testing.__all__:
            getattr(testing, name)
        try:
            import pulumi_bird.testing.plugin
        except ImportError:
            print("plugin needs pytest")
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["plugin", "needs", "pytest", "ok"]
