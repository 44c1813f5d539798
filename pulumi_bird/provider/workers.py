"""Let the SDK's dynamic provider host run as many operations at once as the engine sends.

``python -m pulumi.dynamic`` serves gRPC from ``ThreadPoolExecutor(max_workers=4)``: with channels that take
seconds to provision, a fifth ``create`` waits for one of the first four to finish, whatever
``pulumi up --parallel`` says. Raising the executor's limit is not enough on its own: the executor starts a
thread only when its idle-thread semaphore is empty, and that semaphore over-counts idle threads (it is
released after every finished call), so after a preview's worth of checks it would never grow.

So the pool's ``submit`` is wrapped: it counts the calls in flight, and whenever they outnumber the threads it
starts one more, up to :func:`worker_bound`. The host grows with demand (a preview of checks and diffs never
needs more than a few threads; ``up --parallel 256`` of waiting creates gets 256) and never shrinks: idle
workers wait on the executor's queue.

The bound is a memory bound, not a guess at demand: the engine sends at most ``--parallel`` operations at
once (default 4 x the cores; users raise it to create hundreds of channels together), and every one of them
should start at once rather than wait for a second wave. A waiting create is a sleeping thread plus its gRPC
call and request state: measured by ``make bench`` (1000 creates waiting 30 s in one host), about 90 kB of
resident memory each (the thread's stack is reserved address space, touched only a few pages deep). So the
2048 workers of :data:`HOST_MAX_WORKERS` hold at most about 180 MB, and only while that many creates wait.
The bound is also kept under a quarter of the process limit (``RLIMIT_NPROC``) where one is set, so that a
tight limit cannot make thread creation fail inside the host. Calls beyond the bound queue, as they did before.

This is guarded on every step: it runs only inside that host process, only touches a gRPC server whose pool
is a plain ``ThreadPoolExecutor``, never lowers a limit, and when anything looks different (an SDK or
grpcio upgrade) it does nothing, leaving the host as it was. ``tests/test_host_concurrency.py`` notices when
that happens.
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

# The most workers the host grows to: ~90 kB per waiting create (measured), so ~180 MB at most (module docstring).
HOST_MAX_WORKERS = 2048
# Of the per-user process/thread limit, the share the host may use at most.
NPROC_SHARE = 4
_HOST_MODULE = "pulumi.dynamic.__main__"
_NEEDED = ("_idle_semaphore", "_threads", "_adjust_thread_count", "_shutdown_lock", "submit")

_done = threading.Lock()
_result: list[str] = []


def in_dynamic_host() -> bool:
    """True inside the process started as ``python -m pulumi.dynamic``."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return getattr(spec, "name", None) == _HOST_MODULE


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
        _server = importlib.import_module("grpc._server")  # private: checked at every step below
    except ImportError:
        return []
    server_type = getattr(_server, "_Server", None)
    if server_type is None:
        return []
    pools = []
    for obj in gc.get_objects():
        if isinstance(obj, server_type):
            pool = getattr(getattr(obj, "_state", None), "thread_pool", None)
            if type(pool) is ThreadPoolExecutor and isinstance(getattr(pool, "_max_workers", None), int):
                pools.append(pool)
    return pools


class _DemandGrowth:
    """The wrapped ``submit`` of one pool: counts calls in flight and adds a worker when they outnumber them."""

    def __init__(self, pool: ThreadPoolExecutor, max_workers: int) -> None:
        self.pool = pool
        self.max_workers = max_workers
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()
        self._submit: Callable[..., Future] = pool.submit

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
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
    growth = _DemandGrowth(pool, pool._max_workers)
    pool.submit = growth.submit  # type: ignore[method-assign]
    return f"lifted: {before} -> up to {pool._max_workers} workers, started on demand ({len(pool._threads)} now)"


def lift_host_concurrency(max_workers: int = 0) -> str:
    """Let the host's worker pool grow with demand, once per process; returns what it did (for logs and tests).
    ``max_workers``: the bound (default :func:`worker_bound`)."""
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
                outcome = _install(pools[0], max_workers or worker_bound())
        log.debug("pulumi-bird host concurrency %s", outcome)
        _result.append(outcome)
        return outcome
