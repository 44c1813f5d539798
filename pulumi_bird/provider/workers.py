"""Let the SDK's dynamic provider host run as many operations at once as the engine sends (docs/performance.md,
"Host concurrency"). Raising ``max_workers`` alone is not enough: the executor starts a thread only when its
idle-thread semaphore is empty, and that semaphore over-counts idle threads (it is released after every call), so
the pool's ``submit`` is wrapped to start one more thread whenever the calls in flight outnumber the threads. Every
step is guarded: when the internals look different it does nothing, and ``tests/test_host_concurrency.py`` notices.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

log: logging.Logger = logging.getLogger(__name__)

# The most workers the host grows to: ~90 kB per waiting create (measured), so ~180 MB at most.
HOST_MAX_WORKERS = 2048
# Of the per-user process/thread limit, the share the host may use at most (so thread creation cannot fail in it).
NPROC_SHARE = 4
_HOST_MODULE = "pulumi.dynamic.__main__"
_NEEDED = ("_idle_semaphore", "_threads", "_adjust_thread_count", "_shutdown_lock", "submit")

_done = threading.Lock()
_result: list[str] = []


def in_dynamic_host() -> bool:
    """True inside the process started as ``python -m pulumi.dynamic``."""
    return getattr(getattr(sys.modules.get("__main__"), "__spec__", None), "name", None) == _HOST_MODULE


def worker_bound(limit: int = HOST_MAX_WORKERS) -> int:
    """``limit``, or less when the process limit (RLIMIT_NPROC) is tight; never below the SDK's four."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NPROC)
    except (ImportError, AttributeError, OSError, ValueError):
        return limit
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return limit
    return max(4, min(limit, soft // NPROC_SHARE))


def _grpc_thread_pools() -> list[ThreadPoolExecutor]:
    try:
        server_type = importlib.import_module("grpc._server")._Server  # private: checked at every step below
    except (ImportError, AttributeError):
        return []
    pools = [getattr(getattr(obj, "_state", None), "thread_pool", None) for obj in gc.get_objects()
             if isinstance(obj, server_type)]
    return [pool for pool in pools
            if type(pool) is ThreadPoolExecutor and isinstance(getattr(pool, "_max_workers", None), int)]


class _DemandGrowth:
    """The wrapped ``submit`` of one pool: counts calls in flight and adds a worker when they outnumber them."""

    def __init__(self, pool: ThreadPoolExecutor, max_workers: int) -> None:
        self.pool = pool
        self.max_workers = max_workers
        self.in_flight = 0
        self._lock = threading.Lock()
        self._submit: Callable[..., Future] = pool.submit

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            self.in_flight += 1
        before = len(self.pool._threads)
        try:
            future = self._submit(self._counted, fn, *args, **kwargs)
        except BaseException:
            self._finished()
            raise
        self._grow()
        after = len(self.pool._threads)
        if after > before:
            log.debug("pulumi-bird host concurrency: %d calls in flight, grew to %d workers", self.in_flight, after)
        return future

    def _counted(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _grow(self) -> None:
        pool = self.pool
        with pool._shutdown_lock:  # submit() holds it while it adjusts: no thread starts meanwhile
            before = len(pool._threads)
            if self.in_flight <= before or before >= self.max_workers:
                return
            # every thread is busy, so the idle count is stale: empty it, then start one thread
            while pool._idle_semaphore.acquire(timeout=0):
                pass
            pool._adjust_thread_count()


def _install(pool: ThreadPoolExecutor, max_workers: int) -> str:
    before = pool._max_workers
    pool._max_workers = max(before, max_workers)
    pool.submit = _DemandGrowth(pool, pool._max_workers).submit  # type: ignore[method-assign]
    return f"lifted: {before} -> up to {pool._max_workers} workers, started on demand ({len(pool._threads)} now)"


def lift_host_concurrency() -> str:
    """Let the host's worker pool grow with demand, up to :func:`worker_bound`, once per process; returns what it
    did (for logs and tests)."""
    with _done:
        if _result:
            return _result[0]
        if not in_dynamic_host():
            outcome = "skipped: not inside the dynamic provider host"
        else:
            pools = _grpc_thread_pools()
            if len(pools) != 1:
                outcome = f"skipped: expected one gRPC server thread pool, found {len(pools)}"
            elif not all(hasattr(pools[0], a) for a in _NEEDED):
                outcome = "skipped: ThreadPoolExecutor internals differ from what this code knows"
            else:
                outcome = _install(pools[0], worker_bound())
        log.debug("pulumi-bird host concurrency %s", outcome)
        _result.append(outcome)
        return outcome
