"""The fleet figures (``make bench BENCH_ARGS='--only fleet'``, or ``python benchmarks/fleet_bench.py``):
examples/fleet under the real Pulumi CLI (``make engine``; PULUMI_BIRD_ENGINE names its bin directory).

8 workspaces, each with 32 SmsChannels and one signed webhook (33 resources a stack), the channels active
2 s after their POST, Bird's rate limits enforced per workspace by the emulator. Measured three ways, each on a
fresh emulator and backend: the fleet with 8 stacks in parallel (``--workers 8``), one stack after another
(``--workers 1``), and one workspace's stack alone. The fleet's time is given as a ratio to the single workspace's
(target <= 1.5 x) and to the sequential run's, beside the engine's fixed cost per stack: the fleet's time for a
customer with no numbers (selecting the stack, reading and writing its config, an ``up`` of an empty program).
Each time is the fleet's own (its ``--json`` summary), without the interpreter's start.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # HostileEmulator counts request rates

from hostile_emulator import HostileEmulator
from pulumi_bird.emulator import BirdEmulator, seeded_number
from pulumi_cli import ENGINE_ENV, REPO, Pulumi

FLEET = REPO / "examples" / "fleet"
# A whole fleet run; 8 x 33 resources on a loaded 2-core machine take well under this.
RUN_TIMEOUT = 1800.0


def customers(emu: BirdEmulator, count: int, numbers: int) -> Dict[str, Any]:
    return {"customers": [
        {"name": f"c{index}", "workspaceId": workspace, "webhookUrl": f"https://hooks.c{index}.example/bird",
         "numbers": [seeded_number(index, n) for n in range(numbers)]}
        for index, workspace in enumerate(emu.workspace_ids[:count], start=1)]}


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of the finished children (the fleet and what it waited for), and of this
    process (the emulator's threads)."""
    children, own = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime, own.ru_utime + own.ru_stime


def run_fleet(work: Path, name: str, workspaces: int, numbers: int, workers: int, provision: float) -> Dict[str, Any]:
    """One fleet ``up`` on a fresh emulator and backend: the fleet's summary, plus the emulator's 429 count."""
    directory = work / name
    with HostileEmulator(provision_seconds=provision, rate_limits=True, workspaces=max(workspaces, 1),
                      numbers_per_workspace=numbers) as emu:
        cli = Pulumi(directory)
        (directory / "customers.json").write_text(json.dumps(customers(emu, workspaces, numbers)))
        env = dict(cli.env, BIRD_ACCESS_KEY=emu.access_key, BIRD_API_URL=emu.url,
                   BIRD_ORGANIZATION_ID=emu.organization_id)
        summary = directory / "summary.json"
        command = [sys.executable, str(FLEET), str(directory / "customers.json"), "--workers", str(workers),
                   "--parallel", str(numbers + 1), "--progress-seconds", "0", "--work-dir", str(directory / "fleet"),
                   "--backend-url", cli.env["PULUMI_BACKEND_URL"], "--pulumi-home", cli.env["PULUMI_HOME"],
                   "--pulumi-root", str(cli.bin), "--json", str(summary)]
        before = cpu_seconds()
        done = subprocess.run(command, env=env, text=True, capture_output=True, timeout=RUN_TIMEOUT, check=False)
        used = cpu_seconds()
        if done.returncode != 0:
            raise RuntimeError(f"the fleet failed ({name}):\n{done.stdout}\n{done.stderr}")
        result: Dict[str, Any] = json.loads(summary.read_text())
        result["429s"] = sum(emu.rate_stats(ws).too_many_requests for ws in emu.workspace_ids)
        # The fleet's process and everything it ran (CLIs, provider hosts), and the emulator's share of ours.
        result["cpu"], result["emulator cpu"] = used[0] - before[0], used[1] - before[1]
    return result


def bench_fleet(row: Callable[..., None], workspaces: int = 8, numbers: int = 32, provision: float = 2.0) -> None:
    if not os.environ.get(ENGINE_ENV):
        row("the fleet", f"not run: {ENGINE_ENV} unset (make bench builds it)", "run", "run", False)
        return
    work = Path(tempfile.mkdtemp(prefix="pulumi-bird-fleet-bench-"))
    try:
        empty = run_fleet(work, "empty", 1, 0, 1, provision)
        overhead = empty["seconds"]
        single = run_fleet(work, "single", 1, numbers, 1, provision)
        fleet = run_fleet(work, "fleet", workspaces, numbers, workspaces, provision)
        sequential = run_fleet(work, "sequential", workspaces, numbers, 1, provision)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor = provision + numbers / 50
    per_stack: List[float] = [s["seconds"] for s in fleet["stacks"]]
    ratio = fleet["seconds"] / single["seconds"]
    row(f"fleet of {workspaces} workspaces x {numbers} SmsChannels + a webhook (active after {provision:g}s, Bird's "
        f"limits per workspace), {workspaces} stacks in parallel",
        f"{fleet['seconds']:.1f}s = {ratio:.2f} x one workspace alone ({single['seconds']:.1f}s), "
        f"{fleet['seconds'] / sequential['seconds']:.2f} x one after another ({sequential['seconds']:.1f}s); "
        f"stacks {min(per_stack):.1f}-{max(per_stack):.1f}s each in the fleet; the engine's fixed cost per stack "
        f"{overhead:.1f}s; one workspace's floor {floor:.2f}s",
        "<= 1.5 x one workspace", "1.00 x one workspace", ratio <= 1.5)
    throttled = fleet["429s"] + sequential["429s"] + single["429s"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cpu_floor = (fleet["cpu"] + fleet["emulator cpu"]) / cores
    row(f"CPU of the fleet of {workspaces} ({cores} cores here)",
        f"{fleet['cpu']:.1f} CPU-s for the fleet and what it ran ({fleet['cpu'] / workspaces:.2f} per stack; one "
        f"workspace alone {single['cpu']:.2f}, an empty stack {empty['cpu']:.2f}), the emulator "
        f"{fleet['emulator cpu']:.1f}; all of it on {cores} cores takes >= {cpu_floor:.1f}s, so the fleet's "
        f"{fleet['seconds']:.1f}s = {fleet['seconds'] / max(cpu_floor, single['seconds']):.2f} x "
        f"max(that, one workspace alone)", "informative", f"fleet <= 1.5 x one workspace needs >= "
        f"{(fleet['cpu'] + fleet['emulator cpu']) / (1.5 * single['seconds']):.1f} free cores", True)
    row(f"429s in the fleet runs ({workspaces} workspaces, each its own budget)", f"{throttled} x 429", "0 x 429",
        "0 x 429", throttled == 0)


def _print_row(figure: str, measured: str, target: str, ideal: str, ok: bool) -> None:
    print(f"  {'ok ' if ok else 'MISS'} {figure}: {measured} (target {target}; ideal {ideal})", flush=True)


if __name__ == "__main__":
    bench_fleet(_print_row)
