"""Test helpers: the Bird emulator fixture, a provider-host harness and a program runner.

The harness (:mod:`.host`) and the runner (:mod:`.runner`) import grpc and the Pulumi runtime;
they load on first use of one of their names, so ``import pulumi_bird.testing`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    # pulumi_bird.testing.host
    "CheckResult": "host",
    "CreateResult": "host",
    "DiffResult": "host",
    "HostStartError": "host",
    "ProviderError": "host",
    "ProviderHost": "host",
    "ReadResult": "host",
    "UNKNOWN": "host",
    "decode_provider": "host",
    "make_urn": "host",
    # pulumi_bird.testing.runner
    "ProgramError": "runner",
    "ProgramResult": "runner",
    "Registration": "runner",
    "ResourceState": "runner",
    "State": "runner",
    "destroy": "runner",
    "refresh": "runner",
    "registered_inputs": "runner",
    "run_program": "runner",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .host import (
        UNKNOWN,
        CheckResult,
        CreateResult,
        DiffResult,
        HostStartError,
        ProviderError,
        ProviderHost,
        ReadResult,
        decode_provider,
        make_urn,
    )
    from .runner import (
        ProgramError,
        ProgramResult,
        Registration,
        ResourceState,
        State,
        destroy,
        refresh,
        registered_inputs,
        run_program,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
