"""Pulumi dynamic providers for Bird (formerly MessageBird) channels and webhook subscriptions.

Resources (one module each, listed in :data:`RESOURCES`): :class:`SmsChannel`, :class:`VoiceChannel`,
:class:`Connector`, :class:`WebhookSubscription`.
Lookups: :func:`get_connector`, :func:`list_connectors`, :func:`get_phone_number` (and their ``_output`` forms).

Names are loaded on first use, so ``import pulumi_bird`` stays cheap. The layers: README.md, "Architecture".
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__  # the one version (pyproject reads it too)

# The resources, one line each: class name -> its module. Everything that must cover every resource reads this:
# the package's exports below, the generated reference in docs/api-docs (tools/reference.py), and the tests (typing,
# architecture, faults, pickled providers). In the order the docs list them.
RESOURCES: dict[str, str] = {
    "SmsChannel": "sms_channel",
    "VoiceChannel": "voice_channel",
    "Connector": "connector",
    "WebhookSubscription": "webhook_subscription",
}

# public name -> the module that defines it (loaded on first use)
_EXPORTS: dict[str, str] = {**RESOURCES, **{name: module for module, names in {
    "api.errors": ("BirdError",),
    "api.signatures": ("REQUEST_ID_HEADER", "ReplayError", "ReplayGuard", "ReplayGuardFull", "SignatureError",
                       "verify_signature"),
    "api.values": ("ChannelMessageType", "FilterKey", "WebhookService", "WebhookStatus"),
    "lookups": ("ConnectorInfo", "PhoneNumberInfo", "get_connector", "get_connector_output", "get_phone_number",
                "get_phone_number_output", "list_connectors", "list_connectors_output"),
    "webhook_subscription": ("EventFilterArgs", "event_filter"),
}.items() for name in names}}

# Written out (not computed) so that type checkers see the public names; a test holds them equal to _EXPORTS.
__all__ = [
    "BirdError",
    "ChannelMessageType",
    "Connector",
    "ConnectorInfo",
    "EventFilterArgs",
    "FilterKey",
    "PhoneNumberInfo",
    "REQUEST_ID_HEADER",
    "ReplayError",
    "ReplayGuard",
    "ReplayGuardFull",
    "SignatureError",
    "SmsChannel",
    "VoiceChannel",
    "WebhookService",
    "WebhookStatus",
    "WebhookSubscription",
    "event_filter",
    "get_connector",
    "get_connector_output",
    "get_phone_number",
    "get_phone_number_output",
    "list_connectors",
    "list_connectors_output",
    "verify_signature",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs; at run time __getattr__ loads them
    from .api.errors import BirdError as BirdError
    from .api.signatures import REQUEST_ID_HEADER as REQUEST_ID_HEADER
    from .api.signatures import ReplayError as ReplayError
    from .api.signatures import ReplayGuard as ReplayGuard
    from .api.signatures import ReplayGuardFull as ReplayGuardFull
    from .api.signatures import SignatureError as SignatureError
    from .api.signatures import verify_signature as verify_signature
    from .api.values import ChannelMessageType as ChannelMessageType
    from .api.values import FilterKey as FilterKey
    from .api.values import WebhookService as WebhookService
    from .api.values import WebhookStatus as WebhookStatus
    from .connector import Connector as Connector
    from .lookups import ConnectorInfo as ConnectorInfo
    from .lookups import PhoneNumberInfo as PhoneNumberInfo
    from .lookups import get_connector as get_connector
    from .lookups import get_connector_output as get_connector_output
    from .lookups import get_phone_number as get_phone_number
    from .lookups import get_phone_number_output as get_phone_number_output
    from .lookups import list_connectors as list_connectors
    from .lookups import list_connectors_output as list_connectors_output
    from .sms_channel import SmsChannel as SmsChannel
    from .voice_channel import VoiceChannel as VoiceChannel
    from .webhook_subscription import EventFilterArgs as EventFilterArgs
    from .webhook_subscription import WebhookSubscription as WebhookSubscription
    from .webhook_subscription import event_filter as event_filter

def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_bird' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
