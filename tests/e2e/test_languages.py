"""The native plugin under the real CLI, from other languages: the YAML example as its README runs it."""

from __future__ import annotations

from pulumi_cli import REPO, SECRET_KEYS, Pulumi, channels_stack_lifecycle, example_config


def test_the_yaml_example_deploys_and_destroys(cli: Pulumi, emulator) -> None:
    """examples/yaml-channels in place (its `packages:` names ../../.venv/bin), with the pinned YAML host."""
    stack = cli.stack(REPO / "examples" / "yaml-channels", "e2e", example_config(emulator), secrets=SECRET_KEYS)
    channels_stack_lifecycle(stack, emulator)
