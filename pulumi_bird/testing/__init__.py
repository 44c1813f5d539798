"""Test helpers: the Bird emulator, a provider-host harness and a program runner that stands in for the engine.

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
    "shim_command": "host",
    # pulumi_bird.testing.runner
    "PendingOperation": "runner",
    "ProgramError": "runner",
    "ProgramResult": "runner",
    "Registration": "runner",
    "ResourceState": "runner",
    "State": "runner",
    "destroy": "runner",
    "refresh": "runner",
    "registered_inputs": "runner",
    "run_program": "runner",
    "Project": "runner",
    "ProjectError": "runner",
    "Secret": "runner",
    "load_project": "runner",
    "secret": "runner",
    "stack_config": "runner",
    "validate_project": "runner",
}

# Written out (not computed) so that type checkers see the public names.
__all__ = [
    "CheckResult",
    "CreateResult",
    "DiffResult",
    "HostStartError",
    "PendingOperation",
    "ProgramError",
    "ProgramResult",
    "Project",
    "ProjectError",
    "ProviderError",
    "ProviderHost",
    "ReadResult",
    "Registration",
    "ResourceState",
    "Secret",
    "State",
    "UNKNOWN",
    "decode_provider",
    "destroy",
    "load_project",
    "make_urn",
    "refresh",
    "registered_inputs",
    "run_program",
    "secret",
    "shim_command",
    "stack_config",
    "validate_project",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only (explicit re-exports)
    from .host import UNKNOWN as UNKNOWN
    from .host import CheckResult as CheckResult
    from .host import CreateResult as CreateResult
    from .host import DiffResult as DiffResult
    from .host import HostStartError as HostStartError
    from .host import ProviderError as ProviderError
    from .host import ProviderHost as ProviderHost
    from .host import ReadResult as ReadResult
    from .host import decode_provider as decode_provider
    from .host import make_urn as make_urn
    from .host import shim_command as shim_command
    from .runner import PendingOperation as PendingOperation
    from .runner import ProgramError as ProgramError
    from .runner import ProgramResult as ProgramResult
    from .runner import Project as Project
    from .runner import ProjectError as ProjectError
    from .runner import Registration as Registration
    from .runner import ResourceState as ResourceState
    from .runner import Secret as Secret
    from .runner import State as State
    from .runner import destroy as destroy
    from .runner import load_project as load_project
    from .runner import refresh as refresh
    from .runner import registered_inputs as registered_inputs
    from .runner import run_program as run_program
    from .runner import secret as secret
    from .runner import stack_config as stack_config
    from .runner import validate_project as validate_project


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
