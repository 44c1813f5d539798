"""Offline validation for ``check``: one failure per problem, naming the property as the user wrote it.

Nothing here raises on bad input and nothing calls the API. Values still unknown during a preview (the
SDK's ``UNKNOWN`` sentinel, anywhere inside a value) are skipped, not judged.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional, Sequence

from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN  # the wire form of an unknown value (a string sentinel)

from ..api.values import is_uuid

# Bird's pattern for webhook URLs: public https hosts with a dotted name and an alphabetic TLD.
HTTPS_URL = re.compile(r"^https://([a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}(/[^\s]*)?$")
# A week: waiting longer for a channel would hold a deployment hostage.
MAX_READY_TIMEOUT = 7 * 24 * 3600
# The shortest webhook signing key accepted: 32 characters of secrets.token_urlsafe carry 192 bits. An empty or
# short key lets anybody who guesses it sign deliveries that verify_signature accepts.
MIN_SIGNING_KEY_LENGTH = 32
GENERATE_SIGNING_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def is_unknown(value: Any) -> bool:
    """True when ``value`` is, or contains, a value unknown during preview (the host hands them to the
    provider as ``Unknown`` objects; the wire sentinel string is accepted too)."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(is_unknown(k) or is_unknown(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


def _describe(value: Any) -> str:
    """A short, safe description of a value for a message (types, not contents, for anything long)."""
    if (isinstance(value, str) and len(value) <= 60) or isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    return f"a {type(value).__name__}"


class Checker:
    """Collects failures for one resource's inputs."""

    def __init__(self, news: Any, known: Iterable[str]) -> None:
        self.news: dict[str, Any] = news if isinstance(news, dict) else {}
        self.failures: list[CheckFailure] = []
        for key in sorted(k for k in self.news if not k.startswith("__") and k not in set(known)):
            self.fail(key, "is not a property of this resource")

    def fail(self, prop: str, reason: str) -> None:
        self.failures.append(CheckFailure(prop, f"{prop} {reason}"))

    def get(self, prop: str) -> tuple[bool, Any]:
        """(judge, value): judge is False when the value is absent/None or unknown."""
        value = self.news.get(prop)
        return value is not None and not is_unknown(value), value

    def string(self, prop: str, *, required: bool = False, max_length: int = 1024, secret: bool = False) -> Optional[str]:
        """A string (blank counts as missing when ``required``); for a ``secret`` property the message names the
        value's type, never the value."""
        judge, value = self.get(prop)
        if required and (value is None or (isinstance(value, str) and not value.strip())):
            self.fail(prop, "is required")
            return None
        if not judge:
            return None
        if not isinstance(value, str):
            shown = f"a {type(value).__name__}" if secret else _describe(value)
            self.fail(prop, f"must be a string, got {shown}")
            return None
        if len(value) > max_length:
            self.fail(prop, f"must be at most {max_length} characters long")
            return None
        return value

    def signing_key(self, prop: str) -> None:
        """A signing key: at least MIN_SIGNING_KEY_LENGTH printable ASCII characters (Bird does not document how
        it encodes any other). The message says how long it is, never what it is."""
        value = self.string(prop, secret=True)
        if value is None:
            return
        if len(value) < MIN_SIGNING_KEY_LENGTH:
            problem = f"is {len(value)} characters long; it must be at least {MIN_SIGNING_KEY_LENGTH}"
        elif not all(" " <= char <= "~" for char in value):
            problem = "has a character that is not printable ASCII (Bird does not document how it encodes others)"
        else:
            return
        self.fail(prop, f"{problem}: generate one with `{GENERATE_SIGNING_KEY}`")

    def uuid(self, prop: str) -> None:
        value = self.string(prop)
        if value is not None and not is_uuid(value):
            self.fail(prop, f"must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, got {_describe(value)}")

    def one_of(self, prop: str, allowed: Sequence[str], *, required: bool = False) -> None:
        value = self.string(prop, required=required)
        if value is not None and value not in allowed:
            self.fail(prop, f"must be one of {', '.join(allowed)}; got {_describe(value)}")

    def boolean(self, prop: str) -> None:
        judge, value = self.get(prop)
        if judge and not isinstance(value, bool):
            self.fail(prop, f"must be true or false, got {_describe(value)}")

    def seconds(self, prop: str) -> None:
        judge, value = self.get(prop)
        if not judge:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            self.fail(prop, f"must be a number of seconds, got {_describe(value)}")
        elif not 0 < value <= MAX_READY_TIMEOUT:
            self.fail(prop, f"must be more than 0 and at most {MAX_READY_TIMEOUT} seconds, got {value}")

    def https_url(self, prop: str, *, required: bool = False) -> None:
        value = self.string(prop, required=required, max_length=2048)
        if value is not None and not HTTPS_URL.match(value):
            self.fail(prop, "must be a public https:// URL with a domain name, such as https://example.com/bird")

    def string_map(self, prop: str, *, depth: int = 1) -> Optional[dict[str, Any]]:
        """A dict with string keys; ``depth=2`` means a dict of dicts of strings (security arguments)."""
        judge, value = self.get(prop)
        if not judge:
            return None
        if not isinstance(value, dict):  # its type only: a credential given in place of the mapping is a secret
            self.fail(prop, f"must be a mapping, got a {type(value).__name__}")
            return None
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                self.fail(prop, "keys must be non-empty strings")
                return None
            if depth == 2 and not is_unknown(item) and not (isinstance(item, dict) and all(
                    isinstance(k, str) and (isinstance(v, str) or is_unknown(v)) for k, v in item.items())):
                self.fail(f"{prop}.{key}", "must be a mapping of strings to strings")
        return value
