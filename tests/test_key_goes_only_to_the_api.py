"""The access key goes only to the API: never to a host another URL parser would read, never through a proxy in
clear, never replaced by a .netrc entry; and an oversized answer says what happened. Through the SDK's provider
host against the emulator, and through the client against loopback servers that record what reaches them."""

from __future__ import annotations

import gzip
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from engine_double.host import ProviderHost
from pulumi_bird import SmsChannel
from pulumi_bird.api import errors
from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.retry import RetryPolicy

KEY = "sk-live-only-to-the-api-7d41"
WS = "11111111-2222-4333-8444-555555555555"
CID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
ONE_TRY = RetryPolicy(max_attempts=1)


class Recorder:
    """A loopback server that records every request line and its headers, and answers ``status`` with ``body``
    (as a proxy: 502 to everything, CONNECT included)."""

    def __init__(self, status: int = 502, body: bytes = b"", headers: "dict[str, str] | None" = None) -> None:
        self.seen: list[tuple[str, str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                recorder.seen.append((self.command, self.path, str(self.headers)))
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = do_CONNECT = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def proxy() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def proxy_env(url: str) -> dict[str, str]:
    return {"HTTP_PROXY": url, "http_proxy": url, "HTTPS_PROXY": url, "https_proxy": url, "ALL_PROXY": url,
            "all_proxy": url, "NO_PROXY": "", "no_proxy": ""}


def read_missing_connector(host: ProviderHost, inputs_of) -> object:
    reg = inputs_of(lambda: SmsChannel("sms", phone_number_id=str(uuid.uuid4()), channel_message_type="2fa"))
    checked = host.check(reg.urn, reg.inputs)
    assert checked.failures == []
    missing = str(uuid.uuid4())
    return host.read(reg.urn, missing, {**checked.inputs, "connector_id": missing}, checked.inputs)


def test_a_plain_http_api_url_never_goes_through_a_proxy_of_the_environment(bird_config, proxy, inputs_of):
    # The emulator on http://127.0.0.1 with every proxy variable set and nothing exempt: the GET goes to it
    # directly (through the proxy, the key would cross it in clear, and the proxy answers 502).
    with ProviderHost(config=bird_config, env=proxy_env(proxy.url)) as host:
        read_missing_connector(host, inputs_of)
        assert bird_config["bird:accessKey"].value not in host.stderr_text()
    assert proxy.seen == []


def test_a_netrc_default_entry_does_not_replace_the_access_key(bird_config, tmp_path, inputs_of, emulator):
    # With the Basic credentials of the entry in place of the AccessKey header, the emulator would answer 401.
    netrc = tmp_path / "netrc"
    netrc.write_text("default login netrc-user password netrc-password\n")
    netrc.chmod(0o600)
    emulator.clear_requests()
    with ProviderHost(config=bird_config, env={"NETRC": str(netrc), "HOME": str(tmp_path)}) as host:
        read_missing_connector(host, inputs_of)
    assert emulator.requests and {r.status for r in emulator.requests} <= {200, 404}


def test_an_https_proxy_of_the_environment_is_used_and_sees_only_a_connect(proxy, monkeypatch):
    for name, value in proxy_env(proxy.url).items():
        monkeypatch.setenv(name, value)
    client = BirdClient(KEY, "https://api.bird.test", retry=ONE_TRY, sleep=lambda s: None)
    with pytest.raises(errors.APIConnectionError):
        client.get_connector(WS, CID)
    assert [(method, path) for method, path, _ in proxy.seen] == [("CONNECT", "api.bird.test:443")]
    assert KEY not in proxy.seen[0][2] and "Authorization" not in proxy.seen[0][2]


@pytest.mark.parametrize("shape", [
    "http://127.0.0.1:{proxy}\\@127.0.0.1:{bird}",   # urllib3 stops the host at the backslash
    "http://127.0.0.1:{proxy}\\.example.com",
    "http://user:pass@127.0.0.1:{bird}",
    "http://127.0.0.1:{proxy}#@127.0.0.1:{bird}",
    "http://127.0.0.1:{proxy}?@127.0.0.1:{bird}",
    "http://127.0.0.1:{bird}/ x",
    "https://api.bird.com%2e@127.0.0.1:{bird}",
])
def test_an_api_url_two_parsers_could_read_differently_is_refused_before_any_request(proxy, emulator, shape):
    url = shape.format(proxy=proxy.port, bird=emulator.url.rsplit(":", 1)[1])
    emulator.clear_requests()
    with pytest.raises(errors.ConfigError, match=r"^bird:apiUrl / BIRD_API_URL .*: run `pulumi config set bird:apiUrl"):
        BirdClient(KEY, url).get_connector(WS, CID)
    assert proxy.seen == [] and emulator.requests == []


def test_an_oversized_answer_says_so_rather_than_could_not_connect():
    bomb = gzip.compress(b"0" * (9 * 1024 * 1024))  # 9 MiB decompressed from about 9 KiB
    bird = Recorder(200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    try:
        client = BirdClient(KEY, bird.url, retry=ONE_TRY, sleep=lambda s: None)
        with pytest.raises(errors.APIConnectionError) as caught:
            client.get_connector(WS, CID)
    finally:
        bird.close()
    assert "sent an answer over 8 MiB (decompressed; not read further)" in str(caught.value)
    assert "could not connect" not in str(caught.value)
