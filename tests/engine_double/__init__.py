"""The engine double: a provider-host harness (:mod:`.host`) and a program runner that stands in for the Pulumi
engine (:mod:`.runner`), for the CLI-free suite. It lives in tests/ only: users test on the real engine
(pulumi_bird.testing), and tests/e2e/test_double_agrees.py holds it to what the engine does."""

from __future__ import annotations

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
    shim_command,
)
from .runner import (
    PendingOperation,
    ProgramError,
    ProgramResult,
    Project,
    ProjectError,
    Registration,
    ResourceState,
    Secret,
    State,
    destroy,
    load_project,
    refresh,
    registered_inputs,
    run_program,
    secret,
    stack_config,
    validate_project,
)

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
