"""The one error type of the program runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .host import ProviderError
    from .state import State

__all__ = ["ProgramError"]


class ProgramError(Exception):
    """The program failed to deploy: a check failure, a provider error, a project or config error,
    or a rule of the engine.

    :ivar resource: name of the resource concerned, if any.
    :ivar urn: its URN, if any.
    :ivar failures: ``(property, reason)`` pairs for a check failure.
    :ivar provider_error: the :class:`~.host.ProviderError` behind it, if any.
    :ivar traceback: the provider host's traceback of a failed provider call (the message has only what
        the provider raised), for debugging; ``None`` otherwise.
    :ivar state: the state as far as the run got (resources created before the failure are in
        it), so a test can still destroy them.
    """

    def __init__(
        self,
        message: str,
        *,
        resource: Optional[str] = None,
        urn: Optional[str] = None,
        failures: Iterable[tuple[str, str]] = (),
        provider_error: Optional["ProviderError"] = None,
    ) -> None:
        super().__init__(message)
        self.resource = resource
        self.urn = urn
        self.failures: list[tuple[str, str]] = list(failures)
        self.provider_error = provider_error
        self.traceback: Optional[str] = provider_error.message if provider_error is not None else None
        self.state: Optional["State"] = None
