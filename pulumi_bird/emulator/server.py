"""The emulator's HTTP server: a threaded stdlib server on loopback, started and stopped from Python.

Each request goes through, in order: auth (401), routing (404/405), the GET rate limit (429), injected
faults, then the handler. The answer is delayed by ``faults.latency`` and every request is recorded.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Set, Tuple
from urllib.parse import parse_qsl, urlsplit

from pulumi_bird.emulator import urls
from pulumi_bird.emulator.faults import FaultRule, Faults, RateLimiter
from pulumi_bird.emulator.models import DEFAULT_ORGANIZATION_ID, DEFAULT_WORKSPACE_ID, BirdBackend
from pulumi_bird.emulator.responses import (
    DEFAULT_ACCESS_KEY,
    ApiRequest,
    ApiResponse,
    BirdResponses,
    error_response,
    is_authorized,
    unauthorized,
)

# An idle keep-alive connection is closed after this long, so a forgotten client cannot pin a thread.
IDLE_CONNECTION_SECONDS = 30.0
# How often the serving loop checks for shutdown: stop() takes up to this long, and the stdlib's 0.5 s
# would add half a second to every test that starts an emulator.
POLL_INTERVAL_SECONDS = 0.05
# How long stop() waits for the serving thread after shutdown() (a guard; it normally ends at once).
STOP_JOIN_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it (headers are not kept: they carry the access key).

    ``body`` is the parsed JSON, the raw text when it is no JSON, or None when empty. ``started`` and
    ``finished`` are ``time.monotonic()`` readings: when the request arrived and when its answer was
    ready to send (injected latency included).
    """

    method: str
    path: str
    query: Dict[str, str]
    body: Any
    status: int
    started: float
    finished: float


def _recorded_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _fault_response(rule: FaultRule) -> ApiResponse:
    headers = {}
    if rule.retry_after is not None:
        seconds = rule.retry_after
        headers["Retry-After"] = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
    if rule.body is not None:
        return ApiResponse(rule.status, rule.body, headers)
    return error_response(rule.status, "injected fault: the emulator was told to fail this request", None, headers)


