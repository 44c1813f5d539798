"""A fleet of Bird workspaces on Pulumi's Automation API: one stack per customer (``customer-<name>``), deployed
side by side by a bounded pool of workers.

    python examples/fleet customers.json [--workers N] [--preview | --destroy] [--only NAME ...]
        [--backend-url URL] [--pulumi-home DIR] [--pulumi-root DIR] [--work-dir DIR] [--json FILE]

Bird settings come from the environment (BIRD_ACCESS_KEY, BIRD_API_URL, BIRD_ORGANIZATION_ID); each stack's
workspace comes from the customers file (its ``bird:workspaceId``). Exit code 0 when every stack succeeded, 1 when
one failed (the table names it; run the same command again to retry: ``up`` of a converged stack changes
nothing), 2 for a bad command line or customers file.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from customers import Customer, CustomersError, load_customers
from program import SIGNING_KEY, customer_program
from progress import Progress, StackStatus, count_ops, failure_reason, print_table, summary_json
from pulumi import automation as auto

PROJECT = "bird-fleet"
SIGNING_KEY_CONFIG = f"{PROJECT}:{SIGNING_KEY}"
# Passed to every Pulumi command: what the Bird provider reads when a stack's config does not set it.
BIRD_ENV = ("BIRD_ACCESS_KEY", "BIRD_API_URL", "BIRD_ORGANIZATION_ID", "BIRD_GET_RATE_LIMIT", "PULUMI_BIRD_LOG")


@dataclass(frozen=True)
class FleetOptions:
    """How the fleet runs: the action, the pool, where Pulumi keeps state and config, and which CLI runs."""

    action: str  # "up", "preview" or "destroy"
    workers: int
    backend_url: str
    work_dir: Path
    pulumi_home: Optional[str] = None
    pulumi_root: Optional[str] = None
    secrets_provider: Optional[str] = None
    parallel: Optional[int] = None
    progress_seconds: float = 5.0


def pulumi_command(root: Optional[str]) -> auto.PulumiCommand:
    """The CLI: ``ROOT/bin/pulumi`` for ``--pulumi-root ROOT`` (the bin directory itself is accepted too), else
    ``pulumi`` on PATH. Pulumi looks for its bundled plugins (the Python dynamic provider host) beside it."""
    if root is None:
        return auto.PulumiCommand()
    path = Path(root).expanduser().resolve()
    if (path / "pulumi").is_file() and not (path / "bin" / "pulumi").is_file():
        path = path.parent
    return auto.PulumiCommand(root=str(path))


def workspace_options(customer: Customer, options: FleetOptions, command: auto.PulumiCommand) -> auto.LocalWorkspaceOptions:
    """One workspace (directory) per stack, so the stacks' project and config files never race each other."""
    work_dir = options.work_dir / customer.stack_name
    work_dir.mkdir(parents=True, exist_ok=True)
    python_bin = str(Path(sys.executable).parent)
    env: Dict[str, str] = {name: os.environ[name] for name in BIRD_ENV if name in os.environ}
    env.update({
        # The dynamic provider host runs on this Python, which has pulumi_bird installed.
        "PATH": os.pathsep.join([python_bin, os.environ.get("PATH", "")]),
        "PULUMI_PYTHON_CMD": sys.executable,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    })
    project = auto.ProjectSettings(name=PROJECT, runtime="python", backend=auto.ProjectBackend(url=options.backend_url))
    return auto.LocalWorkspaceOptions(work_dir=str(work_dir), pulumi_home=options.pulumi_home, env_vars=env,
                                      program=customer_program(customer), project_settings=project,
                                      secrets_provider=options.secrets_provider, pulumi_command=command)


