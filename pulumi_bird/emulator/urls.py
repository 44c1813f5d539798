"""The emulator's route table: (method, path pattern, handler name; see ``responses.handle``). A pattern matches the
whole path (re caches the compiled patterns) and its named groups become keyword arguments of the handler. A path
that matches a pattern under another method gets a 405 (with an Allow header); a path that matches none gets a 404.
"""

from __future__ import annotations

import re
from typing import Dict, List, NamedTuple, Tuple

_ID = r"[^/]+"
_CONNECTORS = rf"/workspaces/(?P<workspace_id>{_ID})/connectors"
_CONNECTOR = rf"{_CONNECTORS}/(?P<connector_id>{_ID})"
_WEBHOOKS = rf"/organizations/(?P<organization_id>{_ID})/workspaces/(?P<workspace_id>{_ID})/webhook-subscriptions"
_WEBHOOK = rf"{_WEBHOOKS}/(?P<subscription_id>{_ID})"

ROUTES: Tuple[Tuple[str, str, str], ...] = (
    ("POST", _CONNECTORS, "create_connector"),
    ("GET", _CONNECTORS, "list_connectors"),
    ("GET", _CONNECTOR, "get_connector"),
    ("DELETE", _CONNECTOR, "delete_connector"),
    ("GET", rf"{_CONNECTOR}/status", "get_connector_status"),
    ("GET", rf"/workspaces/(?P<workspace_id>{_ID})/numbers", "list_numbers"),
    ("GET", rf"/workspaces/(?P<workspace_id>{_ID})/numbers-long-code", "list_numbers_long_code"),
    ("POST", _WEBHOOKS, "create_webhook"),
    ("GET", _WEBHOOKS, "list_webhooks"),
    ("GET", _WEBHOOK, "get_webhook"),
    ("PATCH", _WEBHOOK, "update_webhook"),
    ("DELETE", _WEBHOOK, "delete_webhook"),
)


class Route(NamedTuple):
    """A resolved route: the handler's name and the path parameters."""

    handler: str
    params: Dict[str, str]


def resolve(method: str, path: str) -> Route:
    """The route for ``method`` and ``path``; else LookupError whose one arg lists the methods the path has (none: an
    unknown path)."""
    allowed: List[str] = []
    for route_method, pattern, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if match and route_method == method:
            return Route(handler, match.groupdict())
        if match and route_method not in allowed:
            allowed.append(route_method)
    raise LookupError(allowed)
