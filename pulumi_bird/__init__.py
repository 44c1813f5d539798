"""Pulumi dynamic providers for Bird (formerly MessageBird) channels and webhook subscriptions.

Resources: :class:`SmsChannel`, :class:`VoiceChannel`, :class:`Connector`, :class:`WebhookSubscription`.
Lookups: :func:`get_connector`, :func:`list_connectors` (and their ``_output`` forms).

Names are loaded on first use, so ``import pulumi_bird`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Connector": "connector",
    "SmsChannel": "channels",
    "VoiceChannel": "channels",
    "WebhookSubscription": "webhook_subscription",
    "EventFilterArgs": "webhook_subscription",
    "event_filter": "webhook_subscription",
    "get_connector": "lookups",
    "get_connector_output": "lookups",
    "list_connectors": "lookups",
    "list_connectors_output": "lookups",
    "verify_signature": "webhooks",
    "BirdError": "errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from .channels import SmsChannel, VoiceChannel
    from .connector import Connector
    from .errors import BirdError
    from .lookups import get_connector, get_connector_output, list_connectors, list_connectors_output
    from .webhook_subscription import EventFilterArgs, WebhookSubscription, event_filter
    from .webhooks import verify_signature


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_bird' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
