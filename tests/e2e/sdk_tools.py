"""Generated SDKs for the e2e tests: the package schema from the real CLI, an SDK per language from ``bird-gen-sdk``
(Pulumi's own code generators, which ``make engine`` builds beside the CLI), and the npm modules they build with.

The npm modules (``package.json`` here, pinned) are installed once into a cache outside the clone,
``~/.cache/pulumi-bird/npm/<hash of package.json>`` (``PULUMI_BIRD_NPM_CACHE`` moves it), and reused by every run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pulumi_cli import Pulumi

HERE = Path(__file__).resolve().parent
NPM_PACKAGE = HERE / "package.json"
PLUGIN = Path(sys.executable).parent / "pulumi-resource-bird"
# A first npm install or Go build downloads and compiles: minutes on 2 cores.
BUILD_TIMEOUT = 900.0


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True, timeout=BUILD_TIMEOUT,
                          check=False)
    if done.returncode != 0:
        raise AssertionError(f"`{' '.join(command)}` in {cwd} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def node_modules() -> Path:
    """The pinned npm modules, installed on first use into the cache (a half-done install is never reused)."""
    digest = hashlib.sha256(NPM_PACKAGE.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("PULUMI_BIRD_NPM_CACHE", Path.home() / ".cache" / "pulumi-bird" / "npm"))
    home = cache / digest
    if not (home / "node_modules" / "@pulumi" / "pulumi" / "package.json").is_file():
        partial = cache / f"{digest}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        shutil.copy(NPM_PACKAGE, partial / "package.json")
        run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=partial)
        shutil.rmtree(home, ignore_errors=True)
        partial.rename(home)
    return home / "node_modules"


def link_node_modules(project: Path, packages: dict[str, Path]) -> None:
    """``project/node_modules``: each cached module linked in, and ``packages`` (npm name -> directory) beside them,
    as ``npm install`` of a ``file:`` dependency links it."""
    cached = node_modules()
    target = project / "node_modules"
    target.mkdir()
    for entry in cached.iterdir():
        if entry.name == "@pulumi":
            (target / "@pulumi").mkdir()
            for scoped in entry.iterdir():
                (target / "@pulumi" / scoped.name).symlink_to(scoped)
        else:
            (target / entry.name).symlink_to(entry)
    for name, directory in packages.items():
        (target / name).symlink_to(directory, target_is_directory=True)


def package_schema(cli: Pulumi, into: Path) -> Path:
    """``pulumi package get-schema`` of this environment's ``pulumi-resource-bird``, as a file."""
    path = into / "schema.json"
    path.write_text(cli("package", "get-schema", str(PLUGIN), cwd=into).stdout)
    return path


def generate_sdk(cli: Pulumi, schema: Path, language: str, out: Path, package_add: bool = False) -> Path:
    """The SDK for ``language`` (nodejs, python, go) in ``out``; ``package_add``: as ``pulumi package add`` writes it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = ["--package-add"] if package_add else []
    run([str(cli.bin / "bird-gen-sdk"), "--language", language, *flags, str(schema), str(out)], cwd=out.parent)
    return out


def build_typescript_sdk(sdk: Path) -> None:
    """What a local SDK's postinstall does: ``tsc`` into ``bin/`` and package.json beside the output."""
    tsc = node_modules() / "typescript" / "bin" / "tsc"
    run(["node", str(tsc), "--types", "node"], cwd=sdk)
    shutil.copy(sdk / "package.json", sdk / "bin" / "package.json")
