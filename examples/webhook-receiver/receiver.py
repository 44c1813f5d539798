"""A small receiver for Bird webhook deliveries that refuses anything not signed with your key.

    BIRD_SIGNING_KEY=... RECEIVER_PUBLIC_URL=https://hooks.example.com/bird python receiver.py --port 8080

RECEIVER_PUBLIC_URL is the subscription's url, which Bird posts to and signs; behind a proxy or tunnel
it differs from the address this process listens on. Deliveries are answered 204 when genuine,
401 otherwise; a delivery id seen before is acknowledged but not handled again (Bird retries).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

from pulumi_bird import REQUEST_ID_HEADER, SignatureError, verify_signature

# Remember this many delivery ids to drop Bird's retries of deliveries already handled.
SEEN_IDS = 10_000


def make_handler(signing_key: str, public_url: str, handle: Callable[[dict[str, Any]], None]) -> type[BaseHTTPRequestHandler]:
    seen: "OrderedDict[str, None]" = OrderedDict()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                # Bird posts to the subscription's url exactly, and signs that URL.
                verify_signature(signing_key, headers=dict(self.headers), url=public_url, body=body)
            except SignatureError as exc:
                self._answer(401, str(exc))
                return
            delivery = self.headers.get(REQUEST_ID_HEADER) or ""
            if delivery and delivery in seen:
                self._answer(204)
                return
            if delivery:
                seen[delivery] = None
                while len(seen) > SEEN_IDS:
                    seen.popitem(last=False)
            handle(json.loads(body or b"{}"))
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
          host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server (not yet serving) that verifies deliveries and hands genuine events to ``handle``."""
    handler = make_handler(signing_key, public_url, handle or (lambda event: print(json.dumps(event), flush=True)))
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
