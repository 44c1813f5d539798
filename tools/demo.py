"""``make demo``: deploy the root Pulumi.yaml program on the embedded Bird emulator and print its outputs.

It runs ``pulumi up`` (the CLI in ``PULUMI_BIRD_ENGINE``, else on PATH; ``make demo`` builds one when PATH has
none) against a throwaway local file backend, then ``pulumi destroy``: nothing leaves this machine.

    python tools/demo.py [--project DIR] [--provision-seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Optional

from pulumi_bird.emulator import BirdEmulator

# Phone numbers the demo installs channels on, as people know them (E.164): the program finds their ids with
# get_phone_number in the emulator's default numbers inventory (pulumi_bird.emulator.DEFAULT_NUMBERS).
DEMO_SMS_NUMBER = "+3197010520000"
DEMO_VOICE_NUMBER = "+3197010520001"
DEMO_SIGNING_KEY = "demo-signing-key-for-the-emulator-only"  # the emulator's deliveries are not real: a fixed key is fine here


# The keys the demo's stack holds as secrets (`pulumi config set --secret`).
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


def deploy(project: Path, emulator: BirdEmulator, pulumi: str) -> dict[str, Any]:
    """``pulumi up`` of ``project`` on a throwaway local file backend (:func:`pulumi_bird.testing.bird_stack`), then
    ``pulumi destroy``; the stack's outputs. ``pulumi`` is the CLI's directory."""
    from pulumi import automation as auto

    from pulumi_bird.testing.stack import bird_stack

    config = {key: auto.ConfigValue(value, secret=key in SECRET_KEYS) for key, value in demo_config(emulator).items()}
    with bird_stack(project, emulator, config=config, stack_name=f"demo-{uuid.uuid4().hex[:8]}",
                    pulumi_command=pulumi) as stack:
        stack.up(on_output=print)  # what `pulumi up` prints, line by line
        return stack.outputs()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "make demo").splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="directory of the Pulumi.yaml (default: .)")
    parser.add_argument("--provision-seconds", type=float, default=1.0, help="how long the emulator provisions a channel")
    args = parser.parse_args(argv)

    found = shutil.which("pulumi")
    pulumi = os.environ.get("PULUMI_BIRD_ENGINE") or (str(Path(found).parent) if found else None)
    if not pulumi:
        parser.error("the Pulumi CLI is not on PATH (install it, or run `make demo`, which builds it)")
    project = args.project.resolve()
    if not (project / "Pulumi.yaml").is_file():
        parser.error(f"no Pulumi.yaml in {project}")

    started = time.monotonic()
    with BirdEmulator(provision_seconds=args.provision_seconds) as emulator:
        shown = os.path.relpath(project / "Pulumi.yaml")  # relative: the same text on every machine
        print(f"Bird emulator at {emulator.url}; deploying {shown} with pulumi up (local file backend)",
              file=sys.stderr)
        outputs = deploy(project, emulator, pulumi)
    print(json.dumps(outputs, indent=2, sort_keys=True))
    print(f"done in {time.monotonic() - started:.1f}s; the emulator has stopped", file=sys.stderr)
    missing = [k for k in ("smsChannelId", "voiceChannelId") if not outputs.get(k)]
    if missing:
        print(f"missing outputs: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
