"""The emulator's HTTP server: a threaded stdlib server on loopback, started and stopped from Python.

A request goes through reading (400 malformed, 413 too large, 408 too slow), auth (401), routing (404/405), rate
limits (429), injected faults, the handler and the answer hooks; the answer waits ``faults.latency`` and the exchange
is logged. Every error carries the Error body; a request refused before its body was read is answered, then the
connection drained and closed (so the client reads the answer, not a reset); a bug of the emulator answers 500.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import io
import json
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, Generic, Iterable, List, Optional, Set, Tuple, TypeVar, cast
from urllib.parse import parse_qsl, urlsplit

from pulumi_bird.api.values import is_loopback_host
from pulumi_bird.emulator import urls
from pulumi_bird.emulator.backend import (
    DEFAULT_NUMBERS,
    DEFAULT_ORGANIZATION_ID,
    DEFAULT_WORKSPACE_ID,
    ApiError,
    BadRequest,
    BirdBackend,
    utc_now,
)
from pulumi_bird.emulator.faults import FaultRule, Faults
from pulumi_bird.emulator.ratelimits import (
    RateKeeper,
    RateLimits,
    RateLimitsSetting,
    as_rate_limits,
    retry_after_header,
)
from pulumi_bird.emulator.responses import (
    DEFAULT_ACCESS_KEY,
    ApiRequest,
    ApiResponse,
    error_response,
    handle,
    is_authorized,
    parse_json,
)

# An idle keep-alive connection is closed after this long, so a forgotten client cannot pin a thread.
IDLE_CONNECTION_SECONDS = 30.0
# How often the serving loop checks for shutdown: stop() takes up to this long, and the stdlib's 0.5 s
# would add half a second to every test that starts an emulator.
POLL_INTERVAL_SECONDS = 0.05
# How long stop() waits for the serving thread after shutdown() (a guard; it normally ends at once).
STOP_JOIN_SECONDS = 5.0
# The largest request body read. Bird's bodies are a few hundred bytes; 1 MiB is what common API gateways
# allow by default, and it bounds what one request can make the emulator hold.
MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = f"the request body is larger than {MAX_BODY_BYTES} bytes"
# A request (line, headers or body) that stops arriving for this long is answered 408 or dropped.
BODY_READ_SECONDS = 10.0
# And a whole request must have arrived this long after its first byte: the limit above bounds each read, so a
# client sending a byte every few seconds would otherwise hold a thread for as long as it likes.
REQUEST_READ_SECONDS = 30.0
# After refusing a body it did not read, the server drains what the client still sends (this long, this much) before
# closing: closing with unread data would reset the connection and the client could lose the answer.
LINGER_SECONDS = 2.0
LINGER_MAX_BYTES = 64 * 1024 * 1024
# A chunk-size line of a chunked body is a hex number and optional extensions: short.
MAX_CHUNK_LINE_BYTES = 1024
# A chunk size: at most 16 hex digits (a 64-bit number).
HEX = re.compile(rb"[0-9a-fA-F]{1,16}")
# Trailer lines after the last chunk that are read (and ignored) before the body counts as malformed.
MAX_TRAILER_LINES = 64
# How many exchanges the request log keeps (the oldest go first); about 1 KB each without bodies.
DEFAULT_MAX_RECORDED_REQUESTS = 50_000
# And how many bytes of bodies, paths and queries (as received) it keeps: without it, 50,000 bodies of 1 MiB.
DEFAULT_MAX_RECORDED_BYTES = 32 * 1024 * 1024
# What an entry counts for beyond its body, path and query (the record itself).
RECORD_OVERHEAD_BYTES = 256

# Called with each request and the emulator's answer to it; returns the answer to send, the same or another. Requests
# refused while their body was read (400, 408, 413) reach no hook. Our tests play hostile answers with these.
AnswerHook = Callable[[ApiRequest, ApiResponse], ApiResponse]


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it (without headers: they carry the access key).

    ``body``: the parsed JSON of a request carried out (a 2xx, or a fault with ``commit=True``), else None.
    ``started``/``finished``: ``time.monotonic()`` when it arrived and when its answer was ready (latency included).
    """

    method: str
    path: str
    query: Dict[str, str]
    body: Any
    status: int
    started: float
    finished: float


