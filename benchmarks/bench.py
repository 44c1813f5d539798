"""``make bench``: the performance figures, measured in one run against the emulator through the SDK's real
dynamic provider host, each printed beside its target and the ideal.

    python benchmarks/bench.py [--quick] [--scale-only] [--only refresh|waiting|engine|fleet]
        --quick       skips the 60 s readiness case
        --scale-only  runs only the scale figures (N channels at once, 2000 existing connectors, get() reads,
                      refresh in list pages, 1000 creates waiting 30 s)
        --only        runs only the refresh figures, only the 1000 creates waiting 30 s, only the figures under
                      the real Pulumi CLI (benchmarks/engine_bench.py; PULUMI_BIRD_ENGINE, which make bench sets),
                      or only the fleet of 8 workspaces under that CLI (benchmarks/fleet_bench.py)

The scale figures run against the emulator with Bird's rate limits enforced (50 GETs and 500 POSTs per second
per workspace over a sliding second, 429 beyond), through ONE provider host, with all creates submitted at
once (as ``pulumi up --parallel N`` does). Their floor: a channel active T seconds after its POST needs one
status GET after that, so N channels cannot all be seen active before T + N/50 seconds.

The suite keeps no wall-clock bound of its own (a busy machine would make it flake): how soon a create against an
unreachable API, a create told `Retry-After: 3600` and a trickled answer give up are figures here (bench_deadlines),
while the tests count the attempts and requests behind them.

Timings on shared machines are noisy: each figure is a ratio taken within this one run (the time after
activation against the activation time, the parallel run against one channel's provisioning time, our
import against `import pulumi` measured alternately in fresh interpreters).
"""

from __future__ import annotations

import argparse
import base64
import collections
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# The engine double (tests/engine_double) and the emulator that counts request rates (HostileEmulator) are our
# tests' own.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from engine_double import ProviderHost, registered_inputs, run_program
from hostile_emulator import HostileEmulator
from pulumi_bird import SmsChannel, VoiceChannel, WebhookSubscription, event_filter
from pulumi_bird.emulator import BirdEmulator

ROWS: list[tuple[str, str, str, str, bool]] = []


def row(figure: str, measured: str, target: str, ideal: str, ok: bool) -> None:
    ROWS.append((figure, measured, target, ideal, ok))
    print(f"  {'ok ' if ok else 'MISS'} {figure}: {measured} (target {target}; ideal {ideal})", flush=True)


def config_for(emu: BirdEmulator) -> dict[str, str]:
    return {"bird:accessKey": emu.access_key, "bird:apiUrl": emu.url,
            "bird:workspaceId": emu.workspace_id, "bird:organizationId": emu.organization_id}


def many_channels(count: int):
    def program() -> None:
        for i in range(count):
            sms = SmsChannel(f"sms-{i}", phone_number_id=str(uuid.UUID(int=i + 1)), channel_message_type="transactional")
            WebhookSubscription(f"hook-{i}", service="channels", event="channel.updated",
                                url="https://hooks.example.com/bird", event_filters=[event_filter("channelId", sms.channel_id)])
    return program


def bench_preview(emu: BirdEmulator, host: ProviderHost, count: int) -> None:
    emu.clear_requests()
    started = time.perf_counter()
    result = run_program(many_channels(count), host=host, preview=True)
    elapsed = time.perf_counter() - started
    calls = len(emu.requests)
    row(f"preview of {2 * count} resources (check+diff)", f"{calls} API calls, {elapsed:.2f}s",
        "0 API calls", "0 API calls", calls == 0 and len(result.steps) == 2 * count)


def create_one(emu: BirdEmulator, host: ProviderHost, provision: float) -> tuple[float, int]:
    """(seconds from activation to create returning, API calls) for one channel active after ``provision`` s."""
    emu.provision_seconds = provision
    number = str(uuid.uuid4())
    reg = registered_inputs(lambda: SmsChannel("sms", phone_number_id=number, channel_message_type="2fa"))["sms"]
    checked = host.check(reg.urn, reg.inputs)
    emu.clear_requests()
    created = host.create(reg.urn, checked.inputs)
    returned = time.monotonic()
    calls = emu.requests  # every call of this create: any look-up before the POST, the POST, the polls
    post = next(r for r in calls if r.method == "POST")
    activation = post.finished + provision  # the emulator's clock starts at creation, just before it answers
    host.delete(reg.urn, created.id, created.outs)
    return returned - activation, len(calls)


