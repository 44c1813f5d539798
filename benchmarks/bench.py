"""``make bench``: the performance figures of issue 6, measured in one run against the emulator through the
SDK's real dynamic provider host, each printed beside its target and the ideal.

    python benchmarks/bench.py [--quick]     (--quick skips the 60 s readiness case)

Timings on shared machines are noisy: each figure is a ratio taken within this one run (the time after
activation against the activation time, the parallel run against one channel's provisioning time, our
import against `import pulumi` measured alternately in fresh interpreters).
"""

from __future__ import annotations

import argparse
import base64
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pulumi_bird import SmsChannel, VoiceChannel, WebhookSubscription, event_filter
from pulumi_bird.emulator import BirdEmulator
from pulumi_bird.testing import ProviderHost, registered_inputs, run_program

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
    calls = emu.requests  # every call of this create: the look-up before the POST, the POST, the polls
    post = next(r for r in calls if r.method == "POST")
    activation = post.finished + provision  # the emulator's clock starts at creation, just before it answers
    host.delete(reg.urn, created.id, created.outs)
    return returned - activation, len(calls)


def bench_readiness(emu: BirdEmulator, host: ProviderHost, provision: float, max_lag: float, max_calls: int) -> None:
    lag, calls = create_one(emu, host, provision)
    row(f"create of a channel active after {provision:g}s",
        f"returned {lag:.2f}s after activation ({lag / provision:.1%} of the wait), {calls} API calls",
        f"<= {max_lag:g}s, <= {max_calls} calls", "0s, 3 calls (look-up, POST, one status read)",
        0 <= lag <= max_lag and calls <= max_calls)


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 60 s readiness case")
    args = parser.parse_args()
    print("pulumi-bird benchmark (emulator on loopback, SDK provider host over gRPC)", flush=True)
    with BirdEmulator(provision_seconds=1.0) as emu, ProviderHost(config=config_for(emu)) as host:
        bench_preview(emu, host, 25)
        bench_readiness(emu, host, 3.0, 0.75, 12)
        if not args.quick:
            bench_readiness(emu, host, 60.0, 5.0, 25)
        bench_parallel(emu, host, 16, 2.0)
    bench_pickle()
    bench_import()
    missed = [r for r in ROWS if not r[4]]
    print(f"\n{len(ROWS) - len(missed)} of {len(ROWS)} figures within target")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
