"""Verify the signature Bird puts on every webhook delivery.

Bird signs ``timestamp + "\\n" + request URL + "\\n" + SHA-256(raw body)`` (the digest as raw bytes) with
HMAC-SHA256 keyed by the subscription's signing key, and sends it base64-encoded in the
``messagebird-signature`` header with the timestamp in ``messagebird-request-timestamp``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Callable, Mapping, Optional, ParamSpec, Union

SIGNATURE_HEADER = "messagebird-signature"
TIMESTAMP_HEADER = "messagebird-request-timestamp"
REQUEST_ID_HEADER = "messagebird-request-id"
# Bird retries failed deliveries for hours, so a retried delivery carries its first timestamp: accept a
# day by default. Replays within that window are for the receiver to stop, by messagebird-request-id.
DEFAULT_TOLERANCE = 24 * 3600
# A delivery stamped this far in the future comes from a wrong clock or a forger.
MAX_FUTURE_SKEW = 300


P = ParamSpec("P")


class SignatureError(ValueError):
    """The delivery is not signed by the expected key, or is too old (never says what the key is)."""


def compute_signature(signing_key: str, timestamp: str, url: str, body: bytes) -> str:
    """The base64 signature Bird sends for this delivery."""
    message = f"{timestamp}\n{url}\n".encode() + hashlib.sha256(body).digest()
    digest = hmac.new(signing_key.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def verify_signature(
    signing_key: str,
    *,
    headers: Mapping[str, str],
    url: str,
    body: Union[bytes, str],
    tolerance: Optional[float] = DEFAULT_TOLERANCE,
    now: Optional[float] = None,
) -> None:
    """Raise :class:`SignatureError` unless ``headers`` carry Bird's valid signature of this delivery.

    :param signing_key: the subscription's signing key.
    :param headers: the request headers (any case).
    :param url: the full URL Bird posted to, as Bird knows it (scheme, host, path and query).
    :param body: the raw request body, exactly as received.
    :param tolerance: seconds a timestamp may be old (None: no limit).
    :param now: the current time (UNIX seconds), for tests.
    """
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise SignatureError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    try:
        stamped = float(timestamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a UNIX timestamp") from None
    age = (time.time() if now is None else now) - stamped
    if age < -MAX_FUTURE_SKEW:
        raise SignatureError("the delivery's timestamp lies in the future")
    if tolerance is not None and age > tolerance:
        raise SignatureError(f"the delivery is older than {tolerance:g}s")
    raw = body.encode() if isinstance(body, str) else body
    try:
        presented = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the signature is not base64") from None
    expected = base64.b64decode(compute_signature(signing_key, timestamp, url, raw))
    if not hmac.compare_digest(presented, expected):
        raise SignatureError("the signature does not match this delivery")


def _as_bool(verify: Callable[P, None]) -> Callable[P, bool]:
    """``verify`` as a predicate: True when it passes, False when it raises :class:`SignatureError`."""

    def check(*args: P.args, **kwargs: P.kwargs) -> bool:
        try:
            verify(*args, **kwargs)
        except SignatureError:
            return False
        return True

    return check


# :func:`verify_signature` as a boolean (the same parameters).
is_valid_signature = _as_bool(verify_signature)
is_valid_signature.__name__ = is_valid_signature.__qualname__ = "is_valid_signature"
is_valid_signature.__doc__ = ":func:`verify_signature` as a boolean: True for a valid signature, False otherwise."
