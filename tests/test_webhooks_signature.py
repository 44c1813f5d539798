"""verify_signature: Bird's delivery signature, checked in constant time with a tolerance for late retries."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from pulumi_bird.api.signatures import SignatureError, compute_signature, is_valid_signature, verify_signature

KEY = "whsec-test-signing-key"
URL = "https://hooks.example.com/bird?tenant=7"
BODY = b'{"service":"channels","event":"channel.updated","payload":{"id":"x"}}'
NOW = 1_790_000_000.0


def signed_headers(key: str = KEY, timestamp: float = NOW, body: bytes = BODY, url: str = URL) -> dict:
    # Written out from the rule in bird-api.md, independently of compute_signature.
    message = f"{int(timestamp)}\n{url}\n".encode() + hashlib.sha256(body).digest()
    signature = base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()
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


def test_late_retries_are_accepted_within_tolerance_and_refused_beyond():
    hours_later = NOW + 6 * 3600
    verify_signature(KEY, headers=signed_headers(), url=URL, body=BODY, now=hours_later)
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