def bench_readiness(emu: BirdEmulator, host: ProviderHost, provision: float, max_lag: float, max_calls: int) -> None:
    lag, calls = create_one(emu, host, provision)
    row(f"create of a channel active after {provision:g}s",
        f"returned {lag:.2f}s after activation ({lag / provision:.1%} of the wait), {calls} API calls",
        f"<= {max_lag:g}s, <= {max_calls} calls", "0s, 2 calls (POST, one status read)",
        0 <= lag <= max_lag and calls <= max_calls)


def bench_deadlines(emu: BirdEmulator, host: ProviderHost) -> None:
    """How soon a create or a request gives up: speed targets kept out of the tests (which count attempts and
    requests instead), where a busy machine would make them flake."""
    from pulumi_bird.api import errors
    from pulumi_bird.api.client import BirdClient
    from pulumi_bird.api.retry import NO_RETRY
    from pulumi_bird.testing import ProviderError

    reg = registered_inputs(lambda: SmsChannel("sms", phone_number_id=str(uuid.uuid4()), channel_message_type="2fa",
                                               ready_timeout=5))["sms"]
    unreachable = {**config_for(emu), "bird:apiUrl": "http://127.0.0.1:9"}
    with ProviderHost(config=unreachable) as cut_off:
        checked = cut_off.check(reg.urn, reg.inputs)
        started = time.perf_counter()
        try:
            cut_off.create(reg.urn, checked.inputs)
        except ProviderError:
            pass
        elapsed = time.perf_counter() - started
    row("create against an unreachable API fails in", f"{elapsed:.1f}s", "< 15s", "the retry policy's backoff",
        elapsed < 15)

    emu.faults.add("GET", r"/status$", 429, retry_after=3600)
    checked = host.check(reg.urn, reg.inputs)
    started = time.perf_counter()
    try:
        created = host.create(reg.urn, checked.inputs)
        host.delete(reg.urn, created.id, created.outs)
    except ProviderError:
        pass
    elapsed = time.perf_counter() - started
    row("create whose status poll gets Retry-After: 3600 ends in", f"{elapsed:.1f}s",
        "< 50s (ready_timeout 5s + one request deadline + slack)", "5s (its ready_timeout)", elapsed < 50)

    emu.faults.trickle("GET", r"/connectors$", seconds_per_byte=0.05)
    client = BirdClient(emu.access_key, emu.url, request_deadline=1.5, sleep=lambda s: None)
    started = time.perf_counter()
    try:
        client.request("GET", f"/workspaces/{emu.workspace_id}/connectors", retry=NO_RETRY)
    except errors.APIConnectionError:
        pass
    elapsed = time.perf_counter() - started
    emu.faults.clear()
    row("a trickled answer is cut after", f"{elapsed:.2f}s", "< 6.5s (the 1.5s deadline + slack)",
        "1.5s (the request deadline)", elapsed < 6.5)


def bench_parallel(emu: BirdEmulator, host: ProviderHost, channels: int, provision: float) -> None:
    emu.provision_seconds = provision
    regs = [registered_inputs(lambda i=i: VoiceChannel(f"v{i}", phone_number_id=str(uuid.uuid4())))[f"v{i}"]
            for i in range(channels)]
    checked = [host.check(r.urn, r.inputs).inputs for r in regs]
    started = time.monotonic()
    with ThreadPoolExecutor(channels) as pool:
        results = list(pool.map(lambda rc: host.create(rc[0].urn, rc[1]), zip(regs, checked)))
    elapsed = time.monotonic() - started
    ok = all(r.outs["channel_id"] for r in results)
    for reg, res in zip(regs, results):
        host.delete(reg.urn, res.id, res.outs)
    row(f"{channels} channels in parallel, each active after {provision:g}s",
        f"{elapsed:.2f}s = {elapsed / provision:.2f} x {provision:g}s", f"<= 1.75 x {provision:g}s",
        f"1.00 x {provision:g}s", ok and elapsed <= 1.75 * provision)


