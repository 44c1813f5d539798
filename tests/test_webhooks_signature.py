"""verify_signature: Bird's delivery signature, checked in constant time within a short window; ReplayGuard:
each signed delivery accepted once."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from pulumi_bird.api.signatures import (
    DEFAULT_TOLERANCE,
    ReplayError,
    ReplayGuard,
    ReplayGuardFull,
    SignatureError,
    compute_signature,
    is_valid_signature,
    verify_signature,
)

KEY = "whsec-test-signing-key-0123456789abcdef"
URL = "https://hooks.example.com/bird?tenant=7"
BODY = b'{"service":"channels","event":"channel.updated","payload":{"id":"x"}}'
NOW = 1_790_000_000.0


def signed_headers(key: "str | bytes" = KEY, timestamp: float = NOW, body: bytes = BODY, url: str = URL) -> dict:
    # Written out from the rule in bird-api.md, independently of compute_signature.
    message = f"{int(timestamp)}\n{url}\n".encode() + hashlib.sha256(body).digest()
    raw = key if isinstance(key, bytes) else key.encode()
    signature = base64.b64encode(hmac.new(raw, message, hashlib.sha256).digest()).decode()
    return {"MessageBird-Signature": signature, "messagebird-request-timestamp": str(int(timestamp)),
            "messagebird-request-id": "req-1"}


def test_accepts_a_genuine_delivery_and_headers_in_any_case():
    verify_signature(KEY, headers=signed_headers(), url=URL, body=BODY, now=NOW + 5)
    assert is_valid_signature(KEY, headers=signed_headers(), url=URL, body=BODY.decode(), now=NOW)


def test_compute_signature_matches_the_rule():
    assert compute_signature(KEY, str(int(NOW)), URL, BODY) == signed_headers()["MessageBird-Signature"]


@pytest.mark.parametrize("change", ["key", "body", "url", "timestamp"])
def test_rejects_anything_altered(change):
    headers = signed_headers()
    kwargs = dict(headers=headers, url=URL, body=BODY, now=NOW)
    if change == "key":
        key = "another-key"
    else:
        key = KEY
    if change == "body":
        kwargs["body"] = BODY + b" "
    if change == "url":
        kwargs["url"] = URL.replace("tenant=7", "tenant=8")
    if change == "timestamp":
        headers["messagebird-request-timestamp"] = str(int(NOW) - 1)
    with pytest.raises(SignatureError) as caught:
        verify_signature(key, **kwargs)
    assert KEY not in str(caught.value)


def test_the_default_window_is_minutes_and_tolerance_widens_it():
    assert DEFAULT_TOLERANCE == 300
    verify_signature(KEY, headers=signed_headers(), url=URL, body=BODY, now=NOW + 300)
    with pytest.raises(SignatureError, match="older than 300s"):
        verify_signature(KEY, headers=signed_headers(), url=URL, body=BODY, now=NOW + 301)
    hours_later = NOW + 6 * 3600
    verify_signature(KEY, headers=signed_headers(), url=URL, body=BODY, now=hours_later, tolerance=8 * 3600)
    with pytest.raises(SignatureError, match="older"):
        verify_signature(KEY, headers=signed_headers(), url=URL, body=BODY, now=hours_later, tolerance=3600)
    verify_signature(KEY, headers=signed_headers(), url=URL, body=BODY, now=NOW + 10 * 86400, tolerance=None)


def test_future_timestamps_missing_headers_and_junk_are_refused():
    with pytest.raises(SignatureError, match="future"):
        verify_signature(KEY, headers=signed_headers(timestamp=NOW + 3600), url=URL, body=BODY, now=NOW)
    with pytest.raises(SignatureError, match="missing"):
        verify_signature(KEY, headers={}, url=URL, body=BODY, now=NOW)
    bad = signed_headers()
    bad["MessageBird-Signature"] = "***not base64***"
    with pytest.raises(SignatureError, match="base64"):
        verify_signature(KEY, headers=bad, url=URL, body=BODY, now=NOW)
    bad = signed_headers()
    bad["messagebird-request-timestamp"] = "yesterday"
    with pytest.raises(SignatureError, match="timestamp"):
        verify_signature(KEY, headers=bad, url=URL, body=BODY, now=NOW)


def test_comparison_is_constant_time_and_is_what_decides(monkeypatch):
    import pulumi_bird.api.signatures as webhooks

    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", recording)
    genuine = signed_headers()
    expected = base64.b64decode(genuine["MessageBird-Signature"])
    verify_signature(KEY, headers=genuine, url=URL, body=BODY, now=NOW)
    assert compared == [(expected, expected)]

    # A forged signature of the same length (one bit flipped): refused, after a constant-time comparison of
    # the raw digests.
    forged = bytes([expected[0] ^ 1]) + expected[1:]
    forged_headers = {**genuine, "MessageBird-Signature": base64.b64encode(forged).decode()}
    with pytest.raises(SignatureError, match=r"^the signature does not match this delivery$"):
        verify_signature(KEY, headers=forged_headers, url=URL, body=BODY, now=NOW)
    assert sorted(compared[1]) == sorted((forged, expected)) and len(compared) == 2

    # compare_digest alone decides: nothing else (an early ==, a prefix check) refuses a signature it accepts.
    monkeypatch.setattr(webhooks.hmac, "compare_digest", lambda a, b: True)
    verify_signature(KEY, headers=forged_headers, url=URL, body=BODY, now=NOW)


@pytest.mark.parametrize("key", ["", b"", None, 42, ["k"]])
def test_an_empty_or_wrong_kind_of_key_is_refused_as_a_signature_error(key):
    # An empty key signs what anybody can compute: a forgery made with it must not pass.
    forged = signed_headers(key=b"")
    with pytest.raises(SignatureError, match="signing key"):
        verify_signature(key, headers=forged, url=URL, body=BODY, now=NOW)
    assert is_valid_signature(key, headers=forged, url=URL, body=BODY, now=NOW) is False


def test_a_bytes_key_is_used_as_given_and_a_non_ascii_text_key_is_refused_clearly():
    raw = "clé-de-signature-0123456789abcdef".encode("latin-1")
    verify_signature(raw, headers=signed_headers(key=raw), url=URL, body=BODY, now=NOW)
    with pytest.raises(SignatureError, match=r"non-ASCII .* pass the key as bytes"):
        verify_signature("clé-de-signature-0123456789abcdef", headers=signed_headers(key=raw), url=URL, body=BODY,
                         now=NOW)


@pytest.mark.parametrize("stamp", ["nan", "inf", "-inf", "1.79e9", "+1790000000", " 1790000000", "1790000000.0",
                                   "1_790_000_000", "١٧٩٠٠٠٠٠٠٠", "9" * 40])
def test_a_timestamp_must_be_whole_unix_seconds(stamp):
    headers = signed_headers()
    headers["messagebird-request-timestamp"] = stamp
    # signed with that very timestamp text: only the timestamp rule can refuse it
    headers["MessageBird-Signature"] = compute_signature(KEY, stamp, URL, BODY)
    with pytest.raises(SignatureError, match="UNIX timestamp"):
        verify_signature(KEY, headers=headers, url=URL, body=BODY, now=NOW)


@pytest.mark.parametrize("option", [{"now": float("nan")}, {"tolerance": float("nan")}, {"now": float("inf")},
                                    {"tolerance": "300"}])
def test_a_window_that_is_not_a_finite_number_is_refused(option):
    kwargs = {"now": NOW, **option}
    with pytest.raises(SignatureError, match="finite number"):
        verify_signature(KEY, headers=signed_headers(), url=URL, body=BODY, **kwargs)


@pytest.mark.parametrize("change", ["headers", "url", "body", "header value"])
def test_other_wrong_input_is_a_signature_error(change):
    kwargs = dict(headers=signed_headers(), url=URL, body=BODY, now=NOW)
    if change == "headers":
        kwargs["headers"] = None
    elif change == "url":
        kwargs["url"] = URL.encode()
    elif change == "body":
        kwargs["body"] = {"service": "channels"}
    else:
        kwargs["headers"] = {**signed_headers(), "messagebird-request-timestamp": 1790000000}
    with pytest.raises(SignatureError):
        verify_signature(KEY, **kwargs)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_guard_accepts_a_delivery_once_whatever_request_id_it_carries():
    guard = ReplayGuard(clock=Clock(NOW + 1))
    guard.verify(KEY, headers=signed_headers(), url=URL, body=BODY)
    for replay in ({"messagebird-request-id": "req-2"}, {"messagebird-request-id": ""}):
        with pytest.raises(ReplayError):
            guard.verify(KEY, headers={**signed_headers(), **replay}, url=URL, body=BODY)
    no_id = {k: v for k, v in signed_headers().items() if k != "messagebird-request-id"}
    with pytest.raises(ReplayError):
        guard.verify(KEY, headers=no_id, url=URL, body=BODY)
    # the same signature spelled with other trailing bits of base64 is the same delivery
    spelled = signed_headers()
    text = spelled["MessageBird-Signature"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = text.rstrip("=")[-1]
    variant = text.rstrip("=")[:-1] + alphabet[alphabet.index(last) ^ 1] + "="
    assert base64.b64decode(variant) == base64.b64decode(text) and variant != text
    with pytest.raises(ReplayError):
        guard.verify(KEY, headers={**spelled, "MessageBird-Signature": variant}, url=URL, body=BODY)
    # another delivery (another body) is accepted
    guard.verify(KEY, headers=signed_headers(body=BODY + b" "), url=URL, body=BODY + b" ")
    assert len(guard) == 2


def test_the_guard_forgets_what_its_window_refuses_anyway_and_is_bounded_in_count():
    clock = Clock(NOW)
    guard = ReplayGuard(tolerance=60, max_deliveries=2, clock=clock)
    guard.verify(KEY, headers=signed_headers(), url=URL, body=BODY)
    guard.verify(KEY, headers=signed_headers(timestamp=NOW + 30), url=URL, body=BODY)
    with pytest.raises(ReplayGuardFull):
        guard.verify(KEY, headers=signed_headers(timestamp=NOW + 31), url=URL, body=BODY)
    clock.now = NOW + 61  # the first is now too old to pass verify_signature: forgotten, and its room freed
    with pytest.raises(SignatureError, match="older than 60s"):
        guard.verify(KEY, headers=signed_headers(), url=URL, body=BODY)
    guard.verify(KEY, headers=signed_headers(timestamp=NOW + 31), url=URL, body=BODY)
    assert len(guard) == 2
    with pytest.raises(ReplayError):
        guard.verify(KEY, headers=signed_headers(timestamp=NOW + 30), url=URL, body=BODY)


def test_a_forgotten_delivery_is_accepted_again():
    guard = ReplayGuard(clock=Clock(NOW))
    guard.verify(KEY, headers=signed_headers(), url=URL, body=BODY)
    guard.forget(signed_headers())
    guard.verify(KEY, headers=signed_headers(), url=URL, body=BODY)
    with pytest.raises(ReplayError):
        guard.verify(KEY, headers=signed_headers(), url=URL, body=BODY)


@pytest.mark.parametrize("options", [{"tolerance": 0}, {"tolerance": float("nan")}, {"tolerance": 10 * 3600},
                                     {"max_deliveries": 0}, {"max_deliveries": True}])
def test_the_guard_refuses_an_unbounded_or_empty_window(options):
    with pytest.raises(ValueError):
        ReplayGuard(**options)
