"""Emulator helpers that need no test framework: ``start_emulator(...)``.

The ``bird_emulator`` pytest fixture lives in :mod:`pulumi_bird.testing.plugin`, the pytest plugin
registered under ``pytest11``; this module imports without pytest installed.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from pulumi_bird.emulator import BirdEmulator

__all__ = ["start_emulator"]


@contextlib.contextmanager
def start_emulator(**kwargs: Any) -> Iterator[BirdEmulator]:
    """A started :class:`BirdEmulator` (``kwargs`` go to its constructor), stopped on exit."""
    emulator = BirdEmulator(**kwargs).start()
    try:
        yield emulator
    finally:
        emulator.stop()
