"""An independent Bird double for tests that drive the provider host (a separate process, which
``responses`` cannot reach): a small, stateful HTTP server on loopback, written apart from
``pulumi_bird.emulator`` so that the two cannot share a misreading of the API.

Tests script it: ``double.script(method, path_regex, status, body, times, headers, commit)`` answers the
next matching requests as told; ``double.provision_after(n)`` makes a channel active after ``n`` status
reads; ``double.fail_number(number_id, message)`` makes a channel end in error; ``double.chaos(...)`` answers
a random share of requests with 429 or 503 (not processed) and commits a share of POSTs before answering 502.
Lists honour ``reverse=true`` (newest first). Every request is recorded.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

KEY = "double-access-key-0123456789"
WS = "11111111-2222-4333-8444-555555555555"
ORG = "99999999-8888-4777-8666-555555555555"


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    body: Any
    status: int = 0
    at: float = 0.0
    authorization: str = ""


@dataclass
class Script:
    method: str
    pattern: re.Pattern
    status: int
    body: Any
    times: int
    headers: dict = field(default_factory=dict)
    commit: bool = False
    skip: int = 0  # matching requests let through before the script applies
    then: Optional[Any] = None  # called with the committed object, for a commit script
    when: Optional[Any] = None  # the script applies only while this returns True (called with the lock held)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class _Server(ThreadingHTTPServer):
    # The stdlib's listen backlog of 5 drops connections when many clients connect at once, and a dropped
    # SYN is retried a second later: that would look like a concurrency limit in the provider.
    request_queue_size = 128


class BirdDouble:
    """A loopback Bird: connectors and webhook subscriptions, with scripted faults."""

    def __init__(self, *, reads_until_active: int = 1, seconds_until_active: float = 0.0) -> None:
        self.reads_until_active = reads_until_active
        self.seconds_until_active = seconds_until_active
        # No channel is active until this many connectors have been created in all: a test that needs creates to
        # be in flight together holds them on a count of POSTs, not on time.
        self.active_after_creates = 0
        self.connectors: dict[str, dict] = {}
        self.status_reads: dict[str, int] = {}
        self.created_at: dict[str, float] = {}
        self.failing_numbers: dict[str, str] = {}
        self.subscriptions: dict[str, dict] = {}
        self.signing_keys: dict[str, str] = {}
        self.seen: list[Seen] = []
        self.scripts: list[Script] = []
        self.chaos_rates: Optional[tuple[float, float, float]] = None
        self.rng = random.Random(0)
        self.lock = threading.RLock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- control --

    def __enter__(self) -> "BirdDouble":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def script(self, method: str, path: str, status: int, body: Any = None, *, times: int = 1,
               headers: Optional[dict] = None, commit: bool = False, skip: int = 0,
               then: Optional[Callable[[dict], None]] = None, when: Optional[Callable[[], bool]] = None) -> None:
        """Answer the next ``times`` matching requests (after letting ``skip`` through) with ``status``; with
        ``commit`` the request is carried out first, and ``then`` sees what it made."""
        with self.lock:
            self.scripts.append(Script(method, re.compile(path), status, body, times, headers or {}, commit, skip, then,
                                       when))

    def chaos(self, *, rate_429: float = 0.0, rate_503: float = 0.0, post_commit_502: float = 0.0,
              seed: int = 0) -> None:
        """Random faults from now on: a share of all requests answered 429 or 503 before anything happens, and a
        share of the POSTs that get through committed and then answered 502. ``chaos()`` with no rates ends it."""
        with self.lock:
            rates = (rate_429, rate_503, post_commit_502)
            self.chaos_rates = rates if any(rates) else None
            self.rng = random.Random(seed)

    def _chaos(self, method: str) -> tuple[Optional[int], bool]:
        """(status to answer before processing, whether to commit and answer 502)."""
        with self.lock:
            if self.chaos_rates is None:
                return None, False
            rate_429, rate_503, post_502 = self.chaos_rates
            roll = self.rng.random()
            if roll < rate_429:
                return 429, False
            if roll < rate_429 + rate_503:
                return 503, False
            return None, method == "POST" and self.rng.random() < post_502

    def fail_number(self, number_id: str, message: str) -> None:
        self.failing_numbers[number_id] = message

    def calls(self, method: Optional[str] = None, contains: str = "") -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if (method is None or s.method == method) and contains in s.path]

    def connectors_for(self, number_id: str) -> list[dict]:
        with self.lock:
            return [c for c in self.connectors.values() if (c.get("arguments") or {}).get("phoneNumberId") == number_id]

    def config(self, **extra: str) -> dict[str, str]:
        """Stack config pointing a provider host at this double."""
        return {"bird:accessKey": KEY, "bird:apiUrl": self.url, "bird:workspaceId": WS, "bird:organizationId": ORG, **extra}

    # -- behaviour --

    def _scripted(self, method: str, path: str) -> Optional[Script]:
        with self.lock:
            for s in self.scripts:
                if s.times > 0 and s.method == method and s.pattern.search(path):
                    if s.when is not None and not s.when():
                        continue
                    if s.skip > 0:
                        s.skip -= 1
                        return None
                    s.times -= 1
                    return s
        return None

    def handle(self, method: str, path: str, query: dict, body: Any, auth: str) -> tuple[int, Any, dict]:
        if auth != f"AccessKey {KEY}":
            return 401, {"code": "UNAUTHORIZED", "message": "access key missing or wrong"}, {}
        script = self._scripted(method, path)
        if script and not script.commit:
            return script.status, script.body or {"code": "SCRIPTED", "message": "scripted failure"}, script.headers
        before, commit_502 = self._chaos(method) if script is None else (None, False)
        if before == 429:
            return 429, {"code": "RATE_LIMITED", "message": "too many requests"}, {"Retry-After": "0"}
        if before == 503:
            return 503, {"code": "UNAVAILABLE", "message": "service unavailable"}, {}
        status, payload = self._route(method, path, query, body)
        if script:  # committed, then answered with an error
            if script.then is not None and status < 300:
                with self.lock:
                    script.then(payload)
            return script.status, script.body or {"code": "SCRIPTED", "message": "scripted failure"}, script.headers
        if commit_502 and status < 300:
            return 502, {"code": "BAD_GATEWAY", "message": "upstream timed out"}, {}
        return status, payload, {}

    def _route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        m = re.fullmatch(r"/workspaces/([^/]+)/connectors(?:/([^/]+))?(/status)?", path)
        if m:
            if m.group(1) != WS:
                return 404, {"code": "NOT_FOUND", "message": "workspace not found"}
            return self._connectors(method, m.group(2), bool(m.group(3)), query, body)
        m = re.fullmatch(r"/organizations/([^/]+)/workspaces/([^/]+)/webhook-subscriptions(?:/([^/]+))?", path)
        if m:
            if (m.group(1), m.group(2)) != (ORG, WS):
                return 404, {"code": "NOT_FOUND", "message": "organization or workspace not found"}
            return self._subscriptions(method, m.group(3), query, body)
        return 404, {"code": "NOT_FOUND", "message": "no such route"}

    def _page(self, items: list, query: dict) -> dict:
        if query.get("reverse") == "true":  # items are kept oldest first
            items = items[::-1]
        limit = int(query.get("limit", 10))
        start = int(query.get("pageToken", 0) or 0)
        page = {"results": items[start:start + limit]}
        if start + limit < len(items):
            page["nextPageToken"] = str(start + limit)
        return page

    def _active(self, cid: str) -> bool:
        return (self.status_reads.get(cid, 0) >= self.reads_until_active
                and len(self.created_at) >= self.active_after_creates
                and time.monotonic() - self.created_at[cid] >= self.seconds_until_active)

    def _connectors(self, method: str, cid: Optional[str], status: bool, query: dict, body: Any) -> tuple[int, Any]:
        with self.lock:
            if cid is None and method == "POST":
                number = (body.get("arguments") or {}).get("phoneNumberId")
                for c in self.connectors.values():
                    if number and (c.get("arguments") or {}).get("phoneNumberId") == number:
                        return 409, {"code": "CONFLICT", "message": "connector already exists"}
                cid = str(uuid.uuid4())
                self.connectors[cid] = {
                    "id": cid, "workspaceId": WS, "name": body["name"], "region": "eu-west-1",
                    "arguments": body.get("arguments"), "channel": None,
                    "connectorTemplateRef": body.get("connectorTemplateRef"), "createdAt": _now(), "updatedAt": _now(),
                }
                self.created_at[cid] = time.monotonic()
                return 201, self.connectors[cid]
            if cid is None and method == "GET":
                ref = query.get("templateRef")
                items = [c for c in self.connectors.values() if not ref or c["connectorTemplateRef"] == ref]
                return 200, self._page(items, query)
            if cid not in self.connectors:
                return 404, {"code": "NOT_FOUND", "message": "connector not found"}
            connector = self.connectors[cid]
            if method == "DELETE":
                del self.connectors[cid]
                return 204, None
            number = (connector.get("arguments") or {}).get("phoneNumberId")
            if status:
                self.status_reads[cid] = self.status_reads.get(cid, 0) + 1
                if not self._active(cid):
                    return 200, {"channel": {"status": "pending", "stage": "provisioning", "channelId": None}}
                if number in self.failing_numbers:
                    return 200, {"channel": {"status": "error", "stage": "inactive", "errorMessage": self.failing_numbers[number]}}
                channel_id = connector.setdefault("_channel", str(uuid.uuid5(uuid.NAMESPACE_URL, cid)))
                connector["channel"] = {"channelId": channel_id, "platform": "sms"}
                return 200, {"channel": {"status": "ok", "stage": "active", "channelId": channel_id, "platformName": "sms"}}
            return 200, {k: v for k, v in connector.items() if not k.startswith("_")}

    def _subscriptions(self, method: str, sid: Optional[str], query: dict, body: Any) -> tuple[int, Any]:
        with self.lock:
            if sid is None and method == "POST":
                sid = str(uuid.uuid4())
                sub = {"id": sid, "organizationId": ORG, "workspaceId": WS, "status": "active",
                       "createdAt": _now(), "updatedAt": _now()}
                sub.update({k: v for k, v in body.items() if k != "signingKey"})
                if "signingKey" in body:
                    self.signing_keys[sid] = body["signingKey"]
                self.subscriptions[sid] = sub
                return 201, sub
            if sid is None and method == "GET":
                return 200, self._page(list(self.subscriptions.values()), query)
            if sid not in self.subscriptions:
                return 404, {"code": "NOT_FOUND", "message": "subscription not found"}
            if method == "DELETE":
                del self.subscriptions[sid]
                return 204, None
            if method == "PATCH":
                changes = dict(body)
                if "signingKey" in changes:
                    self.signing_keys[sid] = changes.pop("signingKey")
                self.subscriptions[sid].update(changes, updatedAt=_now())
            return 200, self.subscriptions[sid]

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                seen = Seen(self.command, parts.path, query, body, at=time.monotonic(),
                            authorization=self.headers.get("Authorization", ""))
                status, payload, headers = double.handle(self.command, parts.path, query, body, seen.authorization)
                seen.status = status
                with double.lock:
                    double.seen.append(seen)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        return Handler
