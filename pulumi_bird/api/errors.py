"""One exception tree for everything Bird answers, chosen by HTTP status in one factory: every error carries the
request's method and URL, the status, and Bird's ``code``, ``message`` and ``details``, never a secret."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
from typing import Any, Iterable, Optional
from urllib.parse import quote

# Secrets shorter than this are not searched for in Bird's answers: replacing one- to three-letter strings
# would garble messages, and no access key or signing key is that short.
MIN_REDACTED_LENGTH = 4
# A piece of a secret this long is redacted wherever it appears (a quote cut inside the key, a key split across
# two fields): 8 characters of a random key are as good as a guess, and ordinary words rarely match that much
# of one. Shorter pieces are redacted only where a cut leaves them: a head ending a text, a tail starting one.
MIN_FRAGMENT_LENGTH = 8
REDACTED = "[redacted]"
# What a terminal would act on rather than show: C0 and C1 control characters (ESC starts ANSI and OSC sequences,
# CR rewrites the line, LF forges another), DEL, and the Unicode controls that reorder text (bidi overrides and
# isolates, Arabic letter mark) or break lines (line and paragraph separators).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character written as its escape (``\\x1b``, ``\\n``, ``\\u202e``): Bird's words
    are data, shown as they are, and never move the cursor, recolour, retitle or forge a line of the terminal."""
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


