"""``start_emulator(...)``, which needs no test framework (the pytest fixtures are in
:mod:`pulumi_bird.testing.plugin`)."""

from __future__ import annotations

from typing import Any

from pulumi_bird.emulator import BirdEmulator

__all__ = ["start_emulator"]


def start_emulator(**kwargs: Any) -> BirdEmulator:
    """A :class:`BirdEmulator` (``kwargs`` go to its constructor) for a ``with`` block: started on entry, stopped
    on exit (the emulator is its own context manager)."""
    return BirdEmulator(**kwargs)
