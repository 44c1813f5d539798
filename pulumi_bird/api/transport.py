"""One attempt of one HTTP request within a deadline of real time, from sending to the last byte. requests'
timeouts bound each socket read, which an answer trickled a byte at a time outlives: at the deadline a watchdog
shuts down the socket that the connection classes of :class:`DeadlineAdapter` noted, ending any blocked read."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# The largest answer read (a page of 100 connectors is tens of kilobytes); a bigger one is a failed attempt.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
ANSWER_CHUNK_BYTES = 64 * 1024


class DeadlineExceeded(requests.Timeout):
    """An attempt that did not finish within its deadline (a trickling or stalled answer)."""


class TooLarge(requests.ConnectionError):
    """An answer larger than :data:`MAX_ANSWER_BYTES`: not read further (the connection is dropped)."""


_current = threading.local()


class _Watch:
    """The connection one attempt runs on, and the watchdog's way to cut it."""

    def __init__(self) -> None:
        self.connection: Optional[HTTPConnection] = None
        # The connection's socket, kept here too: on an answer with `Connection: close`, http.client lets go of it
        # once the headers are in, and the body is then read from that socket alone.
        self.sock: Optional[socket.socket] = None
        self.response: Optional[requests.Response] = None
        self.armed = True
        self.fired = False

    def cut(self) -> None:
        self.fired = True
        connection = self.connection
        if connection is None and self.response is not None:  # a connection class not ours (a SOCKS proxy)
            connection = getattr(self.response.raw, "_connection", None)
        sock = getattr(connection, "sock", None) or self.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread per process that cuts the attempts whose deadline has passed (a thread per attempt would cost
    more than a fast request). Disarmed watches leave the queue when their deadline comes up."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, _Watch]] = []
        self._seq = itertools.count()
        self._thread: Optional[threading.Thread] = None

    def arm(self, deadline: float, watch: _Watch) -> None:
        with self._cond:
            heapq.heappush(self._queue, (deadline, next(self._seq), watch))
            if self._thread is None or not self._thread.is_alive():  # first use, or a forked child
                self._thread = threading.Thread(target=self._run, name="pulumi-bird-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._queue and not self._queue[0][2].armed:
                    heapq.heappop(self._queue)
                if not self._queue:
                    self._cond.wait()
                    continue
                wait = self._queue[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                watch = heapq.heappop(self._queue)[2]
            # An attempt that ended at this very moment may already have handed its connection back: cutting
            # it then is harmless (urllib3 drops a dead connection before reusing it).
            watch.cut()


_WATCHDOG = _Watchdog()


class _Watched:
    """Mixed into urllib3's connections: a request notes its connection for the thread's watch."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.connection = self
        super().request(*args, **kwargs)  # type: ignore[misc]
        if watch is not None:
            watch.sock = self.sock  # type: ignore[attr-defined]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


# urllib3 declares ConnectionCls as its connection protocols, which its own classes satisfy only loosely (a
# Final class attribute against a mutable one): pyright refuses the subclasses for that alone.
class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection  # pyright: ignore[reportAssignmentType]


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection  # pyright: ignore[reportAssignmentType]


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter, with connections the watchdog can find (directly and through an HTTP proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools have connection classes of their own
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


def exchange(session: requests.Session, method: str, url: str, seconds: float, **kwargs: Any) -> requests.Response:
    """Send once (following no redirect) and read the whole answer within ``seconds`` of real time and at most
    MAX_ANSWER_BYTES; raises requests' errors, or :class:`DeadlineExceeded`."""
    ends = time.monotonic() + seconds
    watch = _Watch()
    _current.watch = watch
    _WATCHDOG.arm(ends, watch)
    try:
        response = session.request(method, url, allow_redirects=False, stream=True, **kwargs)
        watch.response = response
        response._content = _read(response, ends, seconds)
        if watch.fired:  # cut: what was read may look whole (an HTTP/1.0 answer ends where the socket does)
            raise DeadlineExceeded(f"the answer took longer than {seconds:g}s")
        return response
    except (requests.RequestException, OSError, ValueError) as exc:
        if time.monotonic() >= ends:
            raise DeadlineExceeded(f"the answer took longer than {seconds:g}s") from exc
        raise exc if isinstance(exc, requests.RequestException) else requests.ConnectionError(str(exc)) from exc
    finally:
        watch.armed = False
        _current.watch = None


def _read(response: requests.Response, ends: float, seconds: float) -> bytes:
    """The body, chunk by chunk, stopping at the deadline or at MAX_ANSWER_BYTES (the connection is dropped)."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(ANSWER_CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise TooLarge(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
            chunks.append(chunk)
            if time.monotonic() > ends:
                raise DeadlineExceeded(f"the answer took longer than {seconds:g}s")
    except BaseException:
        response.close()
        raise
    return b"".join(chunks)
