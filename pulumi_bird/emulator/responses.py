"""HTTP in and out for the Bird emulator: request parsing and shape checks, auth, JSON and Error bodies (the OpenAPI
``Error`` schema: ``code`` and ``message``, both at least five characters, optional ``details``); see :func:`handle`.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import json
import math
import re
from http import HTTPStatus
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Protocol, Sequence, Type

from pulumi_bird.api.values import FILTER_KEYS, WEBHOOK_SERVICES, WEBHOOK_STATUSES
from pulumi_bird.emulator.backend import (
    DEFAULT_PAGE_SIZE,
    MAX_NUMBERS_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MAX_PAGE_TOKEN_LENGTH,
    ApiError,
    BadRequest,
    BirdBackend,
    NumberRecord,
    PageRequest,
    Unprocessable,
    invalid_field,
)

# The key the emulator accepts unless told otherwise; obviously fake so that it is never mistaken for a real one.
DEFAULT_ACCESS_KEY = "bird-emulator-access-key"

# The OpenAPI `Url` pattern for webhook destinations.
WEBHOOK_URL_PATTERN = re.compile(r"^https://([a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}(/[^\s]*)?$")

_JSON_TYPE_NAMES = {str: "a string", dict: "an object", list: "an array", bool: "a boolean"}


class Headers(Protocol):
    """Request headers, looked up without regard to case (``http.client.HTTPMessage`` is one)."""

    def get(self, name: str, failobj: Any = None) -> Any: ...


@dataclasses.dataclass(frozen=True)
class ApiRequest:
    """One HTTP request as the handlers see it (path without the query string)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Headers
    body: bytes = b""


@dataclasses.dataclass
class ApiResponse:
    """One HTTP answer: status, a JSON-able body (None for no body) and extra headers.

    ``committed`` marks an error answer to a request that was carried out all the same (an injected
    ``commit=True`` fault), so the request log keeps its body.
    """

    status: int
    body: Any = None
    headers: Dict[str, str] = dataclasses.field(default_factory=dict)
    committed: bool = False
    # How the answer's bytes (status line, headers and body) go out: None writes them at once; a callable splits
    # them into pieces the server writes and flushes one by one (an answer hook's pacing, see server.AnswerHook).
    pieces: Optional[Callable[[bytes], Iterable[bytes]]] = None


# Reason phrases pinned for the statuses whose phrase differs between Pythons (3.13 took RFC 9110's names for 413,
# 414, 416 and 422), so the codes do not shift with the running Python.
PINNED_PHRASES = {413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable",
                  422: "Unprocessable Entity"}
# The Error schema wants codes of at least five characters.
MIN_CODE_LENGTH = 5


def error_code(status: int) -> str:
    """The Error ``code`` for a status: its reason phrase (:data:`PINNED_PHRASES`, else Python's) in CamelCase."""
    try:
        phrase = PINNED_PHRASES.get(int(status)) or HTTPStatus(status).phrase
    except ValueError:
        phrase = f"Http Error {int(status)}"
    code = "".join(word.capitalize() for word in re.split(r"[^A-Za-z0-9]+", phrase))
    return code if len(code) >= MIN_CODE_LENGTH else code + "Error"


def error_response(
    status: int, message: str, details: Optional[Dict[str, Any]] = None, headers: Optional[Dict[str, str]] = None
) -> ApiResponse:
    """An Error body for ``status``."""
    body: Dict[str, Any] = {"code": error_code(status), "message": message}
    if details:
        body["details"] = details
    return ApiResponse(int(status), body, dict(headers or {}))


def is_authorized(request: ApiRequest, access_key: str) -> bool:
    """Whether the request carries ``Authorization: AccessKey <access_key>`` (compared in constant time)."""
    scheme, _, presented = (request.headers.get("Authorization") or "").partition(" ")
    presented_key = presented.strip().encode("utf-8", "replace")
    return scheme == "AccessKey" and hmac.compare_digest(presented_key, access_key.encode("utf-8"))


# --- body shape checks -------------------------------------------------------------------------------------

Check = Callable[[Any], Optional[str]]


@dataclasses.dataclass(frozen=True)
class Field:
    """One allowed body field: its JSON type, whether null is allowed, and a check of its value (none by default)."""

    kind: type
    nullable: bool = False
    check: Check = lambda value: None


# The deepest nesting of arrays and objects a request body may have. Bird's bodies need 4 levels
# (eventFilters items; securityArguments schemes); 32 leaves room for free-form connector arguments while
# keeping every copy and rendering of a stored value far from Python's recursion limit.
MAX_JSON_DEPTH = 32


