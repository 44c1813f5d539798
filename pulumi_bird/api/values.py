"""Bird's rules for plain values, in one place and stdlib only (the emulator shares them): what a Bird id looks
like, which API URLs a client may talk to, and Bird's timestamps."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timezone
from typing import Any, Optional
from urllib.parse import urlsplit

from .errors import ConfigError

DEFAULT_API_URL = "https://api.bird.com"

# The templates of the two phone number channels (their arguments are the only ones Bird documents), and the
# traffic an SMS channel may carry (its channelMessageType argument).
SMS_TEMPLATE = "sms-messagebird:1"
VOICE_TEMPLATE = "voice-messagebird:1"
CHANNEL_MESSAGE_TYPES: tuple[str, ...] = ("promotional", "transactional", "conversational", "emergency", "2fa")

# Bird's ids (workspaces, organizations, connectors, channels, numbers) are UUIDs in the canonical 8-4-4-4-12
# hex form (the OpenAPI's `format: uuid`).
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(value: Any) -> bool:
    """True for a string in the canonical 8-4-4-4-12 hex form (either case), nothing before or after."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def is_loopback_host(host: Optional[str]) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_api_url(url: str) -> bool:
    """Whether ``url`` names a loopback host (the emulator, or a local tunnel)."""
    try:
        return is_loopback_host(urlsplit(url).hostname)
    except ValueError:
        return False


def validate_api_url(url: str) -> str:
    """Accept https URLs, and plain http only for loopback hosts (the emulator)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced [ in the host
        parts, host = urlsplit(""), None
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and is_loopback_host(host):
        return url.rstrip("/")
    raise ConfigError(
        f"bird:apiUrl / BIRD_API_URL must be an https:// URL (plain http:// only for a loopback host such as the "
        f"emulator), got {url!r:.80}: run `pulumi config set bird:apiUrl https://api.bird.com`, or "
        "`pulumi config rm bird:apiUrl` for Bird's own API"
    )


def as_utc(moment: Optional[datetime]) -> datetime:
    """A timestamp in UTC (naive ones are taken as UTC; a missing one sorts first)."""
    if moment is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: Optional[datetime]) -> Optional[str]:
    """ISO 8601 in UTC with a ``Z``, as outputs show timestamps."""
    if moment is None:
        return None
    return as_utc(moment).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
