"""One keep-alive pool per process and API URL (pulumi_bird.api.pool), POSTs paced to a per-workspace budget,
and a host worker pool that grows to the work in flight (pulumi_bird.provider.workers)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Iterator

import pytest

from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.models import CreateConnectorRequest
from pulumi_bird.api.pacing import PostBudget
from pulumi_bird.api.pool import PooledSession, pooled_session
from pulumi_bird.emulator import BirdEmulator


@pytest.fixture
def emu() -> Iterator[BirdEmulator]:
    with BirdEmulator(provision_seconds=0.0) as e:
        yield e


def test_clients_of_one_api_share_one_session_that_their_close_leaves_open(emu):
    clients = [BirdClient(emu.access_key, emu.url) for _ in range(20)]
    assert len({id(c._session) for c in clients}) == 1
    assert pooled_session(emu.url + "/") is clients[0]._session
    assert pooled_session("http://127.0.0.1:9") is not clients[0]._session
    opened = emu.connections_opened
    for client in clients:  # one operation each, one after another, each closing its client
        with client:
            assert list(client.list_connectors(emu.workspace_id)) == []
    assert emu.connections_opened - opened == 1


def test_connections_grow_to_the_requests_in_flight_not_to_the_requests(emu):
    opened = emu.connections_opened

    def operation(_: int) -> None:
        with BirdClient(emu.access_key, emu.url) as client:
            list(client.list_connectors(emu.workspace_id))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(operation, range(200)))
    assert emu.connections_opened - opened <= 8


class _ForgetfulHandler(BaseHTTPRequestHandler):
    """Answers with HTTP/1.1 keep-alive, then closes the connection anyway (as a server whose keep-alive timed
    out does), without saying so."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # the stdlib's naming
        body = b'{"results": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True
        self.server.accepted += 1  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:
        pass


def test_a_server_that_drops_kept_alive_connections_costs_nothing_but_new_connections():
    server = HTTPServer(("127.0.0.1", 0), _ForgetfulHandler)
    server.accepted = 0  # type: ignore[attr-defined]
    server.timeout = 5
    thread = threading.Thread(target=lambda: [server.handle_request() for _ in range(5)], daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        for _ in range(5):
            with BirdClient("key-1234", url) as client:
                assert list(client.list_connectors("ws")) == []
    finally:
        thread.join(10)
        server.server_close()
    assert server.accepted == 5  # type: ignore[attr-defined]


def windows(times: list[float], width: float = 1.0) -> int:
    """The most of ``times`` in any window of ``width`` seconds."""
    times = sorted(times)
    return max((sum(1 for t in times[i:] if t < start + width) for i, start in enumerate(times)), default=0)


def test_posts_are_paced_per_workspace_by_the_sessions_post_budget(emu):
    session = PooledSession(PostBudget(5))
    requests = [CreateConnectorRequest.model_validate({
        "name": f"v{i}", "connectorTemplateRef": "voice-messagebird:1", "arguments": {"phoneNumberId": str(uuid.uuid4())}})
        for i in range(8)]
    with BirdClient(emu.access_key, emu.url, session=session) as client, ThreadPoolExecutor(8) as pool:
        emu.clear_requests()
        created = list(pool.map(lambda r: client.create_connector(emu.workspace_id, r), requests))
    posts = [r.started for r in emu.requests if r.method == "POST"]
    assert len(created) == len(posts) == 8
    assert windows(posts) <= 5, posts  # unpaced, all 8 arrive within milliseconds
    session.close_for_good()


def test_the_host_pool_grows_to_the_work_in_flight_past_512():
    """The lift's growth, on a plain executor of four: 600 calls that wait at once get 600 workers."""
    from pulumi_bird.provider.workers import HOST_MAX_WORKERS, _install

    waiting = 600
    assert HOST_MAX_WORKERS >= 1024
    pool = ThreadPoolExecutor(max_workers=4)
    release = threading.Event()
    try:
        _install(pool, HOST_MAX_WORKERS)
        started = threading.Semaphore(0)
        futures = [pool.submit(lambda: (started.release(), release.wait(30))) for _ in range(waiting)]
        for _ in range(waiting):
            assert started.acquire(timeout=30), "a call waited for a worker: a second wave"
        assert len(pool._threads) == waiting
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert [f.result()[1] for f in futures] == [True] * waiting  # each call ran to its release, none timed out




def test_a_process_keeps_the_sessions_of_a_few_apis_only():
    from pulumi_bird.api.pool import MAX_POOLED_APIS

    first = pooled_session("http://127.0.0.1:1")
    for port in range(2, MAX_POOLED_APIS + 2):
        pooled_session(f"http://127.0.0.1:{port}")
    assert pooled_session(f"http://127.0.0.1:{MAX_POOLED_APIS + 1}") is pooled_session(f"http://127.0.0.1:{MAX_POOLED_APIS + 1}")
    assert pooled_session("http://127.0.0.1:1") is not first  # the least recently used was closed, and is new