def open_stack(customer: Customer, opts: auto.LocalWorkspaceOptions) -> tuple[auto.Stack, Dict[str, Any], bool]:
    """The customer's stack (created when new), its config as its file here holds it (secrets still encrypted),
    and whether it was made elsewhere: it exists in the backend but this machine has no config file for it (another
    machine of a CI matrix).

    Every Pulumi command that decrypts (config values, outputs with secrets) first derives the passphrase's key,
    about 0.3 CPU-seconds each, so the config is read from the file, which needs no command at all."""
    workspace = auto.LocalWorkspace(**vars(opts))
    try:
        settings = workspace.stack_settings(customer.stack_name).config or {}
    except FileNotFoundError:
        settings = {}
    if SIGNING_KEY_CONFIG in settings:  # configured here before: the stack exists, unless the backend changed
        try:
            return auto.Stack.select(customer.stack_name, workspace), settings, False
        except auto.StackNotFoundError:
            return auto.Stack.create(customer.stack_name, workspace), settings, False
    try:
        return auto.Stack.create(customer.stack_name, workspace), {}, False
    except auto.StackAlreadyExistsError:
        return auto.Stack.select(customer.stack_name, workspace), {}, True


def configure(stack: auto.Stack, customer: Customer, settings: Dict[str, Any], made_elsewhere: bool) -> None:
    """The stack's workspace and its signing key: the key in its config file, else (a stack made elsewhere) the one
    its last update kept in its outputs, else a new one. Written only when something changed."""
    wanted = {"bird:workspaceId": auto.ConfigValue(customer.workspace_id)}
    if SIGNING_KEY_CONFIG not in settings:
        kept = stack.outputs().get(SIGNING_KEY) if made_elsewhere else None
        key = str(kept.value) if kept is not None and kept.value else secrets.token_urlsafe(32)
        wanted[SIGNING_KEY_CONFIG] = auto.ConfigValue(key, secret=True)
    elif settings.get("bird:workspaceId") == customer.workspace_id:
        return
    stack.set_all_config(wanted)


def run_stack(customer: Customer, options: FleetOptions, command: auto.PulumiCommand, progress: Progress,
              status: StackStatus) -> None:
    """Preview, update or destroy one customer's stack; every failure ends in ``status``, never in the pool."""
    try:
        progress.set_state(status, "selecting")
        opts = workspace_options(customer, options, command)
        if options.action == "destroy":
            _destroy(customer, opts, progress, status, options.parallel)
            return
        stack, settings, made_elsewhere = open_stack(customer, opts)
        progress.set_state(status, "configuring")
        configure(stack, customer, settings, made_elsewhere)
        on_event = progress.on_event(status)
        if options.action == "preview":
            progress.set_state(status, "previewing")
            preview = stack.preview(parallel=options.parallel, color="never", on_event=on_event)
            status.changes = count_ops(preview.change_summary)
        else:
            progress.set_state(status, "updating")
            # show_secrets=False: the summary needs no decryption (the outputs are read with secrets regardless).
            result = stack.up(parallel=options.parallel, color="never", on_event=on_event, show_secrets=False)
            status.changes = count_ops(result.summary.resource_changes or {})
            channels = result.outputs.get("channels")
            status.channels = dict(channels.value) if channels is not None else {}
        progress.set_state(status, "ok")
    except Exception as exc:  # one customer's failure is reported, and the others go on
        status.error = failure_reason(status, exc)
        progress.set_state(status, "failed")


def _destroy(customer: Customer, opts: auto.LocalWorkspaceOptions, progress: Progress, status: StackStatus,
             parallel: Optional[int]) -> None:
    workspace = auto.LocalWorkspace(**vars(opts))
    try:
        stack = auto.Stack.select(customer.stack_name, workspace)
    except auto.StackNotFoundError:
        progress.set_state(status, "absent")
        return
    progress.set_state(status, "destroying")
    result = stack.destroy(parallel=parallel, color="never", on_event=progress.on_event(status), show_secrets=False)
    status.changes = count_ops(result.summary.resource_changes or {})
    workspace.remove_stack(customer.stack_name)
    progress.set_state(status, "ok")


