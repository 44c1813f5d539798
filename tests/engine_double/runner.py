"""Run a Pulumi program against the real dynamic-provider host, without the Pulumi CLI.

The program runs in-process under a mock resource monitor (:mod:`.monitor`); every dynamic
resource it registers goes to a :class:`~.host.ProviderHost` with the requests the engine sends
(:mod:`.engine`); projects and their config are read as the CLI reads them (:mod:`.project`); the
state is kept like a stack file (:mod:`.state`). This module gathers the public names::

    first = run_program("examples/channels", config=cfg)
    again = run_program("examples/channels", config=cfg, state=first.state)
    assert set(again.steps.values()) == {"same"}
    destroy(again.state, config=cfg)
"""

from __future__ import annotations

from .commands import destroy, refresh, run_program
from .engine import DYNAMIC_TYPE_PREFIX
from .errors import ProgramError
from .host import UNKNOWN
from .monitor import Registration, registered_inputs
from .project import Project, ProjectError, Secret, load_project, secret, stack_config, validate_project
from .state import PendingOperation, ProgramResult, ResourceState, State

__all__ = [
    "DYNAMIC_TYPE_PREFIX",
    "PendingOperation",
    "ProgramError",
    "ProgramResult",
    "Project",
    "ProjectError",
    "Registration",
    "ResourceState",
    "Secret",
    "State",
    "UNKNOWN",
    "destroy",
    "load_project",
    "refresh",
    "registered_inputs",
    "run_program",
    "secret",
    "stack_config",
    "validate_project",
]
