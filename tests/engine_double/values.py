"""Config values the runner, the host and the state all handle: :class:`Secret` (in a module of its own, which
imports nothing of the package, so that none of them needs another for it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Secret", "secret"]


@dataclass(frozen=True)
class Secret:
    """A config value set with ``pulumi config set --secret``: pass ``secret("...")`` in ``config=``."""

    value: Any

    def __repr__(self) -> str:  # never show the value
        return "Secret(***)"


def secret(value: Any) -> Secret:
    """Mark a ``config=`` value of :func:`~.engine.run_program` as set with ``--secret``."""
    return value if isinstance(value, Secret) else Secret(value)
