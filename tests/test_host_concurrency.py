"""The provider host runs many creates at once (pulumi_bird._host lifts its four-worker limit).

If an SDK or grpcio upgrade changes the host so that the lift no longer applies, the lift does nothing and
creates fall back to four at a time: test_creates_run_concurrently_in_one_host then fails, saying so.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from pulumi_bird import SmsChannel
from pulumi_bird._host import in_dynamic_host, lift_host_concurrency

CHANNELS = 8
PROVISION_SECONDS = 1.5


def test_creates_run_concurrently_in_one_host(host, double, inputs_of):
    double.seconds_until_active = PROVISION_SECONDS
    regs = [inputs_of(lambda i=i: SmsChannel(f"sms{i}", phone_number_id=str(uuid.uuid4()), channel_message_type="2fa"))
            for i in range(CHANNELS)]
    with ThreadPoolExecutor(CHANNELS) as pool:
        # A preview's worth of concurrent checks first: the executor's count of idle threads, inflated by
        # finished calls, must not keep it at four workers afterwards.
        for _ in range(5):
            checked = list(pool.map(lambda r: host.check(r.urn, r.inputs).inputs, regs))
        results = list(pool.map(lambda rc: host.create(rc[0].urn, rc[1]), zip(regs, checked)))
    assert all(r.outs["channel_id"] for r in results)
    posts = sorted(c.at for c in double.calls("POST"))
    assert len(posts) == CHANNELS
    # With the SDK's four workers, the fifth POST cannot start before a first channel is active
    # (PROVISION_SECONDS after its POST). Lifted, all start together.
    assert posts[-1] - posts[0] < PROVISION_SECONDS, (
        "creates ran at most four at a time: the host concurrency lift in pulumi_bird/_host.py "
        "no longer applies to this SDK (see its docstring)")


def test_lift_does_nothing_outside_the_host():
    assert not in_dynamic_host()
    assert lift_host_concurrency().startswith("skipped")
