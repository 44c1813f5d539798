"""Run the Bird emulator from a shell: prints its base URL on stdout once listening, stops on SIGINT/SIGTERM.

    python -m pulumi_bird.emulator --port 0 --access-key KEY --provision-seconds 0.5 --release-seconds 3 --rate-limits
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import signal
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from pulumi_bird.emulator import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_NUMBERS,
    DEFAULT_ORGANIZATION_ID,
    DEFAULT_WORKSPACE_ID,
    BirdEmulator,
    seeded_number,
)
from pulumi_bird.emulator.ratelimits import BIRD_RATE_LIMITS, RateLimits

NUMBERS = "\n".join(f"  {number}  {number_id}  {','.join(caps)}" for number, number_id, caps in DEFAULT_NUMBERS)
EPILOG = f"""\
Unless told otherwise the emulator accepts:
  access key       {DEFAULT_ACCESS_KEY}   (header: Authorization: AccessKey <key>)
  workspace id     {DEFAULT_WORKSPACE_ID}
  organization id  {DEFAULT_ORGANIZATION_ID}

Phone numbers of that workspace (--number adds more, --no-default-numbers drops these):
{NUMBERS}

A fleet of workspaces (one stack per customer workspace, examples/fleet): see --workspaces and
--numbers-per-workspace; their ids and numbers are printed on stderr.

Stack config for a program run against it:
  bird:apiUrl <the printed URL>, bird:accessKey, bird:workspaceId, bird:organizationId as above.
