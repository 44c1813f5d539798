"""Bird's rules for plain values, in one place and stdlib only (the emulator shares them): what a Bird id looks
like, which API URLs a client may talk to, and Bird's timestamps."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timezone
from typing import Any, Literal, Optional, get_args
from urllib.parse import urlsplit

from .errors import ConfigError

DEFAULT_API_URL = "https://api.bird.com"

# The templates of the two phone number channels (their arguments are the only ones Bird documents).
SMS_TEMPLATE = "sms-messagebird:1"
VOICE_TEMPLATE = "voice-messagebird:1"

# Every fixed set of values is declared once, as a Literal (what type checkers show the user); the tuples the
# checks, the schemas and the models use are derived from it.

# The traffic an SMS channel may carry (the sms-messagebird:1 template's channelMessageType argument).
ChannelMessageType = Literal["promotional", "transactional", "conversational", "emergency", "2fa"]
CHANNEL_MESSAGE_TYPES: tuple[str, ...] = get_args(ChannelMessageType)

# The services a webhook subscription can listen to (the OpenAPI's WebhookService enum).
WebhookService = Literal["channels", "numbers", "payments", "conversations", "templates"]
WEBHOOK_SERVICES: tuple[str, ...] = get_args(WebhookService)

# What PATCH may set a subscription's status to (the OpenAPI's WebhookSubscriptionStatus).
WebhookStatus = Literal["active", "inactive"]
WEBHOOK_STATUSES: tuple[str, ...] = get_args(WebhookStatus)

# The event filter keys (the OpenAPI's WebhookEventFilter key enum), and those each service accepts (its
# EventFilters<Service> schema); numbers and payments define none of their own, so any key goes to Bird.
FilterKey = Literal[
    "channelId", "platformId", "channelStatus", "interactionType", "messageStatus", "status", "eventDestination",
    "navigatorId",
]
FILTER_KEYS: tuple[str, ...] = get_args(FilterKey)
SERVICE_FILTER_KEYS: dict[str, tuple[str, ...]] = {
    "channels": ("channelId", "messageStatus", "interactionType", "channelStatus", "platformId", "status"),
    "conversations": ("channelId",),
    "templates": ("platformId",),
    "numbers": FILTER_KEYS,
    "payments": FILTER_KEYS,
}

# The event names Bird documents: only the channels service has any, the channel's own and one per message
# direction of each platform (``sms.inbound``, ``email.interaction``). Bird does not enumerate its platforms, so
# any lowercase platform name is taken.
CHANNEL_EVENTS = ("channel.created", "channel.updated")
MESSAGE_EVENT_KINDS = ("inbound", "outbound", "interaction")
_PLATFORM_EVENT = re.compile(r"[a-z][a-z0-9-]*\.(" + "|".join(MESSAGE_EVENT_KINDS) + ")")


def documented_events(service: str) -> Optional[str]:
    """The events Bird documents for ``service``, in words (None: Bird documents none for it)."""
    if service != "channels":
        return None
    kinds = ", ".join(f"<platform>.{kind}" for kind in MESSAGE_EVENT_KINDS)
    return f"{', '.join(CHANNEL_EVENTS)}, or {kinds} (such as sms.inbound or voice.outbound)"


def is_documented_event(service: str, event: str) -> bool:
    """Whether ``event`` is one Bird documents for ``service`` (True for a service that documents none)."""
    return service != "channels" or event in CHANNEL_EVENTS or _PLATFORM_EVENT.fullmatch(event) is not None

# Bird's ids (workspaces, organizations, connectors, channels, numbers) are UUIDs in the canonical 8-4-4-4-12
# hex form (the OpenAPI's `format: uuid`).
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(value: Any) -> bool:
    """True for a string in the canonical 8-4-4-4-12 hex form (either case), nothing before or after."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def is_loopback_host(host: Optional[str]) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host or "").is_loopback
    except ValueError:  # not an IP address (a host name, or none)
        return False


def is_loopback_api_url(url: str) -> bool:
    """Whether ``url`` names a loopback host (the emulator, or a local tunnel)."""
    try:
        return is_loopback_host(urlsplit(url).hostname)
    except ValueError:
        return False


def _parse_problem(url: str) -> Optional[str]:
    """Why ``url`` cannot be trusted to name one host (None: it can). The client sends the access key to the host
    urllib3 reads; a URL that another parser reads otherwise (a backslash, user info, a percent-escape in the
    host) could pass the checks below for one host and send the key to another."""
    if not url.isascii() or any(char <= " " or char == "\x7f" for char in url):
        return "has a space, a control character or a non-ASCII character (write the host in ASCII)"
    if "\\" in url:
        return "has a backslash, which parsers read differently"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # e.g. an unbalanced [ in the host, a port that is not a number
        return "is not a URL"
    if "@" in parts.netloc or "%" in parts.netloc:
        return "has user info (user:password@) or a percent-escape in its host (the access key goes in bird:accessKey)"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "has a query or a fragment"
    from urllib3.util import parse_url  # the parser requests sends with (urllib3 comes with requests)

    try:
        theirs = parse_url(url)
    except ValueError:
        return "is not a URL urllib3 can read"
    ours = (parts.scheme, (parts.hostname or "").strip("[]").lower(), port, parts.path or None)
    if ours != (theirs.scheme, (theirs.host or "").strip("[]").lower(), theirs.port, theirs.path) or theirs.auth:
        return "is read differently by urllib3 (the HTTP client's parser)"
    return None


def validate_api_url(url: str) -> str:
    """Accept https URLs, and plain http only for loopback hosts (the emulator); refuse any URL two parsers
    could read as different hosts (see :func:`_parse_problem`). The message names bird:apiUrl, never the URL
    (which may hold a password)."""
    problem = _parse_problem(url) if isinstance(url, str) else "is not text"
    if problem is None:
        parts = urlsplit(url)
        if (parts.scheme == "https" and parts.hostname) or (parts.scheme == "http" and is_loopback_host(parts.hostname)):
            return url.rstrip("/")
        problem = "must be an https:// URL (plain http:// only for a loopback host such as the emulator)"
    raise ConfigError(
        f"bird:apiUrl / BIRD_API_URL {problem}: run `pulumi config set bird:apiUrl https://api.bird.com`, or "
        "`pulumi config rm bird:apiUrl` for Bird's own API"
    )


def as_utc(moment: Optional[datetime]) -> datetime:
    """A timestamp in UTC (naive ones are taken as UTC; a missing one sorts first)."""
    if moment is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(moment: Optional[datetime]) -> Optional[str]:
    """ISO 8601 in UTC with a ``Z``, as outputs show timestamps."""
    return None if moment is None else as_utc(moment).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
