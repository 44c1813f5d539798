"""The errors of the toolkit: :class:`ProgramError` (the program runner's one error type) and
:class:`ProviderError` (a failed call to the provider host), with what they refer to imported at run time, so
that ``typing.get_type_hints`` resolves their annotations (the package has no import cycle to hide behind
``TYPE_CHECKING``; import-linter's contract ``no-cycles`` in pyproject.toml holds it so)."""

from __future__ import annotations

from typing import Iterable, Optional

import grpc

from .state import State

__all__ = ["ProgramError", "ProviderError", "provider_message"]


class ProviderError(Exception):
    """A gRPC call to the provider host failed.

    For an exception raised by the provider, the host aborts the call with
    ``StatusCode.UNKNOWN`` and the formatted traceback as details; :attr:`message` holds that text.
    """

    def __init__(
        self,
        operation: str,
        message: str,
        *,
        code: Optional[grpc.StatusCode] = None,
        urn: Optional[str] = None,
    ) -> None:
        self.operation = operation
        self.message = message
        self.code = code
        self.urn = urn
        where = f" ({urn})" if urn else ""
        detail = f"\n{message}" if message.strip() != self.summary else ""
        super().__init__(f"{operation}{where} failed: {self.summary}{detail}")

    @property
    def summary(self) -> str:
        """The last line of the message: for a provider exception, ``"Type: text"``."""
        lines = [line for line in self.message.strip().splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""

    @property
    def provider_message(self) -> str:
        """What the provider raised, without the host's traceback: ``"Type: text"`` (every line of the
        text), the type without its module path. The whole message stays in :attr:`message`."""
        return provider_message(self.message)


def provider_message(text: str) -> str:
    """The exception part of a ``traceback.format_exc()`` text: the lines after the last frame."""
    lines = text.strip().splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    if not frames:
        return text.strip()
    rest = lines[frames[-1] + 1 :]
    while rest and (rest[0].startswith(" ") or not rest[0].strip()):
        rest = rest[1:]  # the frame's source line and its ^^^ markers
    if not rest:
        return lines[-1].strip()
    head, sep, tail = rest[0].partition(": ")
    if sep and " " not in head:
        rest[0] = f"{head.rsplit('.', 1)[-1]}: {tail}"  # pulumi_bird.api.errors.BirdError -> BirdError
    return "\n".join(rest).strip()


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
        provider_error: Optional[ProviderError] = None,
    ) -> None:
        super().__init__(message)
        self.resource = resource
        self.urn = urn
        self.failures: list[tuple[str, str]] = list(failures)
        self.provider_error = provider_error
        self.traceback: Optional[str] = provider_error.message if provider_error is not None else None
        self.state: Optional[State] = None
