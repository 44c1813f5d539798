"""Verify the signature Bird puts on every webhook delivery, and accept each signed delivery once, as
docs/resources.md ("Verifying deliveries") and
https://docs.bird.com/api/notifications-api/api-reference/webhooks/verifying-a-webhook describe."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import heapq
import hmac
import math
import re
import threading
import time
from typing import Any, Callable, Mapping, Optional, Union

SIGNATURE_HEADER = "messagebird-signature"
TIMESTAMP_HEADER = "messagebird-request-timestamp"
REQUEST_ID_HEADER = "messagebird-request-id"
# How old a delivery may be: short (Stripe's and Slack's 5 minutes), as it is how long a captured delivery can be
# replayed and ReplayGuard must remember it; Bird's retries over 8 hours may need more (docs/resources.md).
DEFAULT_TOLERANCE = 300
# Bird's retry period (8 hours) and an hour of clock skew: no genuine delivery is older.
MAX_TOLERANCE = 9 * 3600
# A delivery stamped this far in the future comes from a wrong clock or a forger.
MAX_FUTURE_SKEW = 300
# UNIX seconds as Bird sends them: digits only (no sign, fraction, exponent, "nan" or "inf"), and few enough to
# stay an exact, finite number.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# How many deliveries a ReplayGuard remembers at most (about 150 bytes each): 100,000 within the default
# 5-minute window is over 300 deliveries a second. Past it, new deliveries are refused until old ones expire.
DEFAULT_MAX_DELIVERIES = 100_000


class SignatureError(ValueError):
    """The delivery is not signed by the expected key, is too old, or the check was given unusable input
    (never says what the key is)."""


class ReplayError(SignatureError):
    """A genuine delivery that was already accepted (within its window): a replay, or a duplicate."""


class ReplayGuardFull(SignatureError):
    """The guard holds its maximum of deliveries within the window: this one is refused, to be retried."""


def signing_key_bytes(signing_key: Union[str, bytes]) -> bytes:
    """The HMAC key for ``signing_key``: bytes as given, a string as ASCII (else, or empty, a SignatureError)."""
    if isinstance(signing_key, (bytes, bytearray)):
        key = bytes(signing_key)
    elif isinstance(signing_key, str):
        if not signing_key.isascii():
            # Bird's own examples disagree: its PHP one hashes the key's bytes as written (UTF-8 in practice), its
            # Node.js one encodes the key as Latin-1. Guessing would accept or refuse genuine deliveries by luck.
            raise SignatureError(
                "the signing key has non-ASCII characters, and Bird does not document how it encodes them: "
                "pass the key as bytes, encoded as Bird signs with it, or use an ASCII key")
        key = signing_key.encode("ascii")
    else:
        raise SignatureError(f"the signing key must be a str or bytes, not {type(signing_key).__name__}")
    if not key:
        raise SignatureError("the signing key is empty: anybody could sign a delivery with it")
    return key


def compute_signature(signing_key: Union[str, bytes], timestamp: str, url: str, body: bytes) -> str:
    """The base64 signature Bird sends for this delivery."""
    message = f"{timestamp}\n{url}\n".encode() + hashlib.sha256(body).digest()
    digest = hmac.new(signing_key_bytes(signing_key), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    try:
        found = next((value for key, value in headers.items() if isinstance(key, str) and key.lower() == name), None)
    except (AttributeError, TypeError, ValueError):
        raise SignatureError("headers must be a mapping of header names to values") from None
    return found if isinstance(found, str) else None


def _seconds(value: Optional[float], what: str) -> Optional[float]:
    """``value`` as a finite number of seconds (None stays None); a SignatureError for nan, inf or junk."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SignatureError(f"{what} must be a finite number of seconds, got {value!r:.40}")
    return float(value)


def _raw_body(body: Any) -> bytes:
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise SignatureError(f"the body must be the raw bytes received (or str), not {type(body).__name__}")