class BirdError(Exception):
    """Base class of every error raised by :mod:`pulumi_bird`'s client."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: Optional[int] = None,
        code: Optional[str] = None,
        bird_message: Optional[str] = None,
        details: Optional[dict[str, Any]] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.bird_message = bird_message
        self.details: dict[str, Any] = details or {}
        self.request_id = request_id

    def with_summary(self, summary: str) -> "BirdError":
        """The same error (class, request, Bird's words) with a more helpful first sentence."""
        clone = copy.copy(self)
        clone.args = (summary,)
        return clone

    def __str__(self) -> str:
        where = f"{self.method} {self.url}".strip()
        parts = [super().__str__()]
        if where:
            parts.append(f"[{where}" + (f" -> {self.status}" if self.status else "") + "]")
        if self.code or self.bird_message:
            parts.append(f"Bird said {self.code or '?'}: {self.bird_message or ''}".rstrip(": "))
        if self.request_id:
            parts.append(f"(request id {self.request_id})")
        return printable(" ".join(parts))


class ConfigError(BirdError, ValueError):
    """The configuration is missing or invalid: no access key, a key that cannot be sent in a header, a bad API
    URL or rate limit (the message never contains the key)."""


class AuthenticationError(BirdError):
    """401/403: the access key is missing, wrong, or lacks access to the workspace."""


class NotFoundError(BirdError):
    """404: the object (or its workspace/organization) does not exist."""


class ConflictError(BirdError):
    """409: the object conflicts with an existing one (a number already carries a connector)."""


class InvalidRequestError(BirdError):
    """400/422: Bird rejected the request body or parameters."""


class RateLimitError(BirdError):
    """429: Bird did not process the request; it may be retried (see ``retry_after``)."""

    retry_after: Optional[float] = None


class UnexpectedResponseError(BirdError, ValueError):
    """A 2xx answer we cannot read (not JSON, truncated, or missing what the operation needs), or a redirect;
    for a POST it is ambiguous (Bird may have committed the object)."""


class RedirectError(UnexpectedResponseError):
    """A 3xx: Bird's API does not redirect, so the API URL is wrong or a proxy is in the way. Never followed."""


class ForeignObjectError(UnexpectedResponseError):
    """A 2xx that names another object than the one asked for (another id, workspace or echoed field): a proxy,
    cache or routing fault. Nothing it names is stored, adopted or deleted."""


class ServerError(BirdError):
    """5xx: Bird failed; the request may or may not have taken effect."""


class APIConnectionError(BirdError):
    """The API could not be reached, or did not answer in time."""

    def __init__(self, message: str, *, timed_out: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.timed_out = timed_out


class ReadinessError(BirdError):
    """A connector's channel ended in ``error`` or did not become active in time."""

    def __init__(self, message: str, *, connector_id: str, timed_out: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.connector_id = connector_id
        self.timed_out = timed_out


_BY_STATUS: dict[int, type[BirdError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    # Gone: the object was there and was deleted (a DELETE that Bird answers 410 has nothing left to do).
    410: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitError,
}

_SUMMARY: dict[type[BirdError], str] = {
    AuthenticationError: "Bird refused the access key (check bird:accessKey or BIRD_ACCESS_KEY)",
    NotFoundError: "not found on Bird",
    ConflictError: "Bird reported a conflict",
    InvalidRequestError: "Bird rejected the request",
    RateLimitError: "Bird rate-limited the request",
    ServerError: "Bird failed to handle the request",
    BirdError: "unexpected answer from Bird",
}


def _base64_forms(raw: bytes) -> set[str]:
    """The base64 text (standard and URL-safe) that ``raw`` becomes inside any longer base64 text: at each of
    the three byte alignments, the characters that encode ``raw``'s bytes alone."""
    forms: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + raw).decode("ascii")
        core = encoded[4 if shift else 0:4 * ((shift + len(raw)) // 3)]
        forms.update({core, core.translate(str.maketrans("+/", "-_"))})
    whole = base64.b64encode(raw).decode("ascii")
    forms.update({whole, whole.rstrip("="), base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")})
    return forms


def secret_forms(secrets: Iterable[Optional[str]]) -> list[str]:
    """Every spelling of ``secrets`` a server might echo: as is, URL-encoded, JSON-escaped, base64 (whole or
    inside longer base64 text, standard or URL-safe) and hex; longest first. :func:`redact_text` matches them in
    any case (a key echoed upper-cased, hex in capitals)."""
    forms: set[str] = set()
    for secret in secrets:
        if not isinstance(secret, str) or len(secret) < MIN_REDACTED_LENGTH:
            continue
        raw = secret.encode()
        forms.update({secret, quote(secret, safe=""), quote(secret), json.dumps(secret)[1:-1], raw.hex()})
        forms.update(_base64_forms(raw))
    return sorted((form for form in forms if len(form) >= MIN_REDACTED_LENGTH), key=len, reverse=True)


def _fragments(text: str, forms: list[str]) -> list[bool]:
    """Which characters of ``text`` are a piece of a secret, in any case: runs of MIN_FRAGMENT_LENGTH or more
    characters found inside a secret, a secret's head ending the text, its tail starting it (at least
    MIN_REDACTED_LENGTH long)."""
    k = MIN_FRAGMENT_LENGTH
    text = text.lower()
    covered = [False] * len(text)
    for form in (form.lower() for form in forms):
        grams = {form[i:i + k] for i in range(len(form) - k + 1)}
        for i in range(len(text) - k + 1):
            if text[i:i + k] in grams:
                covered[i:i + k] = [True] * k
        cuts = range(min(len(form), len(text)), MIN_REDACTED_LENGTH - 1, -1)
        head = next((n for n in cuts if text.endswith(form[:n])), 0)
        tail = next((n for n in cuts if text.startswith(form[-n:])), 0)
        covered[len(text) - head:] = [True] * head
        covered[:tail] = [True] * tail
    return covered


def redact_text(text: str, forms: list[str]) -> str:
    """``text`` with every whole secret, and every piece of one (see :func:`_fragments`), replaced, in any case."""
    if forms:
        text = re.compile("|".join(map(re.escape, forms)), re.IGNORECASE).sub(REDACTED, text)
    runs = itertools.groupby(zip(_fragments(text, forms), text), key=lambda pair: pair[0])
    return "".join(REDACTED if hit else "".join(char for _, char in run) for hit, run in runs)


def redact(value: Any, secrets: Iterable[Optional[str]]) -> Any:
    """``value`` (a string, or JSON made of dicts, lists and strings) with every secret, whole or cut, replaced
    by [redacted]."""
    forms = secret_forms(secrets)
    if not forms:
        return value

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return redact_text(item, forms)
        if isinstance(item, dict):
            return {walk(k): walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)


def error_from_response(
    *,
    method: str,
    url: str,
    status: int,
    body: Any,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
    secrets: Iterable[Optional[str]] = (),
) -> BirdError:
    """Build the exception for a non-2xx answer. Whatever the server echoes, ``secrets`` (the access key,
    signing keys and other secret values of the request) are redacted from every text the error carries."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else BirdError)
    fields = body if isinstance(body, dict) else {}
    code, message, details = (fields.get(name) for name in ("code", "message", "details"))
    secrets = list(secrets)
    err = cls(
        _SUMMARY.get(cls, _SUMMARY[BirdError]),
        method=method,
        url=redact(url, secrets),
        status=status,
        code=redact(code, secrets) if isinstance(code, str) else None,
        bird_message=redact(message, secrets) if isinstance(message, str) else None,
        details=redact(details, secrets) if isinstance(details, dict) else {},
        request_id=redact(request_id, secrets),
    )
    if isinstance(err, RateLimitError):
        err.retry_after = retry_after
    return err
