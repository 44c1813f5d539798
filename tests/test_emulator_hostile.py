"""Hostile HTTP against the emulator over raw sockets: it answers like a server, with an Error body, and
never drops the connection or fails with a 500 of its own.

Covered: JSON nested too deep, NaN and infinite numbers, bodies over 1 MiB (declared, sent, chunked),
malformed, absurd and conflicting Content-Length headers, bodies that stop short, unreadable request
lines and unknown methods, ``Expect: 100-continue`` for a body that will not be read, a request log
bounded in entries and bytes that never keeps the body of a refused request, and senders so slow that only
a deadline on the whole request ends them.
"""

from __future__ import annotations

import json
import select
import socket
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
import requests

from helpers import api_session
from openapi_schema import validate_named
from pulumi_bird.emulator import DEFAULT_WORKSPACE_ID, MAX_BODY_BYTES, BirdEmulator
from pulumi_bird.emulator.responses import MAX_JSON_DEPTH
from pulumi_bird.testing.fixtures import start_emulator

CONNECTORS = f"/workspaces/{DEFAULT_WORKSPACE_ID}/connectors"
# Every socket read in these tests is bounded; a hang is a failure, not a wait.
SOCKET_TIMEOUT_SECONDS = 10.0
# Enough to read any answer of the emulator.
MAX_ANSWER_BYTES = 1 << 16


@pytest.fixture(scope="module")
def emulator() -> Iterator[BirdEmulator]:
    with start_emulator(provision_seconds=0) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _no_500(emulator: BirdEmulator) -> Iterator[None]:
    """After each test: nothing was answered 500, and the emulator still serves a plain request."""
    emulator.clear_requests()
    yield
    assert [r for r in emulator.requests if r.status >= 500] == []
    with api_session(emulator.access_key) as session:
        assert session.get(emulator.url + CONNECTORS, params={"limit": 1}).status_code == 200


def webhooks_path(emulator: BirdEmulator) -> str:
    return f"/organizations/{emulator.organization_id}/workspaces/{emulator.workspace_id}/webhook-subscriptions"