class BirdEmulator:
    """An in-memory Bird API (connectors, their status, webhook subscriptions) served on loopback.

    ``start()`` returns once the socket listens; ``stop()`` shuts the server down and joins its thread;
    ``with BirdEmulator(...) as emu:`` does both. Attributes:

    - ``url``: base URL without a trailing slash; ``access_key``, ``workspace_id``, ``organization_id``.
    - ``backend``: the :class:`BirdBackend` holding all state (inspect or change it out of band).
    - ``faults``: :class:`Faults` (canned errors, latency, failing channels, per-number provisioning time).
    - ``provision_seconds``: how long new channels stay in provisioning (settable at any time).
    - ``get_rate_limit``: None, or the GET requests per second a workspace may make before getting 429.
    - ``requests`` / ``clear_requests()``: the log of :class:`RecordedRequest`.
    """

    def __init__(
        self,
        access_key: str = DEFAULT_ACCESS_KEY,
        provision_seconds: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        organization_id: str = DEFAULT_ORGANIZATION_ID,
    ) -> None:
        if not access_key:
            raise ValueError("access_key must not be empty")
        self.access_key = access_key
        self.host = host
        self.port = port
        self.workspace_id = workspace_id
        self.organization_id = organization_id
        self.backend = BirdBackend(provision_seconds, workspace_id, organization_id)
        self.faults = Faults(self.backend)
        self.get_rate_limit: Optional[int] = None
        self._rate_limiter = RateLimiter()
        self._responses = BirdResponses(self.backend)
        self._log_lock = threading.Lock()
        self._log: List[RecordedRequest] = []
        self._server: Optional[_EmulatorHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> "BirdEmulator":
        """Bind and serve in a background thread; returns self once listening."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        server = _EmulatorHTTPServer((self.host, self.port), self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(POLL_INTERVAL_SECONDS,), name=f"bird-emulator:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and join the server thread. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(STOP_JOIN_SECONDS)
        self._server = self._thread = None

    def __enter__(self) -> "BirdEmulator":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8123`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def provision_seconds(self) -> float:
        """Seconds until a new connector's channel is active; applies to connectors created after a change."""
        return self.backend.provision_seconds

    @provision_seconds.setter
    def provision_seconds(self, seconds: float) -> None:
        self.backend.provision_seconds = seconds

    # -- request log --------------------------------------------------------------------------------------

    @property
    def requests(self) -> List[RecordedRequest]:
        """A snapshot of the requests served so far, in the order they finished."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._log_lock:
            self._log.clear()

    def record(self, request: ApiRequest, status: int, started: float) -> None:
        """Append one finished exchange to the log (called by the request handler)."""
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            body=_recorded_body(request.body),
            status=status,
            started=started,
            finished=time.monotonic(),
        )
        with self._log_lock:
            self._log.append(entry)

    # -- dispatch -----------------------------------------------------------------------------------------

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        """Answer one request: auth, route, rate limit, faults, handler."""
        if not is_authorized(request, self.access_key):
            return unauthorized()
        try:
            route = urls.resolve(request.method, request.path)
        except urls.MethodNotAllowed:
            return error_response(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} is not allowed on this path")
        except urls.RouteNotFound:
            return error_response(HTTPStatus.NOT_FOUND, "no such endpoint")
        if request.method == "GET" and not self._rate_limiter.allow(
            route.params.get("workspace_id", ""), self.get_rate_limit
        ):
            return error_response(HTTPStatus.TOO_MANY_REQUESTS, "GET rate limit of this workspace exceeded")
        return self._handle_with_faults(request, route)

    def _handle_with_faults(self, request: ApiRequest, route: urls.Route) -> ApiResponse:
        fault = self.faults.take(request.method, request.path)
        if fault is not None and not fault.commit:
            return _fault_response(fault)
        response = getattr(self._responses, route.handler)(request, **route.params)
        return _fault_response(fault) if fault is not None else response


class _EmulatorHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its emulator and can close the connections it still holds."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's backlog of 5 resets connections when a test fires a burst of parallel requests.
    request_queue_size = 128

    def __init__(self, address: Any, emulator: BirdEmulator) -> None:
        self.emulator = emulator
        if ":" in address[0]:  # an IPv6 literal such as ::1
            self.address_family = socket.AF_INET6
        self._connections: Set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client that hangs up mid-exchange is no news, and stderr belongs to the caller."""

    def close_connections(self) -> None:
        """Shut down keep-alive connections so that their threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _RequestHandler(BaseHTTPRequestHandler):
    """Turns HTTP exchanges into :class:`ApiRequest` objects for the emulator, and answers back."""

    server: _EmulatorHTTPServer
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_SECONDS
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits ~40 ms per answer.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        """The Server header."""
        return "BirdEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Log nothing: the emulator is quiet, and a log line could carry a secret."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def _serve(self) -> None:
        started = time.monotonic()
        emulator = self.server.emulator
        request, problem = self._read_request()
        response = problem or self._dispatch(request)
        if emulator.faults.latency:
            time.sleep(emulator.faults.latency)
        # Recorded before the answer goes out, so a client that has its answer finds its request logged.
        emulator.record(request, response.status, started)
        self._write(response)

    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        try:
            return self.server.emulator.dispatch(request)
        except Exception:  # a bug in the emulator must still answer, or the client hangs
            return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "the emulator failed on this request")

    def _read_request(self) -> Tuple[ApiRequest, Optional[ApiResponse]]:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        request = ApiRequest(self.command, parts.path, query, self.headers)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return request, error_response(HTTPStatus.BAD_REQUEST, "chunked request bodies are not supported")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return request, error_response(HTTPStatus.BAD_REQUEST, "the Content-Length header is no integer")
        body = self.rfile.read(length) if length > 0 else b""
        return dataclasses.replace(request, body=body), None

    def _write(self, response: ApiResponse) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        if response.status != HTTPStatus.NO_CONTENT:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)
