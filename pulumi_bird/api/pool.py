"""One keep-alive connection pool per process and API URL, shared by every client, operation and thread.

Each provider call builds its own :class:`~pulumi_bird.api.client.BirdClient`; they all send through the one
``requests.Session`` that :func:`pooled_session` keeps for their API URL. Against ``https://api.bird.com``
every new connection is a TCP and TLS handshake, and during a refresh it would fall inside a slot of the GET
budget; reused, a refresh of N objects opens about as many connections as it has requests in flight.

The pool hands out the connection it got back last (urllib3 keeps them LIFO) and opens one more only when all
it holds are busy: it grows to the number of requests in flight at once, which is what it is sized to.
:data:`MAX_KEPT_CONNECTIONS` only bounds how many stay open afterwards. A connection the server closed while
it sat idle is noticed before reuse and replaced; one that breaks while a request is on it fails that request
as a connection error, which the client retries as it always has (GET and DELETE again; a POST goes through
the exactly-once recovery, :mod:`pulumi_bird.api.create`).

The session also paces POSTs to Bird's 500 per second per workspace (:class:`~pulumi_bird.api.pacing.PostBudget`),
as the client paces GETs to 50: the pool is where every request of the process to one API passes, so one
budget per API URL and workspace holds for the whole process. A 429 on a POST slows that workspace's POSTs as
a 429 on a GET slows its GETs. Nothing secret is kept here: the access key travels in each request's headers.

The environment may not add to or redirect that header: the session does not trust it (no ``.netrc``, whose
``default`` entry would replace the AccessKey header with Basic credentials), except for what an https request
needs from it: the proxy of ``HTTPS_PROXY``/``NO_PROXY``, which sees only a CONNECT (the key travels inside the
TLS tunnel), and the CA bundle of ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``. A plain http request (only ever to
a loopback emulator) goes through no proxy: the proxy would read the key in clear.
"""

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

# Connections a pool keeps open once its requests are answered. Requests in flight are bounded by the provider
# host's workers (pulumi_bird.provider.workers HOST_MAX_WORKERS, 2048): a pool this size never has to close a
# connection it just used (urllib3 would, with a warning, past its size). Unused, the size costs nothing.
MAX_KEPT_CONNECTIONS = 2048
# The workspace a request goes to, from its path (connectors and webhook subscriptions both carry it).
_WORKSPACE_IN_PATH = re.compile(r"/workspaces/([^/?#]+)")

# API URLs whose sessions are kept; past this the least recently used one is closed. A provider talks to one
# (Bird, or an emulator in tests); a process that talks to many short-lived servers (a test suite, each
# emulator on a port of its own) must not keep the sockets of every one of them open.
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
    """A session shared by every client of one API URL: a client's ``close()`` leaves it open for the others
    (:meth:`close_for_good` closes its connections). It keeps no cookies, so no answer can leave state in it
    that another operation would send."""

    def __init__(self, posts: PostBudget) -> None:
        super().__init__()
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.mount("https://", PooledAdapter(posts))
        self.mount("http://", PooledAdapter(posts))
        self.trust_env = False  # see the module's docstring: https proxies and CA bundles are added back below

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