# --- scale: many channels through one host, against Bird's rate limits ------------------------------------------

SCALE_PROVISION = 2.0
BIRD_GETS_PER_SECOND = 50


def sms_channels(count: int, prefix: str = "sms") -> list[Any]:
    """Registered inputs of ``count`` SmsChannels on fresh numbers (one program run)."""
    names = [f"{prefix}{i}" for i in range(count)]
    regs = registered_inputs(lambda: [SmsChannel(n, phone_number_id=str(uuid.uuid4()), channel_message_type="transactional")
                                      for n in names])
    return [regs[n] for n in names]


def seed_connectors(emu: BirdEmulator, count: int) -> None:
    """``count`` SMS connectors already in the workspace (made through the emulator's model, not timed)."""
    for i in range(count):
        emu.backend.create_connector(emu.workspace_id, {
            "name": f"existing-{i}", "connectorTemplateRef": "sms-messagebird:1",
            "arguments": {"phoneNumberId": str(uuid.uuid4()), "channelMessageType": "transactional"}})


def classify(requests: list[Any]) -> collections.Counter:
    kinds: collections.Counter = collections.Counter()
    for r in requests:
        if r.method == "GET" and r.path.endswith("/status"):
            kinds["status"] += 1
        elif r.method == "GET" and r.path.endswith("/connectors"):
            kinds["list"] += 1
        else:
            kinds[r.method] += 1
    return kinds


