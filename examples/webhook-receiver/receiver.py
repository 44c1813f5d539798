"""A small receiver for Bird webhook deliveries that refuses anything not signed with your key.

    BIRD_SIGNING_KEY=... RECEIVER_PUBLIC_URL=https://hooks.example.com/bird python receiver.py --port 8080

RECEIVER_PUBLIC_URL is the subscription's url, which Bird posts to and signs; behind a proxy or tunnel
it differs from the address this process listens on. Deliveries are answered 204 when genuine, 401
otherwise. Each signed delivery is handled once: a replay of one already handled is acknowledged (204) but
not handled again, whatever messagebird-request-id it carries (that header is not signed), and a delivery
older than the guard's window (5 minutes) is refused. A delivery whose handling fails is answered 500 and
forgotten, so that Bird's retry is handled.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

from pulumi_bird import ReplayError, ReplayGuard, ReplayGuardFull, SignatureError

# The largest delivery read (Bird's events are a few kilobytes).
MAX_BODY_BYTES = 1024 * 1024


def make_handler(signing_key: str, public_url: str, handle: Callable[[dict[str, Any]], None],
                 guard: Optional[ReplayGuard] = None) -> type[BaseHTTPRequestHandler]:
    once = guard or ReplayGuard()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            declared = self.headers.get("Content-Length") or "0"
            if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
                self._answer(413, "too large, or no length")
                return
            length = int(declared)
            body = self.rfile.read(length)
            headers = dict(self.headers)
            try:
                # Bird posts to the subscription's url exactly, and signs that URL.
                once.verify(signing_key, headers=headers, url=public_url, body=body)
            except ReplayError:
                self._answer(204)  # handled already: acknowledged, so that Bird stops retrying
                return
            except ReplayGuardFull:
                self._answer(503, "busy")  # Bird retries later
                return
            except SignatureError as exc:
                self._answer(401, str(exc))
                return
            try:
                handle(json.loads(body or b"{}"))
            except Exception:
                once.forget(headers)  # not handled: Bird's retry must be
                self._answer(500, "not handled")
                return
            self._answer(204)

        def _answer(self, status: int, reason: str = "") -> None:
            data = reason.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # no request lines with headers in logs
            pass

    return Receiver


def serve(port: int, signing_key: str, public_url: str, handle: Optional[Callable[[dict[str, Any]], None]] = None,
          host: str = "127.0.0.1", guard: Optional[ReplayGuard] = None) -> ThreadingHTTPServer:
    """A server (not yet serving) that verifies deliveries and hands each genuine event once to ``handle``
    (``guard``: a ReplayGuard of another window, default 5 minutes)."""
    handler = make_handler(signing_key, public_url, handle or (lambda event: print(json.dumps(event), flush=True)),
                           guard)
    return ThreadingHTTPServer((host, port), handler)


def main() -> int:
    parser = argparse.ArgumentParser(description="Verify and print Bird webhook deliveries.")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    key, url = os.environ.get("BIRD_SIGNING_KEY"), os.environ.get("RECEIVER_PUBLIC_URL")
    if not key or not url:
        print("set BIRD_SIGNING_KEY and RECEIVER_PUBLIC_URL", file=sys.stderr)
        return 2
    server = serve(args.port, key, url)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
