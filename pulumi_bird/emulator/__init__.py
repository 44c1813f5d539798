"""An in-memory Bird API for tests and demos: connectors, their channel provisioning, webhook subscriptions.

Stdlib only (no pulumi, requests or pydantic), so it starts fast as a subprocess or inside a test::

    with BirdEmulator(provision_seconds=0.2) as emu:
        ...  # talk to emu.url with "Authorization: AccessKey " + emu.access_key

Layout in the moto manner: ``models`` (state and rules), ``responses`` (HTTP in/out), ``urls`` (routes),
``faults`` (fault injection), ``server`` (the threaded server). ``python -m pulumi_bird.emulator --help``
runs it from a shell.
"""

from pulumi_bird.emulator.models import DEFAULT_ORGANIZATION_ID, DEFAULT_WORKSPACE_ID, BirdBackend
from pulumi_bird.emulator.responses import DEFAULT_ACCESS_KEY
from pulumi_bird.emulator.server import BirdEmulator, RecordedRequest

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_ORGANIZATION_ID",
    "DEFAULT_WORKSPACE_ID",
    "BirdBackend",
    "BirdEmulator",
    "RecordedRequest",
]
