"""What a message may quote of a value the user wrote that may carry a credential. The SDK's dynamic provider
host strips secret markers from inputs (a webhook URL in ``Output.secret`` arrives as plain text, as do connector
arguments), so a URL's query, fragment and userinfo, and connector argument values but the plain ids and choices,
are redacted from whatever Bird echoes, and messages name keys only."""

from __future__ import annotations

from typing import Any, Mapping, Optional
from urllib.parse import parse_qsl, urlsplit, urlunsplit

# Connector arguments Bird documents as plain ids or choices (sms-messagebird:1, voice-messagebird:1): their
# values name what a message is about (the phone number a 409 is for) and carry no credential.
PUBLIC_ARGUMENTS = frozenset({"phoneNumberId", "channelMessageType", "useCaseId"})


def url_secrets(url: Any) -> list[str]:
    """The parts of ``url`` that may carry a credential: query string and each of its values, fragment,
    userinfo and password (empty when it is not a string or has none)."""
    if not isinstance(url, str):
        return []
    try:
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        password = parts.password
    except ValueError:
        return [url]  # not readable as a URL: the whole of it is the secret
    values = [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    return [p for p in (parts.query, *values, parts.fragment, userinfo, password) if p]


def public_url(url: str) -> str:
    """``url`` without userinfo, query string or fragment (each replaced by a marker when it had one)."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "(a URL that cannot be read; not shown)"
    return urlunsplit((parts.scheme, ("[userinfo]@" if "@" in parts.netloc else "") + host, parts.path,
                       "[query not shown]" if parts.query else "", "[fragment not shown]" if parts.fragment else ""))


def quotable(value: Any) -> str:
    """``value`` as a message may show it: a mapping by its keys only, a URL without its credential parts,
    a list item by item; anything else as ``repr`` (cut at 80 characters)."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r:.40}: ..." for key in sorted(map(str, value))) + "} (values not shown)"
    if isinstance(value, str) and "://" in value:
        return repr(public_url(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(quotable(item) for item in value[:10]) + "]"
    return f"{value!r:.80}"


# Bird's own API host: it serves its routes (/workspaces/{id}/connectors, /organizations/{id}/...) at the root.
BIRD_API_HOST = "api.bird.com"
# The first segments of the routes this package calls: a base URL that already ends in one doubles it.
ROUTE_HEADS = ("workspaces", "organizations")


def api_url_path_problem(url: str) -> Optional[str]:
    """Why ``url`` cannot be the base of Bird's routes, judged offline (None when it may be): Bird's own host
    with a path (Bird serves no prefix such as /v1), or a path that ends in a route of its own."""
    try:
        parts = urlsplit(url)
        host, path = (parts.hostname or "").lower(), parts.path.rstrip("/")
    except ValueError:
        return None  # the URL check reports it
    last = path.rsplit("/", 1)[-1].lower()
    if host == BIRD_API_HOST and path:
        why = f"{BIRD_API_HOST} serves its API at the root, not under {path!r:.40}"
    elif last in ROUTE_HEADS:
        why = f"its path ends in /{last}, which the client adds itself"
    else:
        return None
    return (f"bird:apiUrl / BIRD_API_URL: {why}. The client calls paths such as /workspaces/{{workspaceId}}/connectors "
            f"and /organizations/{{organizationId}}/workspaces/{{workspaceId}}/webhook-subscriptions under it: use "
            f"https://{BIRD_API_HOST}, or a proxy's base URL that forwards those paths")
