"""``make demo``: deploy the root Pulumi.yaml program on the embedded Bird emulator and print its outputs.

With the Pulumi CLI on PATH it runs ``pulumi up`` against a throwaway local file backend; without it, the
program runs through :func:`pulumi_bird.testing.run_program` (the SDK's mock monitor, with every resource
sent to the real dynamic provider host). Either way nothing leaves this machine.

    python -m pulumi_bird.demo [--project DIR] [--provision-seconds S] [--runner|--cli]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Optional

from .emulator import BirdEmulator

# Phone numbers the demo installs channels on, as people know them (E.164): the program finds their ids with
# get_phone_number in the emulator's default numbers inventory (pulumi_bird.emulator.DEFAULT_NUMBERS).
DEMO_SMS_NUMBER = "+3197010520000"
DEMO_VOICE_NUMBER = "+3197010520001"
DEMO_SIGNING_KEY = "demo-signing-key-for-the-emulator-only"  # the emulator's deliveries are not real: a fixed key is fine here


# The keys `pulumi config set --secret` sets (the runner is told the same with testing.secret()).
SECRET_KEYS = ("bird:accessKey", "webhookSigningKey")


def demo_config(emulator: BirdEmulator) -> dict[str, str]:
    """Stack config for the root program, pointed at ``emulator``."""
    return {
        "bird:accessKey": emulator.access_key,
        "bird:apiUrl": emulator.url,
        "bird:workspaceId": emulator.workspace_id,
        "bird:organizationId": emulator.organization_id,
        "smsPhoneNumberId": DEMO_SMS_NUMBER,
        "voicePhoneNumberId": DEMO_VOICE_NUMBER,
        "webhookSigningKey": DEMO_SIGNING_KEY,
    }


def run_with_runner(project: Path, config: dict[str, str]) -> dict[str, Any]:
    from .testing import run_program, secret

    stack_config = {k: secret(v) if k in SECRET_KEYS else v for k, v in config.items()}
    result = run_program(str(project), config=stack_config, stack="demo")
    return result.outputs


def run_with_cli(project: Path, config: dict[str, str], pulumi: str) -> dict[str, Any]:
    """``pulumi up`` on a local file backend in a temporary directory, removed afterwards."""
    backend = Path(tempfile.mkdtemp(prefix="pulumi-bird-demo-"))
    env = dict(os.environ, PULUMI_BACKEND_URL=backend.as_uri(), PULUMI_CONFIG_PASSPHRASE="demo",
               PULUMI_SKIP_UPDATE_CHECK="true")
    # The root Pulumi.yaml names no virtualenv (see its comment: the engine would resolve one from the main
    # directory for the provider host, pulumi/pulumi#7061), so the language host and the provider shim both
    # run PULUMI_PYTHON_CMD, else python3 on PATH: point both at this interpreter, which has pulumi_bird.
    env.setdefault("PULUMI_PYTHON_CMD", sys.executable)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    stack = f"demo-{uuid.uuid4().hex[:8]}"

    def cli(*args: str, capture: bool = False) -> str:
        done = subprocess.run([pulumi, *args, "--cwd", str(project), "--non-interactive"], env=env, check=True,
                              text=True, stdout=subprocess.PIPE if capture else None)
        return done.stdout or ""

    try:
        cli("stack", "init", stack)
        for key, value in config.items():
            secret = ["--secret"] if key in SECRET_KEYS else []
            cli("config", "set", *secret, "--stack", stack, key, value)
        cli("up", "--yes", "--stack", stack, "--skip-preview")
        outputs = json.loads(cli("stack", "output", "--json", "--show-secrets", "--stack", stack, capture=True))
        cli("destroy", "--yes", "--stack", stack)
        cli("stack", "rm", "--yes", stack)
        return outputs
    finally:
        shutil.rmtree(backend, ignore_errors=True)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "make demo").splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="directory of the Pulumi.yaml (default: .)")
    parser.add_argument("--provision-seconds", type=float, default=1.0, help="how long the emulator provisions a channel")
    way = parser.add_mutually_exclusive_group()
    way.add_argument("--runner", action="store_true", help="use the program runner even if the Pulumi CLI is installed")
    way.add_argument("--cli", action="store_true", help="require the Pulumi CLI")
    args = parser.parse_args(argv)

    pulumi = None if args.runner else shutil.which("pulumi")
    if args.cli and not pulumi:
        parser.error("the Pulumi CLI is not on PATH")
    project = args.project.resolve()
    if not (project / "Pulumi.yaml").is_file():
        parser.error(f"no Pulumi.yaml in {project}")

    started = time.monotonic()
    with BirdEmulator(provision_seconds=args.provision_seconds) as emulator:
        how = "pulumi up (local file backend)" if pulumi else "the program runner (no Pulumi CLI found)"
        shown = os.path.relpath(project / "Pulumi.yaml")  # relative: the same text on every machine
        print(f"Bird emulator at {emulator.url}; deploying {shown} with {how}", file=sys.stderr)
        config = demo_config(emulator)
        outputs = run_with_cli(project, config, pulumi) if pulumi else run_with_runner(project, config)
    print(json.dumps(outputs, indent=2, sort_keys=True))
    print(f"done in {time.monotonic() - started:.1f}s; the emulator has stopped", file=sys.stderr)
    missing = [k for k in ("smsChannelId", "voiceChannelId") if not outputs.get(k)]
    if missing:
        print(f"missing outputs: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
