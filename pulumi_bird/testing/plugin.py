"""pytest plugin (entry point ``pytest11``): the ``bird_emulator`` and ``bird_stack`` fixtures, available to any
test of a project that installs pulumi-bird, without an import."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

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


@pytest.fixture
def bird_stack(bird_emulator: BirdEmulator) -> Iterator[Callable[..., Any]]:
    """``bird_stack(program, config={...})``: a :class:`~pulumi_bird.testing.BirdStack` of ``program`` (a function
    or a project directory) on ``bird_emulator``, on the real Pulumi CLI; every stack made is destroyed and
    removed after the test. Keyword arguments go to :func:`pulumi_bird.testing.bird_stack`."""
    from pulumi_bird.testing.stack import BirdStack
    from pulumi_bird.testing.stack import bird_stack as open_stack

    with contextlib.ExitStack() as made:  # closes every stack, even after one fails to, then raises that error

        def make(program: Any, **kwargs: Any) -> BirdStack:
            return made.enter_context(open_stack(program, bird_emulator, **kwargs))

        yield make