def exchange(emulator: BirdEmulator, data: bytes, shut_write: bool = False) -> bytes:
    """Send raw bytes, read until the server closes (bounded), return everything it sent."""
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=SOCKET_TIMEOUT_SECONDS) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (bounded)."""
    received = b""
    for _ in range(MAX_ANSWER_BYTES):
        chunk = sock.recv(MAX_ANSWER_BYTES)
        if not chunk:
            return received
        received += chunk
    raise AssertionError("the server kept sending")


def request_bytes(
    emulator: BirdEmulator,
    method: str,
    path: str,
    body: Optional[bytes] = None,
    headers: Optional[List[Tuple[str, str]]] = None,
) -> bytes:
    """One HTTP/1.1 request; Content-Length from ``body`` unless ``headers`` bring their own framing."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: AccessKey {emulator.access_key}"]
    extra = headers or []
    framed = any(name.lower() in ("content-length", "transfer-encoding") for name, _ in extra)
    if body is not None and not framed:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in extra]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def parse_answer(raw: bytes) -> Tuple[int, Dict[str, str], Dict]:
    """Status, headers (lower-case names) and JSON body of one answer; fails unless it is well formed."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    assert separator, f"no complete answer: {raw[:200]!r}"
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, status, _ = status_line.split(" ", 2)
    assert version == "HTTP/1.1"
    headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    assert int(headers["content-length"]) == len(body), raw[:300]
    assert headers["content-type"] == "application/json"
    return int(status), headers, json.loads(body)


def assert_error(raw: bytes, *statuses: int) -> Dict:
    status, _, body = parse_answer(raw)
    assert status in statuses, (status, body)
    validate_named(body, "Error")
    return body


def nested(depth: int) -> str:
    """A JSON value whose arrays nest ``depth`` levels deep."""
    return "[" * depth + "]" * depth


def connector_with_arguments(arguments_json: str) -> bytes:
    prefix = '{"name": "deep", "connectorTemplateRef": "telegram:1", "arguments": {"a": '
    return (prefix + arguments_json + "}}").encode()


# --- JSON -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_nested_too_deep_gets_an_error_body(emulator: BirdEmulator, depth: int) -> None:
    body = nested(depth).encode()
    on_connectors = assert_error(exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, body)), 422)
    on_webhooks = assert_error(
        exchange(emulator, request_bytes(emulator, "POST", webhooks_path(emulator), body)), 400
    )
    assert "nests deeper" in on_connectors["message"] and "nests deeper" in on_webhooks["message"]


def test_arguments_500_deep_are_refused_and_nothing_is_created(emulator: BirdEmulator) -> None:
    before = len(emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID))
    raw = exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, connector_with_arguments(nested(500))))
    assert "nests deeper" in assert_error(raw, 422)["message"]
    assert len(emulator.backend.list_all_connectors(DEFAULT_WORKSPACE_ID)) == before


def test_nesting_up_to_the_limit_is_accepted_and_echoed(emulator: BirdEmulator) -> None:
    # The body is level 1, arguments level 2, "a" level 3: the arrays may take the rest.
    deepest = connector_with_arguments(nested(MAX_JSON_DEPTH - 2))
    status, _, created = parse_answer(exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, deepest)))
    assert status == 201 and json.dumps(created["arguments"]["a"]).replace(" ", "") == nested(MAX_JSON_DEPTH - 2)
    too_deep = connector_with_arguments(nested(MAX_JSON_DEPTH - 1))
    assert_error(exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, too_deep)), 422)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_numbers_get_422_everywhere(emulator: BirdEmulator, number: str) -> None:
    connector = connector_with_arguments(number)
    webhook = f'{{"service": "numbers", "event": "x.y", "url": "https://a.example.com", "eventFilters": {number}}}'
    for path, body in ((CONNECTORS, connector), (webhooks_path(emulator), webhook.encode())):
        answer = assert_error(exchange(emulator, request_bytes(emulator, "POST", path, body)), 422)
        assert "NaN or infinite" in answer["message"]
    assert emulator.backend.list_all_webhooks(emulator.organization_id, emulator.workspace_id) == []


# --- body size ------------------------------------------------------------------------------------------


def test_a_declared_body_over_1_mib_is_refused_before_it_is_sent(emulator: BirdEmulator) -> None:
    # Only the headers go out: the answer must come without the server waiting for the body.
    headers = [("Content-Length", str(MAX_BODY_BYTES + 1))]
    raw = exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, headers=headers))
    status, answer_headers, body = parse_answer(raw)
    assert status == 413 and answer_headers["connection"] == "close"
    validate_named(body, "Error")


def test_a_body_of_exactly_1_mib_is_read(emulator: BirdEmulator) -> None:
    body = b" " * (MAX_BODY_BYTES - 2) + b"{}"
    assert_error(exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, body)), 422)  # read: no name


def test_a_10_mib_body_sent_in_full_still_gets_its_413(emulator: BirdEmulator) -> None:
    # The client writes everything before it reads: the server must drain, not reset the connection.
    with api_session(emulator.access_key) as session:
        response = session.post(emulator.url + CONNECTORS, data=b"x" * (10 * MAX_BODY_BYTES))
    assert response.status_code == 413
    validate_named(response.json(), "Error")
    (recorded,) = [r for r in emulator.requests if r.status == 413]
    assert recorded.body is None


def test_a_chunked_body_is_read_and_one_growing_over_1_mib_gets_413(emulator: BirdEmulator) -> None:
    small = json.dumps({"name": "chunked", "connectorTemplateRef": "line:1"}).encode()
    with api_session(emulator.access_key) as session:
        created = session.post(emulator.url + CONNECTORS, data=iter([small[:10], small[10:]]))
        assert created.status_code == 201 and created.json()["name"] == "chunked"
        big = session.post(emulator.url + CONNECTORS, data=(b"y" * 65536 for _ in range(40)))
    assert big.status_code == 413
    validate_named(big.json(), "Error")


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nab\r\n0\r\n\r\n",  # a size that is no hex number
        b"5\r\nab",  # a chunk cut short
        b"2\r\nabXX0\r\n\r\n",  # no line end after the chunk
    ],
)
def test_malformed_chunked_bodies_get_400(emulator: BirdEmulator, chunks: bytes) -> None:
    raw = request_bytes(emulator, "POST", CONNECTORS, chunks, headers=[("Transfer-Encoding", "chunked")])
    assert_error(exchange(emulator, raw, shut_write=True), 400)


# --- Content-Length -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, status",
    [
        ([("Content-Length", "abc")], 400),
        ([("Content-Length", "-1")], 400),
        ([("Content-Length", "+5")], 400),
        ([("Content-Length", "0x10")], 400),
        ([("Content-Length", "1_0")], 400),
        ([("Content-Length", "")], 400),
        ([("Content-Length", "5"), ("Content-Length", "6")], 400),
        ([("Content-Length", "5"), ("Transfer-Encoding", "chunked")], 400),
        ([("Transfer-Encoding", "gzip")], 400),
        ([("Content-Length", "1000000000000")], 413),
        ([("Content-Length", "9" * 40)], 413),
    ],
)
def test_bad_framing_is_answered_without_reading_the_body(
    emulator: BirdEmulator, headers: List[Tuple[str, str]], status: int
) -> None:
    raw = exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, headers=headers))
    status_seen, answer_headers, body = parse_answer(raw)
    assert status_seen == status and answer_headers["connection"] == "close"
    validate_named(body, "Error")
    (recorded,) = emulator.requests
    assert (recorded.status, recorded.body) == (status, None)


def test_expect_100_continue_is_not_sent_for_a_body_that_will_not_be_read(emulator: BirdEmulator) -> None:
    headers = [("Content-Length", str(50 * MAX_BODY_BYTES)), ("Expect", "100-continue")]
    raw = exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, headers=headers))
    assert not raw.startswith(b"HTTP/1.1 100")
    assert parse_answer(raw)[0] == 413


def test_a_body_shorter_than_declared_gets_400(emulator: BirdEmulator) -> None:
    raw = request_bytes(emulator, "POST", CONNECTORS, headers=[("Content-Length", "100")]) + b'{"name"'
    assert_error(exchange(emulator, raw, shut_write=True), 400)


# --- the request line ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, status",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/9\r\n\r\n", 400),
        (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(150)) + b"\r\n", 431),
    ],
)
def test_unreadable_requests_get_an_error_body(emulator: BirdEmulator, line: bytes, status: int) -> None:
    assert_error(exchange(emulator, line), status)


# --- the request log ----------------------------------------------------------------------------------------


def test_the_log_never_keeps_a_refused_body_and_stays_bounded() -> None:
    with start_emulator(max_recorded_requests=4) as emulator:
        refused = [
            request_bytes(emulator, "POST", CONNECTORS, b'{"name": "' + b"k" * 500_000 + b'", "colour": 1}'),
            request_bytes(emulator, "POST", CONNECTORS, connector_with_arguments(nested(900))),
            request_bytes(emulator, "POST", CONNECTORS, b'{"name": NaN}'),
        ]
        for raw in refused:
            assert parse_answer(exchange(emulator, raw))[0] == 422
        with requests.Session() as stranger:  # no key: 401
            stranger.trust_env = False
            assert stranger.post(emulator.url + CONNECTORS, json={"name": "x"}).status_code == 401
        assert [r.body for r in emulator.requests] == [None] * 4
        accepted = {"name": "kept", "connectorTemplateRef": "line:1", "arguments": {"n": [1, 2]}}
        parse_answer(exchange(emulator, request_bytes(emulator, "POST", CONNECTORS, json.dumps(accepted).encode())))
        assert len(emulator.requests) == 4 and emulator.recorded_requests_total == 5
        assert emulator.requests[-1].body == accepted


def test_the_log_is_bounded_in_bytes_too() -> None:
    blob = {"name": "big", "connectorTemplateRef": "line:1", "arguments": {"blob": "x" * 100_000}}
    with start_emulator(max_recorded_bytes=300_000) as emulator, api_session(emulator.access_key) as session:
        for _ in range(6):
            assert session.post(emulator.url + CONNECTORS, json=blob).status_code == 201
        assert emulator.recorded_bytes <= 300_000 and len(emulator.requests) == 2
        assert emulator.recorded_requests_total == 6 and emulator.requests[-1].body == blob
        huge = dict(blob, arguments={"blob": "y" * 400_000})  # over the whole budget: kept without its body
        assert session.post(emulator.url + CONNECTORS, json=huge).status_code == 201
        assert emulator.requests[-1].body is None and emulator.recorded_bytes <= 300_000


# --- slow senders -------------------------------------------------------------------------------------------

# The pace of a slow sender: far below the 10 s a read may stall, so only a deadline on the whole request ends it.
TRICKLE_SECONDS = 0.25
TRICKLE_BYTES = 40


def trickle(sock: socket.socket, data: bytes) -> bytes:
    """Send ``data`` a byte per TRICKLE_SECONDS until the server answers or closes; what it sent back."""
    for byte in data:
        readable, _, _ = select.select([sock], [], [], TRICKLE_SECONDS)
        if readable:
            break
        try:
            sock.sendall(bytes([byte]))
        except OSError:  # the server has closed the connection
            break
    return read_until_closed(sock)


@pytest.fixture(scope="module")
def impatient() -> Iterator[BirdEmulator]:
    with start_emulator(provision_seconds=0, request_read_seconds=1.0) as emu:
        yield emu


def test_a_body_trickled_past_the_request_deadline_gets_408(impatient: BirdEmulator) -> None:
    body = b'{"name": "' + b"s" * (TRICKLE_BYTES - 12) + b'"}'
    head = request_bytes(impatient, "POST", CONNECTORS, body)[: -len(body)]
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=SOCKET_TIMEOUT_SECONDS) as sock:
        sock.sendall(head)
        answer = trickle(sock, body)
    assert "did not arrive within 1s" in assert_error(answer, 408)["message"]


def test_headers_trickled_past_the_request_deadline_end_the_connection(impatient: BirdEmulator) -> None:
    head = f"GET {CONNECTORS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode() + b"z" * TRICKLE_BYTES + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=SOCKET_TIMEOUT_SECONDS) as sock:
        assert trickle(sock, head) == b""  # closed before the headers were whole: nothing to answer
