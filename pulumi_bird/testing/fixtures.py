"""Emulator fixtures for pytest: ``start_emulator(...)`` and the ``bird_emulator`` fixture.

The plugin registered under ``pytest11`` re-exports ``bird_emulator``, so any test of a project that
installs pulumi-bird can ask for it by name.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import pytest

from pulumi_bird.emulator import BirdEmulator


@contextlib.contextmanager
def start_emulator(**kwargs: Any) -> Iterator[BirdEmulator]:
    """A started :class:`BirdEmulator` (``kwargs`` go to its constructor), stopped on exit."""
    emulator = BirdEmulator(**kwargs).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def bird_emulator() -> Iterator[BirdEmulator]:
    """A started emulator with the default key, workspace and provisioning time; stopped after the test.

    Tune it inside the test: ``bird_emulator.provision_seconds = 0.1``, ``bird_emulator.faults.add(...)``.
    """
    with start_emulator() as emulator:
        yield emulator
