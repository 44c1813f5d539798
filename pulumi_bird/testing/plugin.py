"""pytest plugin (entry point ``pytest11``): the ``bird_emulator`` fixture, available to any test of a
project that installs pulumi-bird, without an import."""

from __future__ import annotations

from typing import Iterator

import pytest

from pulumi_bird.emulator import BirdEmulator
from pulumi_bird.testing.fixtures import start_emulator


@pytest.fixture
def bird_emulator() -> Iterator[BirdEmulator]:
    """A started emulator with the default key, workspace and provisioning time; stopped after the test.

    Tune it inside the test: ``bird_emulator.provision_seconds = 0.1``, ``bird_emulator.faults.add(...)``.
    """
    with start_emulator() as emulator:
        yield emulator
