"""Let the SDK's dynamic provider host run more than four operations at once.

``python -m pulumi.dynamic`` serves gRPC from ``ThreadPoolExecutor(max_workers=4)``: with channels that
take seconds to provision, a fifth ``create`` waits for one of the first four to finish. Raising the live
executor's limit is not enough on its own: the executor starts a new thread only when its idle-thread
semaphore is empty, and that semaphore is released after every finished call (it over-counts idle threads), so
after a preview's worth of checks it would never grow. So the workers are started here, all at once;
idle, each waits on the executor's queue.

This is guarded on every step: it runs only inside that host process, only touches a gRPC server whose
pool is a plain ``ThreadPoolExecutor``, never lowers a limit, and when anything looks different (an SDK or
grpcio upgrade) it does nothing, leaving the host as it was. ``tests/test_host_concurrency.py`` notices when
that happens.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

# Enough for every channel of a large stack to wait for readiness at once. The engine bounds what it sends
# with `pulumi up --parallel`; each waiting operation is a thread that mostly sleeps.
HOST_MAX_WORKERS = 64
_HOST_MODULE = "pulumi.dynamic.__main__"

_done = threading.Lock()
_result: list[str] = []


def in_dynamic_host() -> bool:
    """True inside the process started as ``python -m pulumi.dynamic``."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return getattr(spec, "name", None) == _HOST_MODULE


def _grpc_thread_pools() -> list[ThreadPoolExecutor]:
    try:
        from grpc import _server
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


def _start_workers(pool: ThreadPoolExecutor, max_workers: int) -> str:
    before = pool._max_workers
    pool._max_workers = max(before, max_workers)
    # _adjust_thread_count() starts a thread only when the idle semaphore is empty; workers finishing calls
    # meanwhile refill it, so empty it before each start and retry, a bounded number of times.
    lock = getattr(pool, "_shutdown_lock", None) or threading.Lock()  # submit() holds it while it adjusts
    for _ in range(4 * pool._max_workers):
        with lock:
            if len(pool._threads) >= pool._max_workers:
                break
            while pool._idle_semaphore.acquire(timeout=0):
                pass
            pool._adjust_thread_count()
    return f"lifted: {before} -> {pool._max_workers} workers, {len(pool._threads)} started"


def lift_host_concurrency(max_workers: int = HOST_MAX_WORKERS) -> str:
    """Raise the host's worker limit once per process; returns what it did (for logs and tests)."""
    with _done:
        if _result:
            return _result[0]
        if not in_dynamic_host():
            outcome = "skipped: not inside the dynamic provider host"
        else:
            pools = _grpc_thread_pools()
            if len(pools) != 1:
                outcome = f"skipped: expected one gRPC server thread pool, found {len(pools)}"
            elif not all(hasattr(pools[0], a) for a in ("_idle_semaphore", "_threads", "_adjust_thread_count")):
                outcome = "skipped: ThreadPoolExecutor internals differ from what this code knows"
            else:
                outcome = _start_workers(pools[0], max_workers)
        log.debug("pulumi-bird host concurrency %s", outcome)
        _result.append(outcome)
        return outcome
