"""What the fleet shows while it works, and the table at the end.

Each stack has a state (queued, selecting, configuring, previewing, updating, destroying, then ok, failed or
absent), the changes the engine reported so far (from its event stream) and its time. A line is printed whenever a
stack changes state, and every ``interval`` seconds for each stack still running.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, TextIO

from pulumi.automation import EngineEvent

# The engine's step ops, as the fleet counts them (a replacement is several steps of one resource).
_OPS = {"create": "create", "update": "update", "delete": "delete", "replace": "replace",
        "create-replacement": "replace", "same": "same", "read": "read", "refresh": "refresh"}
FINAL_STATES = ("ok", "failed", "absent")


@dataclass
class StackStatus:
    """One stack's progress and outcome."""

    customer: str
    stack: str
    state: str = "queued"
    started: Optional[float] = None
    finished: Optional[float] = None
    changes: Dict[str, int] = field(default_factory=dict)
    channels: Dict[str, str] = field(default_factory=dict)
    error: Optional[str] = None
    errors_seen: List[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def changes_text(self) -> str:
        changed = {op: n for op, n in sorted(self.changes.items()) if op != "same" and n}
        if not changed:
            return "no changes" if self.changes or self.state == "ok" else "-"
        return ", ".join(f"{op} {n}" for op, n in changed.items())

    def as_json(self) -> Dict[str, Any]:
        return {"customer": self.customer, "stack": self.stack, "state": self.state, "seconds": round(self.seconds, 2),
                "changes": dict(self.changes), "channels": dict(self.channels), "error": self.error}


class Progress:
    """The stacks' statuses, printed as they change (thread-safe: every stack runs on a worker thread)."""

    def __init__(self, statuses: List[StackStatus], interval: float, out: TextIO = sys.stdout) -> None:
        self.statuses = statuses
        self.interval = interval
        self.out = out
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="fleet-progress", daemon=True)

    def __enter__(self) -> "Progress":
        if self.interval > 0:
            self._ticker.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join()

    def set_state(self, status: StackStatus, state: str) -> None:
        with self._lock:
            if status.started is None:
                status.started = time.monotonic()
            status.state = state
            if state in FINAL_STATES:
                status.finished = time.monotonic()
            self._print(status)

    def on_event(self, status: StackStatus) -> Any:
        """An ``on_event`` callback of the Automation API that counts ``status``'s steps and keeps its errors."""

        def handle(event: EngineEvent) -> None:
            with self._lock:
                if event.res_outputs_event is not None:
                    op = _OPS.get(op_name(event.res_outputs_event.metadata.op), "")
                    if op and not event.res_outputs_event.metadata.type.startswith("pulumi:"):
                        status.changes[op] = status.changes.get(op, 0) + 1
                elif event.summary_event is not None:
                    status.changes = count_ops(event.summary_event.resource_changes)
                elif event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
                    status.errors_seen.append(event.diagnostic_event.message)

        return handle

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                for status in self.statuses:
                    if status.started is not None and status.state not in FINAL_STATES:
                        self._print(status)

    def _print(self, status: StackStatus) -> None:
        detail = f"  {status.error}" if status.error else ""
        self.out.write(f"{status.stack:<28} {status.state:<12} {status.seconds:7.1f}s  {status.changes_text()}"
                       f"{detail}\n")
        self.out.flush()


def op_name(op: Any) -> str:
    """An engine op (an OpType, or its text in a summary) as text: ``create``, ``same``, ..."""
    return str(op.value) if isinstance(op, Enum) else str(op)


def count_ops(changes: Mapping[Any, int]) -> Dict[str, int]:
    """A summary's resource changes by op, without the stack itself's ``same`` counted apart."""
    counted: Dict[str, int] = {}
    for op, count in changes.items():
        name = _OPS.get(op_name(op), op_name(op))
        counted[name] = counted.get(name, 0) + count
    return counted


def failure_reason(status: StackStatus, exc: BaseException) -> str:
    """One line: the engine's first error that says more than "update failed", else the exception's first line."""
    generic = ("update failed", "preview failed", "destroy failed", "refresh failed")
    for message in status.errors_seen:
        line = " ".join(message.split())
        if line and not line.lower().startswith(generic):
            return _one_line(line)
    return _one_line(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_table(statuses: List[StackStatus], action: str, seconds: float, out: TextIO = sys.stdout) -> None:
    """The table of stacks, their channel ids and failures."""
    out.write(f"\n{'stack':<28} {'state':<8} {'time':>8}  changes\n")
    for status in statuses:
        out.write(f"{status.stack:<28} {status.state:<8} {status.seconds:7.1f}s  {status.changes_text()}\n")
        for number, channel_id in sorted(status.channels.items()):
            out.write(f"    {number:<18} channel {channel_id}\n")
        if status.error:
            out.write(f"    failed: {status.error}\n")
    failed = [s.stack for s in statuses if s.state == "failed"]
    ok = sum(1 for s in statuses if s.state in ("ok", "absent"))
    out.write(f"\n{action} of {len(statuses)} stacks in {seconds:.1f}s: {ok} ok, {len(failed)} failed"
              + (f" ({', '.join(failed)}); run the same command again to retry them (converged stacks are no-ops)"
                 if failed else "") + "\n")
    out.flush()


def summary_json(statuses: List[StackStatus], action: str, seconds: float, workers: int) -> Mapping[str, Any]:
    return {"action": action, "seconds": round(seconds, 2), "workers": workers,
            "stacks": [s.as_json() for s in statuses]}