def _digest(headers: Mapping[str, str]) -> bytes:
    """The signature ``headers`` carry, as the raw digest."""
    try:
        return base64.b64decode(_header(headers, SIGNATURE_HEADER) or "", validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the signature is not base64") from None


def verify_signature(
    signing_key: Union[str, bytes],
    *,
    headers: Mapping[str, str],
    url: str,
    body: Union[bytes, str],
    tolerance: Optional[float] = DEFAULT_TOLERANCE,
    now: Optional[float] = None,
) -> None:
    """Raise :class:`SignatureError` unless ``headers`` (any case) carry Bird's valid signature of this delivery,
    made at most ``tolerance`` seconds before ``now`` (None: no limit). ``url`` is the full URL Bird posted to
    (scheme, host, path and query), ``body`` the raw body as received. A replay passes: see :class:`ReplayGuard`."""
    key = signing_key_bytes(signing_key)
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise SignatureError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a UNIX timestamp (whole seconds)")
    if not isinstance(url, str):
        raise SignatureError(f"the url must be the str Bird posted to, not {type(url).__name__}")
    limit = _seconds(tolerance, "tolerance")
    clock = _seconds(now, "now")
    age = (time.time() if clock is None else clock) - int(timestamp)
    if age < -MAX_FUTURE_SKEW:
        raise SignatureError("the delivery's timestamp lies in the future")
    if limit is not None and age > limit:
        raise SignatureError(f"the delivery is older than {limit:g}s")
    expected = base64.b64decode(compute_signature(key, timestamp, url, _raw_body(body)))
    if not hmac.compare_digest(_digest(headers), expected):
        raise SignatureError("the signature does not match this delivery")


def is_valid_signature(
    signing_key: Union[str, bytes],
    *,
    headers: Mapping[str, str],
    url: str,
    body: Union[bytes, str],
    tolerance: Optional[float] = DEFAULT_TOLERANCE,
    now: Optional[float] = None,
) -> bool:
    """:func:`verify_signature` as a boolean: True for a valid signature, False otherwise."""
    try:
        verify_signature(signing_key, headers=headers, url=url, body=body, tolerance=tolerance, now=now)
    except SignatureError:
        return False
    return True


class ReplayGuard:
    """:func:`verify_signature`, accepting each signed delivery once (docs/resources.md, "Verifying deliveries"):
    remembered by its signature (which covers timestamp, URL and body), not by the unsigned request id. One guard
    per signing key and URL, thread-safe, in memory (several processes need a shared store)."""

    def __init__(
        self,
        *,
        tolerance: float = DEFAULT_TOLERANCE,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        limit = _seconds(tolerance, "tolerance")
        if limit is None or not 0 < limit <= MAX_TOLERANCE:
            raise ValueError(f"tolerance must be from 0 to {MAX_TOLERANCE} seconds (Bird's 8 hours of retries)")
        if isinstance(max_deliveries, bool) or not isinstance(max_deliveries, int) or max_deliveries < 1:
            raise ValueError("max_deliveries must be a positive whole number")
        self.tolerance = limit
        self.max_deliveries = max_deliveries
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[bytes, float] = {}
        self._expiry: list[tuple[float, bytes]] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def verify(
        self, signing_key: Union[str, bytes], *, headers: Mapping[str, str], url: str, body: Union[bytes, str],
    ) -> None:
        """Raise :class:`SignatureError` unless this is a genuine delivery not accepted before (see the class)."""
        now = self._clock()
        verify_signature(signing_key, headers=headers, url=url, body=body, tolerance=self.tolerance, now=now)
        digest, expires = _digest(headers), int(_header(headers, TIMESTAMP_HEADER) or 0) + self.tolerance
        with self._lock:
            self._expire(now)
            if digest in self._seen:
                raise ReplayError("this delivery was accepted before: a replay or a duplicate, not handled again")
            if len(self._seen) >= self.max_deliveries:
                raise ReplayGuardFull(f"more than {self.max_deliveries} deliveries within {self.tolerance:g}s")
            self._seen[digest] = expires
            heapq.heappush(self._expiry, (expires, digest))

    def forget(self, headers: Mapping[str, str]) -> None:
        """Forget the delivery these headers carry (one whose handling failed), so that Bird's retry of it is
        accepted."""
        with self._lock, contextlib.suppress(SignatureError):
            self._seen.pop(_digest(headers), None)

    def _expire(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] < now:
            expires, digest = heapq.heappop(self._expiry)
            if self._seen.get(digest) == expires:
                del self._seen[digest]