def run_fleet(customers: Sequence[Customer], options: FleetOptions, command: auto.PulumiCommand) -> List[StackStatus]:
    """Every customer's stack, ``options.workers`` at a time; returns their statuses in the file's order."""
    statuses = [StackStatus(c.name, c.stack_name) for c in customers]
    with Progress(statuses, options.progress_seconds) as progress, ThreadPoolExecutor(options.workers) as pool:
        for customer, status in zip(customers, statuses):
            pool.submit(run_stack, customer, options, command, progress, status)
    return statuses


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python examples/fleet", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("customers", type=Path, help="the customers file (JSON; see customers.example.json)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--preview", action="store_const", dest="action", const="preview", default="up",
                        help="preview every stack, change nothing")
    action.add_argument("--destroy", action="store_const", dest="action", const="destroy",
                        help="destroy every stack's resources and remove the stack")
    parser.add_argument("--workers", type=int, default=4, help="stacks deployed at once (default 4)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="only this customer (repeatable)")
    parser.add_argument("--work-dir", type=Path, default=Path(".fleet"),
                        help="where each stack's project and config files live, and the default backend (.fleet)")
    parser.add_argument("--backend-url", help="Pulumi backend (default file://WORK_DIR/state); share it across "
                        "machines (s3://..., azblob://..., gs://..., https://api.pulumi.com)")
    parser.add_argument("--pulumi-home", help="PULUMI_HOME of the CLI (plugins, credentials)")
    parser.add_argument("--pulumi-root", help="the CLI to run: ROOT/bin/pulumi, or the bin directory itself "
                        "(default: pulumi on PATH)")
    parser.add_argument("--secrets-provider", help="for new stacks: passphrase (default), awskms://..., ...")
    parser.add_argument("--parallel", type=int, help="the engine's --parallel within each stack")
    parser.add_argument("--progress-seconds", type=float, default=5.0,
                        help="print running stacks this often (default 5; 0: only on changes of state)")
    parser.add_argument("--json", type=Path, help="also write the outcome as JSON to this file")
    return parser


def options_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> FleetOptions:
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    work_dir = args.work_dir.expanduser().resolve()
    backend_url = args.backend_url
    if backend_url is None:
        (work_dir / "state").mkdir(parents=True, exist_ok=True)
        backend_url = (work_dir / "state").as_uri()
    passphrase = os.environ.get("PULUMI_CONFIG_PASSPHRASE") is not None or "PULUMI_CONFIG_PASSPHRASE_FILE" in os.environ
    if not (passphrase or args.secrets_provider or backend_url.startswith("https://")):
        parser.error("set PULUMI_CONFIG_PASSPHRASE (it encrypts each stack's signing key in the "
                     f"{backend_url.split(':', 1)[0]} backend), or pass --secrets-provider")
    return FleetOptions(args.action, args.workers, backend_url, work_dir / "stacks", args.pulumi_home,
                        args.pulumi_root, args.secrets_provider, args.parallel, args.progress_seconds)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        customers = load_customers(args.customers)
    except CustomersError as exc:
        parser.error(str(exc))
    unknown = sorted(set(args.only) - {c.name for c in customers})
    if unknown:
        parser.error(f"--only {', '.join(unknown)}: no such customer in {args.customers}")
    chosen = [c for c in customers if not args.only or c.name in args.only]
    options = options_from(args, parser)
    try:
        command = pulumi_command(options.pulumi_root)
    except (OSError, subprocess.CalledProcessError, auto.errors.InvalidVersionError) as exc:
        parser.error(f"cannot run the Pulumi CLI ({exc}): install it (https://www.pulumi.com/docs/install/) or pass "
                     "--pulumi-root")
    print(f"{options.action} of {len(chosen)} stacks, {options.workers} at a time, backend {options.backend_url}",
          flush=True)
    started = time.monotonic()
    statuses = run_fleet(chosen, options, command)
    seconds = time.monotonic() - started
    print_table(statuses, options.action, seconds)
    if args.json:
        args.json.write_text(json.dumps(summary_json(statuses, options.action, seconds, options.workers), indent=2))
    return 1 if any(s.state == "failed" for s in statuses) else 0
