"""An in-memory Bird API for tests and demos: connectors, their channel provisioning, webhook subscriptions,
a numbers inventory per workspace.

Stdlib only (no pulumi, requests or pydantic), so it starts fast as a subprocess or inside a test::

    with BirdEmulator(provision_seconds=0.2) as emu:
        ...  # talk to emu.url with "Authorization: AccessKey " + emu.access_key

``python -m pulumi_bird.emulator --help`` runs it from a shell.
"""

from pulumi_bird.emulator.backend import (
    DEFAULT_NUMBERS,
    DEFAULT_ORGANIZATION_ID,
    DEFAULT_WORKSPACE_ID,
    BirdBackend,
    seeded_number,
    seeded_workspace_id,
)
from pulumi_bird.emulator.faults import FaultRule, Faults
from pulumi_bird.emulator.ratelimits import BIRD_RATE_LIMITS, RateLimits
from pulumi_bird.emulator.responses import DEFAULT_ACCESS_KEY
from pulumi_bird.emulator.server import MAX_BODY_BYTES, AnswerHook, BirdEmulator, RecordedRequest

__all__ = [
    "BIRD_RATE_LIMITS",
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_NUMBERS",
    "DEFAULT_ORGANIZATION_ID",
    "DEFAULT_WORKSPACE_ID",
    "MAX_BODY_BYTES",
    "AnswerHook",
    "BirdBackend",
    "BirdEmulator",
    "FaultRule",
    "Faults",
    "RateLimits",
    "RecordedRequest",
    "seeded_number",
    "seeded_workspace_id",
]
