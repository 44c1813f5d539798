"""Testing your own Pulumi programs against the Bird emulator, on the real Pulumi engine (docs/testing.md):
:func:`bird_stack`, :func:`start_emulator`, and the pytest fixtures of :mod:`pulumi_bird.testing.plugin`. The names
load on first use, so ``import pulumi_bird.testing`` does not import the Pulumi SDK (nor the emulator)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Written out (not computed) so that type checkers see the public names.
__all__ = [
    "BirdStack",
    "ENGINE_ENV",
    "bird_stack",
    "emulator_config",
    "emulator_contents",
    "pulumi_command",
    "start_emulator",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only (explicit re-exports)
    from .fixtures import start_emulator as start_emulator
    from .stack import ENGINE_ENV as ENGINE_ENV
    from .stack import BirdStack as BirdStack
    from .stack import bird_stack as bird_stack
    from .stack import emulator_config as emulator_config
    from .stack import emulator_contents as emulator_contents
    from .stack import pulumi_command as pulumi_command


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = "fixtures" if name == "start_emulator" else "stack"
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
