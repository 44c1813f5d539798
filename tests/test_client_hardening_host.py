"""The client's hardening seen as a user sees it: through the SDK's provider host (the whole traceback the host
sends to the engine), against a loopback server that answers what no well-behaved Bird would: a 401 echoing
the Authorization header, HTML, truncated and foreign 2xx bodies on refresh, a 301 to the POST."""

from __future__ import annotations

import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

import pytest

from engine_double.host import ProviderError, ProviderHost
from pulumi_bird import SmsChannel

KEY = "sk-live-hostile-echo-0042"
WS = "11111111-2222-4333-8444-555555555555"
CID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

# (method, path pattern) -> (status, headers, body from the request's Authorization header)
Answer = tuple[int, dict, Callable[[str], bytes]]


class HostileBird:
    """A loopback server answering scripted raw bytes; it records what it was asked."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], Answer] = {}
        self.seen: list[tuple[str, str, str]] = []
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                auth = self.headers.get("Authorization", "")
                hostile.seen.append((self.command, self.path, auth))
                status, headers, body = hostile.answer(self.command, self.path)
                data = body(auth)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def answer(self, method: str, path: str) -> Answer:
        for (m, pattern), answer in self.answers.items():
            if m == method and re.search(pattern, path):
                return answer
        return 404, {"Content-Type": "application/json"}, lambda _: b'{"code": "NOT_FOUND", "message": "nothing here"}'

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileBird]:
    bird = HostileBird()
    yield bird
    bird.close()


@pytest.fixture(scope="module")
def hostile_host(hostile: HostileBird) -> Iterator[ProviderHost]:
    # the key as pasted from a terminal, with a trailing newline: stripped, never "could not connect"
    config = {"bird:accessKey": KEY + "\n", "bird:apiUrl": hostile.url, "bird:workspaceId": WS}
    with ProviderHost(config=config) as host:
        yield host


@pytest.fixture(autouse=True)
def _fresh(hostile: HostileBird) -> None:
    hostile.answers.clear()
    hostile.seen.clear()


def sms(inputs_of, host: ProviderHost) -> tuple[str, dict]:
    reg = inputs_of(lambda: SmsChannel("sms", phone_number_id=str(uuid.uuid4()), channel_message_type="2fa"))
    return reg.urn, host.check(reg.urn, reg.inputs).inputs


def json_body(text: str) -> Callable[[str], bytes]:
    return lambda _auth: text.encode()


def failure(call: Callable[[], object]) -> str:
    with pytest.raises(ProviderError) as caught:
        call()
    return caught.value.message


def test_a_401_echoing_the_key_reaches_the_user_without_it(hostile, hostile_host, inputs_of):
    urn, inputs = sms(inputs_of, hostile_host)
    hostile.answers[("POST", r"/connectors$")] = (401, {"Content-Type": "application/json"}, lambda auth: (
        f'{{"code": "UNAUTHORIZED", "message": "header {auth!r} is not valid", "details": {{"got": "{auth}"}}}}').encode())
    text = failure(lambda: hostile_host.create(urn, inputs))
    assert "Bird refused the access key" in text and "[redacted]" in text
    assert KEY not in text and KEY not in hostile_host.stderr_text()
    assert hostile.seen[0][2] == f"AccessKey {KEY}"  # the trailing newline was stripped


def test_a_301_to_the_post_is_a_clear_error_and_not_followed(hostile, hostile_host, inputs_of):
    urn, inputs = sms(inputs_of, hostile_host)
    hostile.answers[("POST", r"/connectors$")] = (301, {"Location": f"/workspaces/{WS}/connectors/{CID}"}, json_body(""))
    hostile.answers[("GET", CID)] = (200, {"Content-Type": "application/json"}, json_body(
        f'{{"id": "{CID}", "name": "someone else", "createdAt": "2026-01-01T00:00:00Z"}}'))
    with pytest.raises(ProviderError, match=r"a redirect to .*/connectors/" + CID + r": the client follows no redirect"):
        hostile_host.create(urn, inputs)
    assert all(method == "POST" or CID not in path for method, path, _ in hostile.seen)


@pytest.mark.parametrize("body,content_type,expected", [
    ("<html><body>502 from a proxy, sorry</body></html>", "text/html", r"the body is not JSON, or is cut short \(text/html"),
    ('{"id": "' + CID + '", "name": "sm', "application/json", r"the body is not JSON, or is cut short"),
    ('{"data": {"id": "' + CID + '"}}', "application/json", r"not a Connector: id is missing; name is missing"),
])
def test_refresh_of_an_unreadable_answer_is_one_clear_error(hostile, hostile_host, inputs_of, body, content_type, expected):
    urn, inputs = sms(inputs_of, hostile_host)
    hostile.answers[("GET", CID + r"$")] = (200, {"Content-Type": content_type}, json_body(body))
    text = failure(lambda: hostile_host.read(urn, CID, {**inputs, "connector_id": CID}, inputs))
    assert re.search(expected, text), text[-1500:]
    assert f"[GET {hostile.url}/workspaces/{WS}/connectors/{CID} -> 200]" in text
    assert "validation error" not in text and "pydantic" not in text.lower()

