"""One keep-alive session per process and API URL, shared by every client and thread, pacing POSTs per workspace
(docs/performance.md, "One connection pool"). It reads from the environment only the https proxy and CA bundle
(docs/installation-configuration.md, "Proxies"): no .netrc, and no proxy for plain http. Nothing secret is kept."""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies

from .pacing import PostBudget
from .retry import parse_retry_after
from .transport import DeadlineAdapter

# Connections kept open: as many as requests in flight can be (the provider host's workers, HOST_MAX_WORKERS), so
# the pool never closes one it just used (urllib3 would, with a warning). Unused, the size costs nothing.
MAX_KEPT_CONNECTIONS = 2048
# The workspace a request goes to, from its path (connectors and webhook subscriptions both carry it).
_WORKSPACE_IN_PATH = re.compile(r"/workspaces/([^/?#]+)")

# API URLs whose sessions are kept (past it the least recently used is closed): a provider talks to one, but a
# test suite talks to many short-lived emulators and must not keep all their sockets open.
MAX_POOLED_APIS = 8

_lock = threading.Lock()
_sessions: OrderedDict[str, PooledSession] = OrderedDict()


class PooledAdapter(DeadlineAdapter):
    """The transport of a pooled session: urllib3's keep-alive pool, with POSTs paced per workspace and
    connections the deadline watchdog can cut (:mod:`.transport`)."""

    def __init__(self, posts: PostBudget) -> None:
        super().__init__(pool_connections=4, pool_maxsize=MAX_KEPT_CONNECTIONS, pool_block=False)
        self.posts = posts

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        found = _WORKSPACE_IN_PATH.search(request.path_url) if request.method == "POST" else None
        if found is None:
            return super().send(request, *args, **kwargs)
        pacer = self.posts.for_workspace(found.group(1))
        slot = pacer.acquire()
        try:
            response = super().send(request, *args, **kwargs)
        finally:
            slot.done()  # Bird has counted it by now: the window of this POST starts here at the latest
        if response.status_code == 429:
            pacer.slow_down(parse_retry_after(response.headers.get("Retry-After")))
        return response


class PooledSession(requests.Session):
    """A session shared by every client of one API URL: ``close()`` leaves it open (:meth:`close_for_good` does
    not). It keeps no cookies, so no answer can leave state in it that another operation would send."""

    def __init__(self, posts: PostBudget) -> None:
        super().__init__()
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.mount("https://", PooledAdapter(posts))
        self.mount("http://", PooledAdapter(posts))
        self.trust_env = False  # no .netrc (it would replace the key); https proxies and CA bundles are added back below

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if urlsplit(url).scheme != "https":
            settings["proxies"] = {}  # the key would cross a proxy in clear
            return settings
        settings["proxies"] = {**get_environ_proxies(url), **settings["proxies"]}  # honours NO_PROXY
        if settings["verify"] is True:
            settings["verify"] = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        return settings

    def close(self) -> None:
        """Kept open: the pool outlives each client that uses it."""

    def close_for_good(self) -> None:
        super().close()


def pooled_session(api_url: str) -> requests.Session:
    """The process's one session (keep-alive pool and POST budget) for ``api_url``."""
    key = api_url.rstrip("/")
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = PooledSession(PostBudget())
            while len(_sessions) > MAX_POOLED_APIS:
                _sessions.popitem(last=False)[1].close_for_good()  # requests on its way still finish
        _sessions.move_to_end(key)
        return session
