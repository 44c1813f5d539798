"""Wire values and names: Pulumi's property values with camelCase keys <-> the dynamic providers' plain values with
snake_case keys. Secrets are unwrapped, and go back secret per top-level property; unknowns become the wire's
sentinel string; only top-level keys are renamed (nested ones, such as template arguments, are Bird's own).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import urlsplit

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from ..api.errors import MIN_REDACTED_LENGTH, REDACTED, redact
from .fields import Field, translate


def to_plain(value: PropertyValue, secrets: Optional[set[str]] = None, inside: bool = False) -> Any:
    """A property value as the dynamic providers take it (secrets unwrapped, unknowns as the sentinel); every string
    inside a secret that is long enough to redact (as ``redact()`` judges) is added to ``secrets``."""
    inside = inside or value.is_secret
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: to_plain(v, secrets, inside) for k, v in inner.items()}
    if isinstance(inner, (list, tuple)):
        return [to_plain(v, secrets, inside) for v in inner]
    if secrets is not None and inside and isinstance(inner, str) and len(inner) >= MIN_REDACTED_LENGTH:
        secrets.add(inner)
    return inner


def to_value(value: Any, secret: bool = False) -> PropertyValue:
    """A plain value as a property value. The unknown sentinel stays the string it is on the wire (the SDK reads an
    unknown as that string, and cannot marshal its own ``Computed``)."""
    if isinstance(value, Mapping):
        value = {str(k): to_value(v) for k, v in value.items()}
    elif isinstance(value, (list, tuple)):
        value = [to_value(v) for v in value]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # the wire has one number type
    return PropertyValue(value, is_secret=secret)


@dataclass(frozen=True)
class Names:
    """The property names of one resource: snake_case (the providers) <-> camelCase (the wire)."""

    fields: tuple[Field, ...]

    @property
    def to_key(self) -> dict[str, str]:
        return {f.name: f.key for f in self.fields}

    def incoming(self, props: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], set[str]]:
        """(plain values by snake_case name, the names that arrived secret). Unknown keys keep their spelling,
        so a check names the property as the user wrote it."""
        to_name = {f.key: f.name for f in self.fields}
        plain, secret, seen = {}, set(), set()
        for key, value in props.items():
            name = to_name.get(key, key)
            plain[name] = to_plain(value, seen)
            if value.contains_secret():
                secret.add(name)
        with _LOCK:
            _SEEN.update(seen)
        return plain, secret

    def outgoing(self, values: Mapping[str, Any], secret: Iterable[str] = ()) -> dict[str, PropertyValue]:
        """Property values by camelCase key: None left out, declared and given secrets wrapped."""
        to_key, hidden = self.to_key, {f.name for f in self.fields if f.secret} | set(secret)
        return {to_key.get(name, name): to_value(value, name in hidden)
                for name, value in values.items() if value is not None and not name.startswith("__")}

    def key(self, path: str) -> str:
        """A property path as the user wrote it: ``event_filters[0].key`` -> ``eventFilters[0].key``."""
        head = path.split("[", 1)[0].split(".", 1)[0]
        return self.to_key.get(head, head) + path[len(head):]

    def message(self, text: str) -> str:
        """A message with the property names as the user writes them."""
        return translate(text, self.to_key)


# Every string the plugin received inside a secret value, for the life of the process (one plugin serves one
# deployment). The providers see plain values and their own redaction knows only the secrets their schema declares;
# the plugin knows what the user marked (``Output.secret(url)``, ``Output.secret({...})``), so it redacts those from
# every text it returns (errors, check failures) and from pulumi_bird's log records.
_SEEN: set[str] = set()
_LOCK = threading.Lock()


def hide(text: str) -> str:
    """``text`` with every secret received replaced: whole, and its pieces (see
    :func:`~pulumi_bird.api.errors.redact`). Of a URL only the parts after the host, and its userinfo, are looked
    for in pieces: every URL shares ``https://`` and many a host, which are no secret."""
    with _LOCK:
        values = sorted(_SEEN, key=len, reverse=True)
    for value in values:
        text = text.replace(value, REDACTED)
    pieces = [piece for value in values for piece in _secret_pieces(value)]
    return redact(text, pieces) if pieces else text


def _secret_pieces(value: str) -> list[str]:
    """What of a secret value to look for in pieces: a URL's userinfo and what follows its host, else all of it."""
    try:
        parts = urlsplit(value)
        userinfo = parts.netloc.rpartition("@")[0]
    except ValueError:
        return [value]
    if not (parts.scheme and parts.netloc):
        return [value]
    rest = value[value.index(parts.netloc) + len(parts.netloc):]
    return [piece for piece in (userinfo, rest) if len(piece) > 1]


def _hide_in_record(record: logging.LogRecord) -> bool:
    """A handler filter: a log record's message with every secret the plugin received redacted."""
    record.msg, record.args = hide(record.getMessage()), None
    return True


def hide_secrets_in_logs() -> None:
    """Put :func:`_hide_in_record` on every handler of pulumi_bird's logger and of the root logger (once:
    ``addFilter`` adds a filter a handler already has no second time)."""
    for logger in (logging.getLogger("pulumi_bird"), logging.getLogger()):
        for handler in logger.handlers:
            handler.addFilter(_hide_in_record)


def plain_map(props: Optional[Mapping[str, PropertyValue]]) -> dict[str, Any]:
    """Property values as plain values, keys unchanged (configuration, lookup arguments)."""
    return {k: to_plain(v) for k, v in (props or {}).items()}
