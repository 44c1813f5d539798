"""`make e2e`: the real Pulumi CLI (``make engine``) against the Bird emulator on loopback.

``make test`` leaves this directory out (it stays CLI-free and fast); ``make e2e`` builds the engine and runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from pulumi_bird.emulator import BirdEmulator
from pulumi_cli import ENGINE_ENV, Pulumi, engine_bin


def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        engine_bin()
    except RuntimeError as exc:
        pytest.exit(f"{exc}; {ENGINE_ENV} is unset or wrong", returncode=4)


@pytest.fixture
def emulator() -> Iterator[BirdEmulator]:
    """A fresh emulator per test, so that "empty after the scenario" means this scenario left nothing."""
    with BirdEmulator(provision_seconds=1.0) as emu:
        yield emu


@pytest.fixture
def cli(tmp_path: Path) -> Pulumi:
    return Pulumi(tmp_path)

