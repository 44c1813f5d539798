"""The provider host runs many creates at once (pulumi_bird.provider.workers lets its four-worker pool grow with demand).

If an SDK or grpcio upgrade changes the host so that the lift no longer applies, the lift does nothing and
creates fall back to four at a time: test_creates_run_concurrently_in_one_host and
test_the_host_grows_with_demand_past_64 then fail, saying so.
"""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

from engine_double.host import ProviderHost
from pulumi_bird import SmsChannel, VoiceChannel
from pulumi_bird.provider.workers import HOST_MAX_WORKERS, in_dynamic_host, lift_host_concurrency, worker_bound

CHANNELS = 8
# How long a create waits for its channel here: only a host that runs too few creates at once waits it out.
READY_TIMEOUT = 60


def test_creates_run_concurrently_in_one_host(host, double, inputs_of):
    # No channel turns active before all CHANNELS connectors exist: with the SDK's four workers, the fifth POST
    # would wait for a create that waits for it, until READY_TIMEOUT. Lifted, all start together.
    double.active_after_creates = len(double.created_at) + CHANNELS
    regs = [inputs_of(lambda i=i: SmsChannel(f"sms{i}", phone_number_id=str(uuid.uuid4()), channel_message_type="2fa",
                                             ready_timeout=READY_TIMEOUT))
            for i in range(CHANNELS)]
    with ThreadPoolExecutor(CHANNELS) as pool:
        # A preview's worth of concurrent checks first: the executor's count of idle threads, inflated by
        # finished calls, must not keep it at four workers afterwards.
        for _ in range(5):
            checked = list(pool.map(lambda r: host.check(r.urn, r.inputs).inputs, regs))
        results = [pool.submit(host.create, r.urn, c) for r, c in zip(regs, checked)]
        failed = [str(f.exception()).splitlines()[0] for f in results if f.exception() is not None]
    assert failed == [], (
        "creates ran at most four at a time: the host concurrency lift in pulumi_bird/provider/workers.py "
        f"no longer applies to this SDK (see its docstring): {failed[:1]}")
    assert all(r.result().outs["channel_id"] for r in results) and len(double.calls("POST")) == CHANNELS


MANY = 72  # more than the fixed 64 workers of the past


def test_the_host_grows_with_demand_past_64(double, inputs_of):
    # No channel turns active before all MANY connectors exist: they must all be in flight at once.
    double.active_after_creates = len(double.created_at) + MANY
    regs = [inputs_of(lambda i=i: VoiceChannel(f"v{i}", phone_number_id=str(uuid.uuid4()), ready_timeout=READY_TIMEOUT))
            for i in range(MANY)]
    with ProviderHost(config=double.config(), env={"PULUMI_BIRD_LOG": "debug"}) as host:
        with ThreadPoolExecutor(8) as pool:
            checked = list(pool.map(lambda r: host.check(r.urn, r.inputs).inputs, regs))
        after_checks = host.stderr_text()
        with ThreadPoolExecutor(MANY) as pool:
            results = [pool.submit(host.create, r.urn, c) for r, c in zip(regs, checked)]
            failed = [str(f.exception()).splitlines()[0] for f in results if f.exception() is not None]
        log = host.stderr_text()
    assert failed == [], (
        f"{MANY} creates were not all in flight at once: the host's pool did not grow past 64 "
        f"(see pulumi_bird/provider/workers.py): {failed[:1]}")
    assert all(r.result().outs["channel_id"] for r in results)
    assert re.search(r"lifted: 4 -> up to \d+ workers, started on demand", log), log[-2000:]
    # checks alone did not make the pool grow to its bound; the creates made it grow to what they needed
    grown = [int(n) for n in re.findall(r"grew to (\d+) workers", after_checks)]
    assert max(grown, default=4) < 32, grown
    grown = [int(n) for n in re.findall(r"grew to (\d+) workers", log)]
    assert MANY <= max(grown, default=0) <= MANY + 8, grown[-5:]


def test_the_bound_respects_the_process_limit(monkeypatch):
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda _which: (400, 400))
    assert worker_bound() == 100
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert worker_bound() == HOST_MAX_WORKERS
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (8, 8))
    assert worker_bound() == 4


def test_lift_does_nothing_outside_the_host():
    assert not in_dynamic_host()
    assert lift_host_concurrency().startswith("skipped")