def rss_kb(pid: Any) -> int:
    """The resident memory of a process (Linux), in kB; 0 where /proc is not there."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return 0


def run_creates(count: int, existing: int = 0, provision: float = SCALE_PROVISION) -> dict[str, Any]:
    """``count`` SmsChannels active ``provision`` s after their POST, all submitted at once to one host."""
    with HostileEmulator(provision_seconds=provision, rate_limits=True) as emu:
        seed_connectors(emu, existing)
        with ProviderHost(config=config_for(emu)) as host:
            regs = sms_channels(count)
            with ThreadPoolExecutor(16) as pool:
                checked = list(pool.map(lambda r: host.check(r.urn, r.inputs).inputs, regs))
            emu.clear_requests()
            emu.reset_rate_stats()
            opened, idle_kb = emu.connections_opened, rss_kb(host.pid)
            started = time.monotonic()
            with ThreadPoolExecutor(count) as pool:
                futures = [pool.submit(host.create, reg.urn, inputs, timeout=600) for reg, inputs in zip(regs, checked)]
                # while every create waits for its channel (all POSTed, none active yet): the host's memory
                waiting_kb = 0
                if provision >= 10:
                    time.sleep(provision * 0.8)
                    waiting_kb = rss_kb(host.pid)
                results = [f.result() for f in futures]
            wall = time.monotonic() - started
            stats = emu.rate_stats()
            kinds = classify(emu.requests)
            connections = emu.connections_opened - opened
    assert all(r.outs["channel_id"] for r in results)
    floor = provision + count / BIRD_GETS_PER_SECOND
    return {"wall": wall, "floor": floor, "ratio": wall / floor, "peak": stats.peak_gets_per_second,
            "peak_posts": stats.peak_posts_per_second,
            "429s": stats.rate_limited_gets + stats.rate_limited_posts + stats.too_many_requests,
            "calls": sum(kinds.values()) / count, "lookups": kinds["list"] / count, "kinds": dict(kinds),
            "connections": connections, "kb_per_waiting": (waiting_kb - idle_kb) / count if waiting_kb else None}


def bench_scale(count: int, max_ratio: float, max_calls: float) -> None:
    m = run_creates(count)
    row(f"{count} SmsChannels at once through one host, each active after {SCALE_PROVISION:g}s (Bird's limits enforced)",
        f"{m['wall']:.2f}s = {m['ratio']:.2f} x floor {m['floor']:.2f}s, peak {m['peak']} GETs/s, {m['429s']} x 429, "
        f"{m['calls']:.2f} calls per create ({m['lookups']:.2f} of them look-ups before the POST; {m['kinds']})",
        f"<= {max_ratio:g} x floor, 0 x 429, peak <= 50, <= {max_calls:g} calls per create",
        "1.00 x floor (T + N/50), 2 calls per create (POST, one status read)",
        m["ratio"] <= max_ratio and m["429s"] == 0 and m["peak"] <= BIRD_GETS_PER_SECOND and m["calls"] <= max_calls)


def bench_many_waiting(count: int, provision: float, max_ratio: float) -> None:
    """No second wave: ``count`` creates whose channels take ``provision`` s all wait at once in one host."""
    m = run_creates(count, provision=provision)
    memory = f", {m['kb_per_waiting']:.0f} kB of host memory per waiting create" if m["kb_per_waiting"] else ""
    row(f"{count} SmsChannels at once through one host, each active after {provision:g}s (Bird's limits enforced)",
        f"{m['wall']:.2f}s = {m['ratio']:.2f} x floor {m['floor']:.2f}s, {m['429s']} x 429, peak {m['peak_posts']} "
        f"POSTs/s and {m['peak']} GETs/s, {m['connections']} connections ({m['connections'] / count:.2f} per create)"
        f"{memory}",
        f"<= {max_ratio:g} x floor, 0 x 429, <= 500 POSTs/s", "1.00 x floor (T + N/50)",
        m["ratio"] <= max_ratio and m["429s"] == 0 and m["peak_posts"] <= 500 and m["peak"] <= BIRD_GETS_PER_SECOND)


def seed_subscriptions(emu: BirdEmulator, count: int) -> list[str]:
    """``count`` webhook subscriptions (each filtered on its own channel, as many_channels declares them)."""
    return [emu.backend.create_webhook(emu.organization_id, emu.workspace_id, {
        "service": "channels", "event": "channel.updated", "url": "https://hooks.example.com/bird",
        "eventFilters": [{"key": "channelId", "value": str(uuid.uuid4())}]})["id"] for _ in range(count)]


def bench_refresh(count: int, parallel: int) -> None:
    """Refresh of ``count`` SmsChannels and ``count`` subscriptions, ``parallel`` reads in flight (each next read
    sent as one ends, as the engine's step executor does), after a rename, a deletion and a url change made out
    of band. Floor: one status GET per connector plus one listing of each kind."""
    with HostileEmulator(provision_seconds=0.0, rate_limits=True) as emu:
        ws, org = emu.workspace_id, emu.organization_id
        connectors = [emu.backend.create_connector(ws, {
            "name": f"sms{i}", "connectorTemplateRef": "sms-messagebird:1",
            "arguments": {"phoneNumberId": str(uuid.uuid4()), "channelMessageType": "transactional"}})["id"]
            for i in range(count)]
        subscriptions = seed_subscriptions(emu, count)
        emu.backend._connectors[ws][connectors[1]].name = "renamed in the dashboard"
        emu.backend.delete_connector(ws, connectors[2])
        emu.backend.update_webhook(org, ws, subscriptions[3], {"url": "https://moved.example.com/bird"})
        regs = registered_inputs(lambda: (
            SmsChannel("sms", phone_number_id=str(uuid.uuid4()), channel_message_type="transactional"),
            WebhookSubscription("hook", service="channels", event="channel.updated", url="https://a.example.com")))
        work = [(regs["sms"], cid) for cid in connectors] + [(regs["hook"], sid) for sid in subscriptions]
        with ProviderHost(config=config_for(emu)) as host:
            emu.clear_requests()
            emu.reset_rate_stats()
            opened = emu.connections_opened
            started = time.monotonic()
            with ThreadPoolExecutor(parallel) as pool:
                results = list(pool.map(lambda w: host.read(w[0].urn, w[1], *[{
                    **w[0].inputs, "workspace_id": ws, "organization_id": org}] * 2, timeout=600), work))
            wall = time.monotonic() - started
            connections = emu.connections_opened - opened
        stats = emu.rate_stats()
        gets = sum(1 for r in emu.requests if r.method == "GET")
    seen = (results[1].outs.get("name") == "renamed in the dashboard" and results[2].id == ""
            and results[count + 3].outs.get("url") == "https://moved.example.com/bird")
    reads, limited = 2 * count, stats.rate_limited_gets + stats.too_many_requests
    pages = 2 * -(-count // 100)  # a listing of each kind: 100 objects a page
    least = count + pages  # a status GET per connector, one listing of each kind
    target = 1.1 * count + pages * reads / parallel  # a listing of each kind per wave of `parallel` reads
    floor = max(0, least - BIRD_GETS_PER_SECOND) / BIRD_GETS_PER_SECOND
    row(f"refresh of {count} SmsChannels + {count} subscriptions, {parallel} in flight, after a rename, a deletion "
        "and a url change out of band",
        f"{gets} GETs = {gets / reads:.2f} per read (one by one: {3 * count}), {wall:.2f}s (floor {floor:.2f}s), "
        f"{connections} connections = {connections / reads:.3f} per read, {limited} x 429, "
        f"changes {'all seen' if seen else 'MISSED'}",
        f"<= {target:.0f} GETs (1.1 x connectors + {pages} pages x reads/{parallel}), 0 x 429, every change seen",
        f"{least} GETs ({least / reads:.2f} per read), {floor:.2f}s",
        seen and limited == 0 and gets <= target)


def bench_existing(count: int, existing: int, max_ratio: float) -> None:
    none = run_creates(count)
    many = run_creates(count, existing=existing)
    ratio = many["wall"] / none["wall"]
    row(f"{count} creates with {existing} connectors already in the workspace vs none",
        f"{many['wall']:.2f}s vs {none['wall']:.2f}s = {ratio:.2f} x, {many['calls']:.2f} vs {none['calls']:.2f} calls "
        f"per create, {many['429s'] + none['429s']} x 429",
        f"<= {max_ratio:g} x", "1.00 x (no call before the POST depends on what exists)",
        ratio <= max_ratio and many["429s"] + none["429s"] == 0)


def bench_get_reads(count: int) -> None:
    with HostileEmulator(provision_seconds=0.0, rate_limits=True) as emu:
        ids = [emu.backend.create_connector(emu.workspace_id, {
            "name": f"r{i}", "connectorTemplateRef": "sms-messagebird:1",
            "arguments": {"phoneNumberId": str(uuid.uuid4()), "channelMessageType": "transactional"}})["id"]
            for i in range(count)]
        with ProviderHost(config=config_for(emu)) as host:
            regs = registered_inputs(lambda: [SmsChannel.get(f"g{i}", cid) for i, cid in enumerate(ids)])
            emu.clear_requests()
            emu.reset_rate_stats()
            started = time.monotonic()
            with ThreadPoolExecutor(count) as pool:
                reads = list(pool.map(lambda i: host.read(regs[f"g{i}"].urn, ids[i], regs[f"g{i}"].inputs,
                                                           regs[f"g{i}"].inputs, timeout=120), range(count)))
            wall = time.monotonic() - started
            stats = emu.rate_stats()
            calls = len(emu.requests)
    floor = max(0, calls - BIRD_GETS_PER_SECOND) / BIRD_GETS_PER_SECOND  # a first second's burst, then 50/s
    ok = all(r.id == cid and r.outs.get("channel_id") for r, cid in zip(reads, ids))
    row(f"{count} get() reads at once through one host (Bird's limits enforced)",
        f"{wall:.2f}s for {calls} GETs ({calls / count:.1f} per read; their floor at 50/s: {floor:.2f}s), "
        f"peak {stats.peak_gets_per_second} GETs/s, {stats.rate_limited_gets + stats.too_many_requests} x 429",
        "0 x 429, peak <= 50", f"{floor:.2f}s", ok and stats.peak_gets_per_second <= BIRD_GETS_PER_SECOND
        and stats.rate_limited_gets + stats.too_many_requests == 0)


def bench_pickle() -> None:
    regs = registered_inputs(lambda: (
        SmsChannel("s", phone_number_id=str(uuid.uuid4()), channel_message_type="2fa"),
        VoiceChannel("v", phone_number_id=str(uuid.uuid4())),
        WebhookSubscription("w", service="channels", event="channel.created", url="https://a.example.com"),
    ))
    sizes = {name: len(base64.b64decode(r.inputs["__provider"])) for name, r in regs.items()}
    worst = max(sizes.values())
    row("pickled provider per resource", f"{worst} bytes at most ({sizes})", "<= 2048 bytes",
        "a reference to the class (~60 bytes)", worst <= 2048)


def bench_import(rounds: int = 9) -> None:
    def once(statement: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        return time.perf_counter() - started

    empty, pulumi, ours, classes = [], [], [], []
    for _ in range(rounds):  # interleaved, so that load on the machine hits all four alike
        empty.append(once("pass"))
        pulumi.append(once("import pulumi"))
        ours.append(once("import pulumi_bird"))
        classes.append(once("from pulumi_bird import SmsChannel, VoiceChannel, Connector, WebhookSubscription"))
    base = statistics.median(empty)
    cost = lambda xs: max(statistics.median(xs) - base, 1e-6)  # noqa: E731
    ratio, ratio_classes = cost(ours) / cost(pulumi), cost(classes) / cost(pulumi)
    row("import pulumi_bird vs import pulumi", f"{ratio:.2f} x ({cost(ours) * 1000:.0f} ms vs {cost(pulumi) * 1000:.0f} ms)",
        "<= 1.5 x", "1.0 x", ratio <= 1.5)
    row("import of the four resource classes vs import pulumi", f"{ratio_classes:.2f} x", "<= 1.5 x", "1.0 x",
        ratio_classes <= 1.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 60 s readiness case")
    parser.add_argument("--scale-only", action="store_true", help="run only the scale figures")
    parser.add_argument("--only", choices=("refresh", "waiting", "engine", "fleet"),
                        help="run only the refresh figures, only 1000 creates with T = 30 s, only the real CLI's, "
                        "or only the fleet's")
    args = parser.parse_args()
    if args.only:
        return finish({"refresh": bench_refresh_all, "waiting": bench_waiting, "engine": bench_on_engine,
                       "fleet": bench_on_fleet}[args.only])
    print("pulumi-bird benchmark (emulator on loopback, SDK provider host over gRPC)", flush=True)
    if not args.scale_only:
        with BirdEmulator(provision_seconds=1.0) as emu, ProviderHost(config=config_for(emu)) as host:
            bench_preview(emu, host, 25)
            bench_readiness(emu, host, 3.0, 0.75, 12)
            if not args.quick:
                bench_readiness(emu, host, 60.0, 5.0, 25)
            bench_parallel(emu, host, 16, 2.0)
            bench_deadlines(emu, host)
    bench_scale(64, 1.25, 2.5)
    bench_scale(256, 1.25, 2.5)
    bench_existing(64, 2000, 1.15)
    bench_get_reads(100)
    bench_refresh_all()
    bench_waiting()
    if not args.scale_only:
        bench_pickle()
        bench_import()
        bench_on_engine()
    return finish(lambda: None)


def bench_on_engine() -> None:
    from engine_bench import bench_engine

    bench_engine(row)


def bench_on_fleet() -> None:
    from fleet_bench import bench_fleet

    bench_fleet(row)


def bench_refresh_all() -> None:
    for count in (256, 1000):
        for parallel in (32, count):
            bench_refresh(count, parallel)


def bench_waiting() -> None:
    bench_many_waiting(1000, 30.0, 1.15)


def finish(run: Any) -> int:
    run()
    missed = [r for r in ROWS if not r[4]]
    print(f"\n{len(ROWS) - len(missed)} of {len(ROWS)} figures within target")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