def _recorded_body(raw: bytes, response: ApiResponse) -> Any:
    if not raw or not (response.status < 400 or response.committed):
        return None
    try:
        return parse_json(raw, BadRequest)
    except ApiError:  # a GET or DELETE may carry any bytes; the handler ignored them
        return None


def _fault_response(rule: FaultRule) -> ApiResponse:
    seconds = rule.retry_after
    headers = {} if seconds is None else {"Retry-After": str(int(seconds) if float(seconds).is_integer() else seconds)}
    response = error_response(rule.status, "injected fault: the emulator was told to fail this request", None, headers)
    return dataclasses.replace(response, body=response.body if rule.body is None else rule.body, committed=rule.commit)


V = TypeVar("V")


class _OnBackend(Generic[V]):
    """A :class:`BirdEmulator` attribute that is its backend's attribute of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, emu: Any, owner: Optional[type] = None) -> V:
        return cast(V, getattr(emu.backend, self.name))

    def __set__(self, emu: Any, value: V) -> None:
        setattr(emu.backend, self.name, value)


class BirdEmulator:
    """An in-memory Bird API (connectors, their status, webhook subscriptions, numbers) served on loopback.

    ``start()`` returns once listening, ``stop()`` shuts down; ``with BirdEmulator(...) as emu:`` does both.

    - ``url`` (no trailing slash), ``access_key``, ``workspace_id``, ``organization_id``, ``backend`` (all state).
    - ``workspace_ids``: ``workspace_id``, then ``workspaces=N`` - 1 more (:func:`seeded_workspace_id` 2 to N), each
      with ``numbers_per_workspace=K`` SMS and voice numbers (``seeded_number(i, 0..K-1)``), its own inventory,
      objects and rate budget, as on Bird; ``numbers`` go in the first.
    - ``requests`` / ``clear_requests()``: the :class:`RecordedRequest` log, bounded by ``max_recorded_requests``
      and ``max_recorded_bytes`` of bodies, paths and queries (``recorded_bytes``; oldest dropped first);
      ``recorded_requests_total`` counts all; ``connections_opened``: TCP connections accepted.

    ``faults``, ``provision_seconds``, ``provision_reads``, ``rate_limits``, ``answer_hooks``, ``clock``, ``wall_clock``
    and ``fault_seed``: see docs/testing.md; ``release_seconds``: :class:`BirdBackend`. ``host`` must be loopback
    unless ``allow_remote=True`` (the key is public). ``request_read_seconds``: :data:`REQUEST_READ_SECONDS`.
    """

    def __init__(
        self,
        access_key: str = DEFAULT_ACCESS_KEY,
        provision_seconds: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        organization_id: str = DEFAULT_ORGANIZATION_ID,
        rate_limits: RateLimitsSetting = None,
        provision_reads: Optional[int] = None,
        max_recorded_requests: int = DEFAULT_MAX_RECORDED_REQUESTS,
        fault_seed: Optional[int] = None,
        clock: Callable[[], float] = time.monotonic,
        release_seconds: float = 0.0,
        numbers: Optional[Iterable[Tuple[str, str, Tuple[str, ...]]]] = None,
        max_recorded_bytes: int = DEFAULT_MAX_RECORDED_BYTES,
        request_read_seconds: float = REQUEST_READ_SECONDS,
        allow_remote: bool = False,
        workspaces: int = 1,
        numbers_per_workspace: int = 0,
        wall_clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        if not access_key:
            raise ValueError("access_key must not be empty")
        if not is_loopback_host(host) and not allow_remote:
            raise ValueError(f"host {host!r} is not a loopback address; pass allow_remote=True (--allow-remote)")
        if max_recorded_requests < 0 or max_recorded_bytes < 0:
            raise ValueError("max_recorded_requests and max_recorded_bytes must not be negative")
        if not 0 < request_read_seconds < float("inf"):
            raise ValueError("request_read_seconds must be a positive number of seconds")
        self.request_read_seconds: float = float(request_read_seconds)
        self.access_key = access_key
        self.host = host
        self.port = port
        self.workspace_id = workspace_id
        self.organization_id = organization_id
        self.backend: BirdBackend = BirdBackend(
            provision_seconds, workspace_id, organization_id, clock=clock, provision_reads=provision_reads,
            release_seconds=release_seconds,
            numbers=DEFAULT_NUMBERS if numbers is None else numbers, wall_clock=wall_clock,
        )
        if workspaces < 1 or numbers_per_workspace < 0:
            raise ValueError("workspaces must be at least 1 and numbers_per_workspace must not be negative")
        self.workspace_ids: List[str] = [  # workspace_id first, then seeded_workspace_id(2), (3), ...
            self.backend.seed_workspace(i, organization_id, numbers_per_workspace, None if i > 1 else workspace_id)
            for i in range(1, workspaces + 1)
        ]
        self.faults: Faults = Faults(self.backend, seed=fault_seed)
        self.rate_limits = rate_limits  # type: ignore[assignment] # the setter takes True too
        self._rate_keeper = RateKeeper(clock)
        self.answer_hooks: List[AnswerHook] = []
        self._log_lock = threading.Lock()
        self._log: Deque[Tuple[RecordedRequest, int]] = collections.deque()
        self.max_recorded_requests: int = max_recorded_requests
        self.max_recorded_bytes: int = max_recorded_bytes
        self.recorded_bytes: int = 0
        self.recorded_requests_total: int = 0
        # TCP connections accepted since start (a keep-alive client opens few; one per request opens many).
        self.connections_opened: int = 0
        self._running: Optional[Tuple[_EmulatorHTTPServer, threading.Thread]] = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> "BirdEmulator":
        """Bind and serve in a background thread; returns self once listening."""
        if self._running is not None:
            raise RuntimeError("the emulator is already running")
        server = _EmulatorHTTPServer((self.host, self.port), self)
        self.port: int = server.server_address[1]
        thread = threading.Thread(
            target=server.serve_forever, args=(POLL_INTERVAL_SECONDS,), name=f"bird-emulator:{self.port}", daemon=True
        )
        thread.start()
        self._running = (server, thread)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and join the server thread. Safe to call twice."""
        if self._running is None:
            return
        server, thread = self._running
        server.shutdown()
        server.server_close()
        server.close_connections()
        thread.join(STOP_JOIN_SECONDS)
        self._running = None

    def __enter__(self) -> "BirdEmulator":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8123`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # See BirdBackend (which checks them); settable any time.
    provision_seconds: _OnBackend[float] = _OnBackend()
    release_seconds: _OnBackend[float] = _OnBackend()
    provision_reads: _OnBackend[Optional[int]] = _OnBackend()

    @property
    def rate_limits(self) -> Optional[RateLimits]:
        """The limits enforced per workspace, or None when nothing is refused."""
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, setting: RateLimitsSetting) -> None:
        self._rate_limits = as_rate_limits(setting)

    # -- request log --------------------------------------------------------------------------------------

    @property
    def requests(self) -> List[RecordedRequest]:
        """A snapshot of the log (the latest ``max_recorded_requests``), in the order the requests finished."""
        with self._log_lock:
            return [entry for entry, _ in self._log]

    def add_number(self, number: str, capabilities: Iterable[str] = ("sms", "voice"), **options: Any) -> Dict[str, Any]:
        """Put a phone number (E.164 text) in the default workspace's inventory; see :meth:`BirdBackend.add_number`
        (``number_id``, ``country``, ``type``, or ``workspace_id`` for another known workspace)."""
        workspace_id = options.pop("workspace_id", self.workspace_id)
        return self.backend.add_number(workspace_id, number, capabilities, **options)

    def clear_requests(self) -> None:
        """Forget the recorded requests (``recorded_requests_total`` starts again at 0)."""
        with self._log_lock:
            self._log.clear()
            self.recorded_requests_total = 0
            self.recorded_bytes = 0

    def record(self, request: ApiRequest, response: ApiResponse, started: float) -> None:
        """Append one finished exchange to the log (called by the request handler)."""
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            body=_recorded_body(request.body, response),
            status=response.status,
            started=started,
            finished=time.monotonic(),
        )
        size = RECORD_OVERHEAD_BYTES + len(request.path) + sum(len(k) + len(v) for k, v in entry.query.items())
        if entry.body is not None:
            size += len(request.body)
        count, budget = self.max_recorded_requests, self.max_recorded_bytes
        if size > budget and entry.body is not None:  # kept without its body rather than emptying the log
            entry, size = dataclasses.replace(entry, body=None), size - len(request.body)
        with self._log_lock:
            self.recorded_requests_total += 1
            self._log.append((entry, size))
            self.recorded_bytes += size
            while self._log and (len(self._log) > count or self.recorded_bytes > budget):
                self.recorded_bytes -= self._log.popleft()[1]

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        """Answer one request: auth, route, rate limit, faults, handler, then the answer hooks."""
        response = self._answer(request)
        for hook in list(self.answer_hooks):
            response = hook(request, response)
        return response

    def _answer(self, request: ApiRequest) -> ApiResponse:
        """Auth, route, rate limit, then an injected fault or the handler (or both: a fault with ``commit``)."""
        if not is_authorized(request, self.access_key):
            # The message never repeats what was presented.
            return error_response(HTTPStatus.UNAUTHORIZED, "missing or invalid access key (expected 'AccessKey <key>')")
        try:
            route = urls.resolve(request.method, request.path)
        except LookupError as missing:
            if not missing.args[0]:
                return error_response(HTTPStatus.NOT_FOUND, "no such endpoint")
            return error_response(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} is not allowed on this path",
                                  headers={"Allow": ", ".join(missing.args[0])})
        limit = self._rate_limits.for_method(request.method) if self._rate_limits else None
        wait = self._rate_keeper.admit(route.params.get("workspace_id", ""), request.method, limit)
        if wait is not None:
            message = f"too many {request.method} requests for this workspace: at most {limit} per second"
            details = {"method": request.method, "limitPerSecond": limit, "retryAfterSeconds": round(wait, 3)}
            headers = {"Retry-After": retry_after_header(wait)}
            return error_response(HTTPStatus.TOO_MANY_REQUESTS, message, details, headers)
        fault = self.faults.take(request.method, request.path)
        if fault is not None and not fault.commit:
            return _fault_response(fault)
        response = handle(self.backend, request, route.handler, route.params)
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
            self.emulator.connections_opened += 1
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
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _RequestReader(io.RawIOBase):
    """A connection's reads under a deadline per whole request, which starts at its first byte (a socket timeout
    bounds one read only); between requests a read waits for the idle timeout of the connection."""

    def __init__(self, sock: socket.socket, request_seconds: float) -> None:
        super().__init__()
        self._sock = sock
        self._request_seconds = request_seconds
        self.ends: Optional[float] = None  # None between requests: the next one's clock starts at its first byte

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        late = f"the request did not arrive within {self._request_seconds:g}s"
        wait = IDLE_CONNECTION_SECONDS if self.ends is None else min(self.ends - time.monotonic(), BODY_READ_SECONDS)
        if wait <= 0:
            raise TimeoutError(late)
        self._sock.settimeout(wait)
        try:
            received = self._sock.recv_into(buffer)
        except TimeoutError:
            over = self.ends is not None and time.monotonic() >= self.ends
            raise TimeoutError(late if over else "the request stopped arriving") from None
        if received and self.ends is None:
            self.ends = time.monotonic() + self._request_seconds
        return received


class _BodyRefused(Exception):
    """A request body that is not read (or not read to its end); ``args``: the answer's status and message."""


class _RequestHandler(BaseHTTPRequestHandler):
    """Turns HTTP exchanges into :class:`ApiRequest` objects for the emulator, and answers back."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_SECONDS
    # An answer hook's paced pieces go out in several writes; with Nagle on, each could wait ~40 ms for an ACK.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        """The Server header."""
        return "BirdEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
        """Log nothing: the emulator is quiet, and a log line could carry a secret."""

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Errors the stdlib raises while parsing (bad request line, long or many headers, unknown method)
        get an Error body like every other answer, and close the connection."""
        self.close_connection = True
        if not self.request_version.startswith("HTTP/1."):
            # The stdlib leaves HTTP/0.9 (no status line, no headers) when the request line was unreadable.
            self.request_version = "HTTP/1.1"
        self._write(error_response(code, f"the request could not be read: {HTTPStatus(code).phrase.lower()}"))

    def handle_expect_100(self) -> bool:
        """Invite the body only when it will be read; otherwise answer at once (with 400 or 413)."""
        try:
            self._body_plan()
        except _BodyRefused:
            return True
        return super().handle_expect_100()

    def setup(self) -> None:
        """The stdlib's streams, with reads under the request's deadline (:class:`_RequestReader`)."""
        super().setup()
        self._emulator: BirdEmulator = cast(_EmulatorHTTPServer, self.server).emulator
        self.rfile.close()
        self._reader = _RequestReader(self.connection, self._emulator.request_read_seconds)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.ends = None
        super().handle_one_request()

    def do_GET(self) -> None:  # the stdlib's naming; every method is served alike
        started = time.monotonic()
        emulator = self._emulator
        parts = urlsplit(self.path)
        request = ApiRequest(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), self.headers)
        try:
            request = dataclasses.replace(request, body=self._read_body())
        except _BodyRefused as refused:
            self.close_connection = True
            response, unread = error_response(*refused.args), True
        else:
            try:
                response = emulator.dispatch(request)
            except Exception:  # a bug in the emulator must still answer, or the client hangs
                response = error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "the emulator failed on this request")
            unread = False
        if emulator.faults.latency:
            time.sleep(emulator.faults.latency)
        # Recorded before the answer goes out, so a client that has its answer finds its request logged.
        with contextlib.suppress(Exception):  # the log must never cost the client its answer
            emulator.record(request, response, started)
        self._write(response)
        if unread:
            self._linger()

    # TRACE and QUERY too: on a known path they get 405 with an Allow header, as any method a route lacks (the
    # stdlib would answer 501, which says the server does not know the method at all)
    do_POST = do_PATCH = do_PUT = do_DELETE = do_OPTIONS = do_TRACE = do_QUERY = do_GET

    # -- reading the body ---------------------------------------------------------------------------------

    def _body_plan(self) -> Optional[int]:
        """None for a chunked body, else the declared length (0 without one), decided before reading a byte; raises
        :class:`_BodyRefused`: 400 for both headers, another transfer coding, a malformed Content-Length or several
        that differ, 413 for one over :data:`MAX_BODY_BYTES`."""
        encodings = [v.strip().lower() for v in (self.headers.get_all("Transfer-Encoding") or [])]
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if encodings and lengths:
            raise _BodyRefused(HTTPStatus.BAD_REQUEST, "a request may not carry both Transfer-Encoding and Content-Length")
        if encodings:
            if encodings != ["chunked"]:
                raise _BodyRefused(HTTPStatus.BAD_REQUEST, "the only transfer coding accepted is chunked")
            return None
        if len(lengths) > 1:
            raise _BodyRefused(HTTPStatus.BAD_REQUEST, "the request carries conflicting Content-Length headers")
        text = lengths.pop() if lengths else "0"
        # Only ASCII digits: int() would also take "+5", "-1", "1_000" or Unicode digits.
        if not (text.isascii() and text.isdigit()):
            raise _BodyRefused(HTTPStatus.BAD_REQUEST, "the Content-Length header is not a non-negative integer")
        if len(text) > 15 or int(text) > MAX_BODY_BYTES:
            raise _BodyRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, TOO_LARGE)
        return int(text)

    def _read_body(self) -> bytes:
        length = self._body_plan()
        try:
            body = self._read_chunked() if length is None else self.rfile.read(length) if length else b""
        except TimeoutError as exc:  # a read stalled, or the request's deadline passed (_RequestReader)
            raise _BodyRefused(HTTPStatus.REQUEST_TIMEOUT, str(exc) or "the request body stopped arriving") from None
        if length is not None and len(body) < length:
            raise _BodyRefused(HTTPStatus.BAD_REQUEST, "the request body is shorter than its Content-Length")
        return body

    def _read_chunked(self) -> bytes:
        """A chunked body, refused with 413 as soon as it grows over :data:`MAX_BODY_BYTES`."""
        body = bytearray()
        for _ in range(MAX_BODY_BYTES + 1):  # each chunk but the last holds at least one byte
            line = self.rfile.readline(MAX_CHUNK_LINE_BYTES + 1)
            size_text = line.split(b";", 1)[0].strip()
            if len(line) > MAX_CHUNK_LINE_BYTES or not line.endswith(b"\n") or not HEX.fullmatch(size_text):
                raise _BodyRefused(HTTPStatus.BAD_REQUEST, "the chunked request body is malformed")
            size = int(size_text, 16)
            if size == 0:  # then trailer lines, read and ignored, up to an empty line
                for _ in range(MAX_TRAILER_LINES):
                    if self.rfile.readline(MAX_CHUNK_LINE_BYTES + 1) in (b"\r\n", b"\n", b""):
                        return bytes(body)
                raise _BodyRefused(HTTPStatus.BAD_REQUEST, "the chunked request body has too many trailer lines")
            if len(body) + size > MAX_BODY_BYTES:
                raise _BodyRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, TOO_LARGE)
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3).strip() != b"":
                raise _BodyRefused(HTTPStatus.BAD_REQUEST, "the chunked request body is malformed")
            body += chunk
        raise _BodyRefused(HTTPStatus.BAD_REQUEST, "the chunked request body is malformed")

    def _linger(self) -> None:
        """After answering a request whose body was not read: stop writing, then read and discard what the
        client still sends (bounded in time and bytes), so closing does not reset the connection before
        the client has read the answer."""
        try:
            self.connection.shutdown(socket.SHUT_WR)  # the answer went out unbuffered (see _write)
            deadline, drained, data = time.monotonic() + LINGER_SECONDS, 0, b"?"
            while data and drained < LINGER_MAX_BYTES and time.monotonic() < deadline:
                self.connection.settimeout(max(0.0, deadline - time.monotonic()))
                data = self.connection.recv(65536)
                drained += len(data)
        except OSError:  # the client is gone or went quiet: nothing more to do
            pass

    def _write(self, response: ApiResponse) -> None:
        try:
            payload = b"" if response.body is None else json.dumps(response.body, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError, RecursionError):
            response = error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "the emulator could not render its answer")
            payload = json.dumps(response.body).encode("utf-8")
        self.send_response_only(response.status)
        # An answer hook may set the Date (an answer stamped by another clock than createdAt's).
        headers = {"Server": self.version_string(), "Date": self.date_time_string(), **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        if response.status != HTTPStatus.NO_CONTENT:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Status line, headers and body in one write, or in the pieces an answer hook paces (flushed one by one).
        answer = b"".join(self._headers_buffer) + b"\r\n" + payload
        self._headers_buffer = []  # the stdlib's own, which end_headers() would have written
        try:
            for piece in [answer] if response.pieces is None else response.pieces(answer):
                self.wfile.write(piece)
                self.wfile.flush()
        except OSError:  # the client has gone away
            self.close_connection = True

    def date_time_string(self, timestamp: Optional[float] = None) -> str:
        """The Date header, on Bird's wall clock (``wall_clock``)."""
        if timestamp is None:
            timestamp = self._emulator.backend.wall_now().timestamp()
        return super().date_time_string(timestamp)
