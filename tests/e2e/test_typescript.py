"""The TypeScript example through the Node.js SDK under the real CLI: examples/typescript-channels with the SDK
Pulumi's generator writes for `pulumi package add` (a local SDK in sdks/bird, compiled as its postinstall does), run
by our Node.js language host (tools/engine/bin/language_host.js: Pulumi's own cannot be built here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pulumi_cli import REPO, SECRET_KEYS, Pulumi, channels_stack_lifecycle, example_config
from sdk_tools import PLUGIN, build_typescript_sdk, generate_sdk, link_node_modules, package_schema

EXAMPLE = REPO / "examples" / "typescript-channels"


def typescript_project(cli: Pulumi, into: Path) -> Path:
    """The example's files as users have them, in a directory of the test's. The scaffolding that differs from a
    user's checkout: `packages:` names this environment's bin directory by its absolute path (the copy is not two
    levels under the repository), sdks/bird is written by bird-gen-sdk instead of `pulumi package add`, and
    node_modules links the cached npm install (tests/e2e/package.json) instead of `npm install`."""
    project = into / "typescript-channels"
    shutil.copytree(EXAMPLE, project)
    manifest = project / "Pulumi.yaml"
    relative = "bird: ../../.venv/bin"
    assert relative in manifest.read_text(), "examples/typescript-channels/Pulumi.yaml: packages: changed"
    manifest.write_text(manifest.read_text().replace(relative, f"bird: {PLUGIN.parent}"))
    sdk = generate_sdk(cli, package_schema(cli, into), "nodejs", project / "sdks" / "bird", package_add=True)
    link_node_modules(project, {"@pulumi/bird": sdk})
    build_typescript_sdk(sdk)
    return project


def test_the_typescript_example_deploys_and_destroys(cli: Pulumi, emulator, tmp_path: Path) -> None:
    stack = cli.stack(typescript_project(cli, tmp_path), "e2e", example_config(emulator), secrets=SECRET_KEYS)
    channels_stack_lifecycle(stack, emulator)
