"""The figures under the real Pulumi CLI (``make bench`` with the engine ``make engine`` built).

N SmsChannels, active T seconds after their POST, Bird's rate limits enforced (50 GETs/s per workspace): ``pulumi
up`` at the default ``--parallel`` and at ``--parallel N``, each as a ratio to the floor T + N/50 and to the
double's (tests/engine_double run_program) time for the same program in the same run; then a no-op ``up`` and a
``preview`` of the same stack, and the engine's fixed cost (an ``up`` of a program with no resources).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # engine_double, hostile_emulator

from engine_double import destroy, run_program, secret
from hostile_emulator import HostileEmulator
from pulumi_bird.emulator import BirdEmulator
from pulumi_cli import ENGINE_ENV, Pulumi

BIRD_GETS_PER_SECOND = 50
PROGRAM = '''"""N SmsChannels on numbers of their own (the count from config)."""
import uuid

import pulumi

from pulumi_bird import SmsChannel

for i in range(pulumi.Config().require_int("count")):
    SmsChannel(f"sms-{i}", phone_number_id=str(uuid.UUID(int=i + 1)), channel_message_type="transactional")
'''


def make_project(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (directory / "__main__.py").write_text(PROGRAM)
    return directory


def bird_config(emu: BirdEmulator) -> dict[str, str]:
    return {"bird:accessKey": emu.access_key, "bird:apiUrl": emu.url, "bird:workspaceId": emu.workspace_id,
            "bird:organizationId": emu.organization_id}


def timed(action: Callable[[], Any]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def double_up(project: Path, count: int, provision: float) -> float:
    with BirdEmulator(provision_seconds=provision, rate_limits=True) as emu:
        config = {**bird_config(emu), "bird:accessKey": secret(emu.access_key), "count": str(count)}
        result: list[Any] = []
        seconds = timed(lambda: result.append(run_program(str(project), config=config, skip_preview=True,
                                                          parallel=count)))
        destroy(result[0].state)
    return seconds


def engine_up(work: Path, project: Path, count: int, provision: float, parallel: list[str]) -> dict[str, Any]:
    with HostileEmulator(provision_seconds=provision, rate_limits=True) as emu:
        cli = Pulumi(work / f"cli-{len(parallel)}")
        stack = cli.stack(project, f"bench{len(parallel)}", {**bird_config(emu), "count": str(count)},
                          secrets={"bird:accessKey"})
        figures = {"up": timed(lambda: stack("up", "--yes", "--skip-preview", *parallel))}
        stats = emu.rate_stats()
        figures["429s"] = stats.rate_limited_gets + stats.rate_limited_posts + stats.too_many_requests
        figures["noop"] = timed(lambda: stack("up", "--yes", "--skip-preview", "--expect-no-changes", *parallel))
        figures["preview"] = timed(lambda: stack("preview", "--expect-no-changes", *parallel))
        stack("destroy", "--yes", *parallel)
    return figures


def engine_overhead(work: Path, project: Path) -> float:
    with BirdEmulator() as emu:
        stack = Pulumi(work / "empty").stack(project, "empty", {**bird_config(emu), "count": "0"})
        return timed(lambda: stack("up", "--yes", "--skip-preview"))


def bench_engine(row: Callable[..., None], count: int = 256, provision: float = 2.0) -> None:
    if not os.environ.get(ENGINE_ENV):
        row("the real engine", f"not run: {ENGINE_ENV} unset (make bench builds it)", "run", "run", False)
        return
    work = Path(tempfile.mkdtemp(prefix="pulumi-bird-engine-bench-"))
    try:
        project = make_project(work / "project", "bench-sms")
        floor = provision + count / BIRD_GETS_PER_SECOND
        double = double_up(project, count, provision)
        overhead = engine_overhead(work, project)
        # The engine runs at most --parallel steps at once (default 4 x the CPU count: pkg/cmd/pulumi/operations
        # up.go defaultParallel), so N creates that each wait T seconds take ceil(N / parallel) x T at least.
        default = 4 * (os.cpu_count() or 1)
        for label, parallel, in_flight in (("default --parallel", [], default),
                                           (f"--parallel {count}", ["--parallel", str(count)], count)):
            bound = max(floor, math.ceil(count / in_flight) * provision)
            m = engine_up(work, project, count, provision, parallel)
            row(f"pulumi up of {count} SmsChannels (active after {provision:g}s, Bird's limits), {label}",
                f"{m['up']:.1f}s = {m['up'] / bound:.2f} x its floor {bound:.1f}s ({in_flight} in flight; T + N/50 = "
                f"{floor:.1f}s), {m['up'] / double:.2f} x the double's {double:.1f}s at --parallel {count}; "
                f"{m['429s']} x 429; the engine's fixed cost (an empty up) {overhead:.1f}s",
                "<= 2 x floor, 0 x 429", "1.00 x floor", m["up"] <= 2 * bound and m["429s"] == 0)
            row(f"no-op pulumi up and preview of the same {count}, {label}",
                f"up {m['noop']:.1f}s, preview {m['preview']:.1f}s", "<= 60s each", f"the fixed cost {overhead:.1f}s",
                m["noop"] <= 60 and m["preview"] <= 60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