def _finite_float(text: str) -> float:
    """The float; 422 for NaN, Infinity, -Infinity or one too large for a double: not JSON (RFC 8259, section 6)."""
    value = float(text)
    if not math.isfinite(value):
        raise Unprocessable("the request body holds a number JSON does not allow (NaN or infinite)")
    return value


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_json(raw: bytes, error: Type[ApiError]) -> Any:
    """A request body as a JSON value.

    ``error`` (400 or 422, per endpoint) for bytes that are no UTF-8 JSON and for nesting deeper than
    :data:`MAX_JSON_DEPTH`; always 422 for NaN or infinite numbers, which Python would otherwise accept
    and later echo as invalid JSON.
    """
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_finite_float, parse_float=_finite_float)
    except RecursionError:
        raise error(f"the request body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError):
        raise error("the request body is not valid JSON") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise error(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def parse_json_object(raw: bytes, error: Type[ApiError]) -> Dict[str, Any]:
    """The body as a JSON object (see :func:`parse_json`); ``error`` for another JSON type."""
    value = parse_json(raw, error)
    if not isinstance(value, dict):
        raise error("the request body must be a JSON object")
    return value


def check_fields(body: Dict[str, Any], fields: Mapping[str, Field], required: Sequence[str] = ()) -> None:
    """422 for unknown fields, missing required ones, wrong JSON types and failed value checks."""
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise Unprocessable(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    for name in required:
        if name not in body:
            raise invalid_field(name, "is required")
    for name, value in body.items():
        field = fields[name]
        if value is None:
            problem = None if field.nullable else "must not be null"
        else:
            problem = field.check(value) if isinstance(value, field.kind) else f"must be {_JSON_TYPE_NAMES[field.kind]}"
        if problem is not None:
            raise invalid_field(name, problem)


def _non_empty(value: str) -> Optional[str]:
    return None if value.strip() else "must not be empty"


def _one_of(choices: Sequence[str]) -> Check:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


def _security_arguments(value: Dict[str, Any]) -> Optional[str]:
    good = all(isinstance(s, dict) and all(isinstance(v, str) for v in s.values()) for s in value.values())
    return None if good else "must map each security scheme to an object of strings"


def _webhook_url(value: str) -> Optional[str]:
    return None if WEBHOOK_URL_PATTERN.match(value) else "must be an https URL with a public host name"


def _event_filters(value: list) -> Optional[str]:
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"key", "value"}:
            return f"item {index} must be an object with exactly key and value"
        if not isinstance(item["key"], str) or not isinstance(item["value"], str):
            return f"item {index} must have a string key and a string value"
        if item["key"] not in FILTER_KEYS:
            return f"item {index} has an unknown key {item['key']!r}"
    return None


CONNECTOR_FIELDS = {
    "name": Field(str, check=_non_empty),
    "connectorTemplateRef": Field(str),
    "arguments": Field(dict, nullable=True),
    "securityArguments": Field(dict, nullable=True, check=_security_arguments),
    "channelConversationalStatusEnabled": Field(bool, nullable=True),
    "invitationToken": Field(str, nullable=True),
}

WEBHOOK_CREATE_FIELDS = {
    "service": Field(str, check=_one_of(WEBHOOK_SERVICES)),
    "event": Field(str, check=_non_empty),
    "eventFilters": Field(list, nullable=True, check=_event_filters),
    "template": Field(str),
    "url": Field(str, check=_webhook_url),
    "signingKey": Field(str),
}

# PATCH may also clear the optional fields with null.
WEBHOOK_UPDATE_FIELDS = {
    "url": Field(str, check=_webhook_url),
    "signingKey": Field(str, nullable=True),
    "status": Field(str, check=_one_of(WEBHOOK_STATUSES)),
    "eventFilters": Field(list, nullable=True, check=_event_filters),
    "template": Field(str, nullable=True),
}


# --- query parameters --------------------------------------------------------------------------------------


def parse_bool(query: Mapping[str, str], name: str) -> bool:
    """A boolean query parameter (true/false/1/0; absent: false); 422 otherwise."""
    lowered = query.get(name, "false").strip().lower()
    if lowered not in ("true", "1", "false", "0"):
        raise invalid_field(name, "must be true or false")
    return lowered in ("true", "1")


def number_filter(query: Mapping[str, str]) -> Callable[[NumberRecord], bool]:
    """The numbers listing's filters, each applied when given: type, country, capabilities (comma-separated, all
    required), the digits a number starts with (``prefix``) and digits it contains (``searchTerm``), ``+`` ignored."""
    kind, country = query.get("type"), (query.get("country") or "").upper()
    capabilities = [c.strip().lower() for c in (query.get("capabilities") or "").split(",") if c.strip()]
    prefix, term = (query.get("prefix") or "").lstrip("+"), (query.get("searchTerm") or "").lstrip("+")

    def admits(record: NumberRecord) -> bool:
        digits = record.number.lstrip("+")
        return ((not kind or record.type == kind) and (not country or record.country.upper() == country)
                and all(c in record.capabilities for c in capabilities) and digits.startswith(prefix) and term in digits)

    return admits


def parse_page(query: Mapping[str, str], with_reverse: bool = True) -> PageRequest:
    """pageToken (decoded by the list), reverse (without ``with_reverse`` ignored, as an API ignores a parameter it
    does not define) and limit (0 to 100; 0 and absence: the default page size) as one :class:`PageRequest`."""
    token = query.get("pageToken") or None
    if token is not None and len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise invalid_field("pageToken", f"must have at most {MAX_PAGE_TOKEN_LENGTH} characters")
    reverse = parse_bool(query, "reverse") if with_reverse else False
    try:
        limit = int(query.get("limit", "").strip() or 0)
    except ValueError:
        raise invalid_field("limit", "must be an integer") from None
    if not 0 <= limit <= MAX_PAGE_SIZE:
        raise invalid_field("limit", f"must be between 0 and {MAX_PAGE_SIZE}")
    # The OpenAPI allows 0; a page of nothing with a token to more would loop a client forever.
    return PageRequest(limit=limit or DEFAULT_PAGE_SIZE, page_token=token, reverse=reverse)


# --- handlers: the endpoints that read a body or a query (the others are the backend's method of the same name) ---


def create_connector(backend: BirdBackend, request: ApiRequest, workspace_id: str) -> Dict[str, Any]:
    """POST /workspaces/{ws}/connectors -> 201 Connector."""
    backend.require_workspace(workspace_id)
    body = parse_json_object(request.body, Unprocessable)
    check_fields(body, CONNECTOR_FIELDS, required=("name",))
    return backend.create_connector(workspace_id, body)


def list_connectors(backend: BirdBackend, request: ApiRequest, workspace_id: str) -> Dict[str, Any]:
    """GET /workspaces/{ws}/connectors -> {results, nextPageToken?}."""
    parse_bool(request.query, "includeInternal")  # accepted and validated; nothing is internal here
    return backend.list_connectors(workspace_id, parse_page(request.query), request.query.get("templateRef") or None)


def list_numbers(backend: BirdBackend, request: ApiRequest, workspace_id: str, long_code: bool = False) -> Any:
    """GET /workspaces/{ws}/numbers -> {results, nextPageToken?} (Bird's Numbers API; limit 1-99);
    ``long_code``: GET .../numbers-long-code, the same numbers in Bird's other documented item shape."""
    parsed = parse_page(request.query)
    if request.query.get("limit") and parsed.limit > MAX_NUMBERS_PAGE_SIZE:
        raise invalid_field("limit", f"must be between 1 and {MAX_NUMBERS_PAGE_SIZE}")
    return backend.list_numbers(workspace_id, parsed, long_code=long_code, admits=number_filter(request.query))


def create_webhook(backend: BirdBackend, request: ApiRequest, organization_id: str, workspace_id: str) -> Any:
    """POST .../webhook-subscriptions -> 201 WebhookSubscription (400 unreadable, 422 invalid)."""
    backend.require_organization_workspace(organization_id, workspace_id)
    body = parse_json_object(request.body, BadRequest)
    check_fields(body, WEBHOOK_CREATE_FIELDS, required=("service", "event", "url"))
    return backend.create_webhook(organization_id, workspace_id, body)


def list_webhooks(backend: BirdBackend, request: ApiRequest, organization_id: str, workspace_id: str) -> Any:
    """GET .../webhook-subscriptions -> {results, nextPageToken?}, oldest first. Bird documents no ``reverse`` for
    this list (unlike the connector list), so it is ignored: a client must not count on newest-first pages."""
    return backend.list_webhooks(organization_id, workspace_id, parse_page(request.query, with_reverse=False))


def update_webhook(
    backend: BirdBackend, request: ApiRequest, organization_id: str, workspace_id: str, subscription_id: str
) -> Dict[str, Any]:
    """PATCH .../webhook-subscriptions/{id} -> 200 WebhookSubscription: at least one field, none immutable."""
    backend.get_webhook(organization_id, workspace_id, subscription_id)
    body = parse_json_object(request.body, BadRequest)
    if not body:
        raise Unprocessable("the update must set at least one field")
    immutable = [name for name in WEBHOOK_CREATE_FIELDS if name in body and name not in WEBHOOK_UPDATE_FIELDS]
    if immutable:  # a subscription is created with it and never PATCHed: a change is a new subscription
        raise invalid_field(immutable[0], "cannot be changed; create a new subscription instead")
    check_fields(body, WEBHOOK_UPDATE_FIELDS)
    return backend.update_webhook(organization_id, workspace_id, subscription_id, body)


# Each by its route's handler name (urls.ROUTES).
HANDLERS: Dict[str, Callable[..., Any]] = {
    **{f.__name__: f for f in (create_connector, list_connectors, list_numbers, create_webhook, list_webhooks,
                               update_webhook)},
    "list_numbers_long_code": functools.partial(list_numbers, long_code=True),
}
# A handler's result is the body; the status of a success follows the method.
SUCCESS_STATUS = {"POST": HTTPStatus.CREATED, "DELETE": HTTPStatus.NO_CONTENT}


def handle(backend: BirdBackend, request: ApiRequest, handler: str, params: Dict[str, str]) -> ApiResponse:
    """Answer a routed request: the :data:`HANDLERS` entry, else the backend method named ``handler``, called with the
    path parameters; an :class:`ApiError` becomes its Error body."""
    try:
        own = HANDLERS.get(handler)
        body = own(backend, request, **params) if own else getattr(backend, handler)(**params)
    except ApiError as error:
        return error_response(error.status, str(error), error.details)
    return ApiResponse(int(SUCCESS_STATUS.get(request.method, HTTPStatus.OK)), body)