"""


def _in_range(kind: type, low: float, high: float = math.inf) -> Callable[[str], Any]:
    """An argparse type: a finite ``kind`` from ``low`` to ``high``; argparse names the option when it refuses."""

    def parse(text: str) -> Any:
        value = kind(text)
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be {low:g} to {high:g}" if high < math.inf else
                                             f"must be {'a finite number of ' if kind is float else ''}at least {low:g}")
        return value

    parse.__name__ = kind.__name__  # argparse's "invalid int value" for text that is no number
    return parse


def _number(text: str) -> Tuple[str, Tuple[str, ...]]:
    number, _, caps = text.partition("=")
    return number.strip(), tuple(c.strip() for c in (caps or "sms,voice").split(",") if c.strip())


# The command line: (flags, argparse keywords). Each option's dest is the BirdEmulator keyword of the same name, but
# for those that main() reads itself (CLI_ONLY); BirdEmulator checks the values.
OPTIONS: Tuple[Tuple[str, Dict[str, Any]], ...] = (
    ("--port", dict(type=_in_range(int, 0, 65535), default=0, help="port to listen on; 0 picks a free one (default)")),
    ("--host", dict(default="127.0.0.1", help="address to bind (default 127.0.0.1)")),
    ("--allow-remote", dict(action="store_true", help="allow a --host that is not loopback")),
    ("--access-key", dict(default=DEFAULT_ACCESS_KEY,
                          help=f"the key clients must present (default {DEFAULT_ACCESS_KEY})")),
    ("--provision-seconds", dict(type=_in_range(float, 0), default=1.0,
                                 help="seconds until a new channel is active (default 1)")),
    ("--provision-reads", dict(type=_in_range(int, 0), metavar="N", help="instead of a time: a new channel answers "
                               "'provisioning' to its first N status reads, then is active")),
    ("--release-seconds", dict(type=_in_range(float, 0), default=0.0, help="seconds Bird deprovisions a deleted "
                               "connector: its status says deprovisioning and its phone number stays taken (a new "
                               "connector on it gets 409) until then, then it is 404 (default 0)")),
    ("--workspace-id", dict(default=DEFAULT_WORKSPACE_ID,
                            help=f"the workspace the emulator knows (default {DEFAULT_WORKSPACE_ID})")),
    ("--organization-id", dict(default=DEFAULT_ORGANIZATION_ID,
                               help=f"that workspace's organization (default {DEFAULT_ORGANIZATION_ID})")),
    ("--number", dict(action="append", default=[], type=_number, metavar="E164[=CAPS]", help="add a phone number to "
                      "the workspace, e.g. +3197010520099=sms,voice (default capabilities: sms,voice)")),
    ("--no-default-numbers", dict(action="store_true", help="start with no phone numbers")),
    ("--workspaces", dict(type=_in_range(int, 1), default=1, metavar="N", help="N workspaces in the organization, each "
                          "with its own numbers and rate budget: --workspace-id, then "
                          "5f0e4c9e-2b7a-4d1e-9c3b-000000000002 and so on (default 1)")),
    ("--numbers-per-workspace", dict(type=_in_range(int, 0), default=0, metavar="K", help="K SMS and voice numbers in "
                                     "each workspace: +3197010WWWNNNN for workspace WWW (from 001) and NNNN from 0000 "
                                     "(default 0)")),
)
RATE_LIMIT_OPTIONS: Tuple[Tuple[str, Dict[str, Any]], ...] = (
    ("--rate-limits", dict(action="store_true", help=f"enforce Bird's limits per workspace: {BIRD_RATE_LIMITS.get} "
                           f"GET and {BIRD_RATE_LIMITS.post} POST per second")),
    ("--get-rate", dict(type=_in_range(int, 1), metavar="N",
                        help=f"GETs per second per workspace (implies --rate-limits; default {BIRD_RATE_LIMITS.get})")),
    ("--post-rate", dict(type=_in_range(int, 1), metavar="N", help="POSTs per second per workspace (implies --rate-limits; "
                         f"default {BIRD_RATE_LIMITS.post})")),
)
CLI_ONLY = ("number", "no_default_numbers", "rate_limits", "get_rate", "post_rate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pulumi_bird.emulator", description=(__doc__ or "").splitlines()[0],
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    limits = parser.add_argument_group(
        "rate limits", "off unless one of these is given; beyond a limit a workspace gets 429 with Retry-After"
    )
    for group, options in ((parser, OPTIONS), (limits, RATE_LIMIT_OPTIONS)):
        for flag, keywords in options:
            group.add_argument(flag, **keywords)
    return parser


def rate_limits_from(args: argparse.Namespace) -> Optional[RateLimits]:
    """The limits the command line asks for (None: not enforced)."""
    given = {name: value for name, value in (("get", args.get_rate), ("post", args.post_rate)) if value is not None}
    return RateLimits(**given) if args.rate_limits or given else None  # Bird's limit for a method not given


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def wait_for_stop_signal() -> None:
    """Return once SIGINT or SIGTERM arrives (on systems without sigwait: once Ctrl-C is pressed)."""
    if hasattr(signal, "sigwait"):
        signal.sigwait(STOP_SIGNALS)
        return
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


def main(argv: Optional[List[str]] = None) -> int:
    """Serve until SIGINT or SIGTERM; exit code 0 on a clean stop, 2 on bad arguments."""
    parser = build_parser()
    args = parser.parse_args(argv)
    options = {name: value for name, value in vars(args).items() if name not in CLI_ONLY}
    try:
        emulator = BirdEmulator(**options, rate_limits=rate_limits_from(args),
                                numbers=() if args.no_default_numbers else None)
    except ValueError as exc:  # what the options' types cannot judge alone (a host that is not loopback)
        parser.error(str(exc))
    try:
        added = [emulator.add_number(number, caps) for number, caps in args.number]
    except ValueError as exc:
        parser.error(f"--number: {exc}")
    # Block the stop signals before any thread starts, so that threads inherit the mask and only
    # wait_for_stop_signal() sees them: no handler runs at an awkward moment.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    announce = functools.partial(print, file=sys.stderr, flush=True)
    with emulator:
        print(emulator.url, flush=True)
        for index, workspace_id in enumerate(emulator.workspace_ids, start=1):
            announce(f"workspace {workspace_id} organization {emulator.organization_id}")
            if args.numbers_per_workspace:
                announce(f"numbers {seeded_number(index, 0)} to {seeded_number(index, args.numbers_per_workspace - 1)} "
                         f"in workspace {workspace_id} (sms,voice)")
        for number in added:
            announce(f"number {number['number']} id {number['id']} {','.join(number['capabilities'])}")
        wait_for_stop_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
