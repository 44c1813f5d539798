"""Bird's API as this project relies on it: the structure of every JSON body we send or receive, as facts.

This is the contract the emulator is held to (``openapi_schema.py`` validates against it) and the shape
the providers must send. It lives in the repository so that a fresh clone tests everything; where Bird's
published OpenAPI is at hand, ``test_emulator_contract.py`` compares the two so they cannot drift.

Each schema is JSON Schema (draft 2020-12) written out by hand; a ``$ref`` points into :data:`SCHEMAS`
(``#/$defs/<name>``). ``null`` is spelled out where Bird allows it. A node marked :data:`OPAQUE` is a
part of a body we never read or write: only its JSON type is stated.

Where the facts come from (see :data:`OPERATIONS`): ``openapi`` for what Bird's OpenAPI documents (the
connector endpoints and the creation of webhook subscriptions); ``docs`` for what only Bird's prose
documentation states (the rest of the webhook subscription endpoints).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Tuple

Schema = Dict[str, Any]

# Marks a node whose inner structure the project never relies on; only its type is part of the contract.
OPAQUE = {"$comment": "opaque"}


def ref(name: str) -> Schema:
    """A reference to another schema of :data:`SCHEMAS`."""
    return {"$ref": f"#/$defs/{name}"}


def or_null(schema: Schema) -> Schema:
    """``schema`` or JSON null."""
    if "type" not in schema or any(key in schema for key in ("$ref", "anyOf", "oneOf", "allOf")):
        return {"anyOf": [schema, {"type": "null"}]}
    widened = copy.deepcopy(schema)
    kinds = widened["type"] if isinstance(widened["type"], list) else [widened["type"]]
    widened["type"] = kinds + ["null"]
    if "enum" in widened:
        widened["enum"] = widened["enum"] + [None]
    return widened


def text(**facts: Any) -> Schema:
    """A JSON string with the given facts (format, pattern, enum, lengths)."""
    return {"type": "string", **facts}


UUID = text(format="uuid")
TIMESTAMP = text(format="date-time")

# Provisioning states of a channel (and of a connector's other parts), as ConnectorStatus reports them.
HEALTH = ["ok", "pending", "error", "unknown"]
STAGES = ["active", "inactive", "provisioning", "deprovisioning", "deprovisioned"]

# Webhook subscriptions.
WEBHOOK_SERVICES = ["channels", "numbers", "payments", "conversations", "templates"]
WEBHOOK_STATUSES = ["active", "inactive"]
FILTER_KEYS = [
    "channelId",
    "platformId",
    "channelStatus",
    "interactionType",
    "messageStatus",
    "status",
    "eventDestination",
    "navigatorId",
]
# An https URL whose host is a dotted domain name (no IP literal, no bare host, no port).
WEBHOOK_URL_PATTERN = r"^https://([a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}(/[^\s]*)?$"

# List endpoints: page size and page token.
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = 100
PAGE_TOKEN_MAX_LENGTH = 8000
# Error bodies: both texts have at least this many characters.
ERROR_TEXT_MIN_LENGTH = 5


def _error_body() -> Schema:
    return {
        "type": "object",
        "required": ["code", "message"],
        "additionalProperties": False,
        "properties": {
            "code": text(minLength=ERROR_TEXT_MIN_LENGTH),
            "message": text(minLength=ERROR_TEXT_MIN_LENGTH),
            "details": {"type": "object", "additionalProperties": True},
        },
    }


def _part_status(**extra: Schema) -> Schema:
    """The health of one part of a connector (its channel, its number) as ConnectorStatus gives it."""
    return or_null(
        {
            "type": "object",
            "properties": {
                **extra,
                "status": or_null(text(enum=HEALTH)),
                "stage": or_null(text(enum=STAGES)),
                "errorMessage": or_null(text()),
            },
        }
    )


def _filter_choice(keys: List[str], value: Schema) -> Schema:
    return {
        "additionalProperties": False,
        "properties": {"key": text(enum=keys), "value": value},
    }


def _filters_of(service: str, item: Schema) -> Schema:
    """What one service allows in ``eventFilters`` (the rule applied when ``service`` has that value)."""
    return {
        "type": "object",
        "properties": {
            "service": text(enum=[service]),
            "eventFilters": or_null({"type": "array", "items": item}),
        },
    }


def _any_key_item() -> Schema:
    return {
        "type": "object",
        "required": ["key", "value"],
        "additionalProperties": False,
        "properties": {"key": text(), "value": text()},
    }


def _choice_item(*choices: Schema) -> Schema:
    return {"type": "object", "required": ["key", "value"], "oneOf": list(choices)}


# Filters each service accepts (the OpenAPI's rules; bird-api.md gives the same lists in prose).
FILTER_RULES: Dict[str, Schema] = {
    "channels": _filters_of(
        "channels",
        _choice_item(
            _filter_choice(["channelId"], UUID),
            _filter_choice(["messageStatus", "interactionType", "channelStatus", "platformId", "status"], text()),
        ),
    ),
    "numbers": _filters_of("numbers", _any_key_item()),
    "payments": _filters_of("payments", _any_key_item()),
    "conversations": _filters_of("conversations", _choice_item(_filter_choice(["channelId"], UUID))),
    "templates": _filters_of("templates", _choice_item(_filter_choice(["platformId"], text()))),
}


def _by_service(rules: Dict[str, Schema]) -> List[Schema]:
    """Apply the rule of the service named in the body; a service without a rule is refused."""
    chosen = [
        {"if": {"properties": {"service": {"const": name}}, "required": ["service"]}, "then": rule}
        for name, rule in rules.items()
    ]
    return chosen + [{"anyOf": [{"properties": {"service": {"const": name}}} for name in rules]}]


SCHEMAS: Dict[str, Schema] = {
    # --- errors: the connector API calls its error body Error, the notifications API errorResponse ------
    "Error": _error_body(),
    "errorResponse": _error_body(),
    # --- connectors ----------------------------------------------------------------------------------
    "CreateConnectorReq": {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": text(),
            "connectorTemplateRef": text(),
            "arguments": {"type": ["object", "null"], "additionalProperties": True},
            "securityArguments": {
                "type": ["object", "null"],
                "additionalProperties": {"type": "object", "additionalProperties": text()},
            },
            "channelConversationalStatusEnabled": {"type": ["boolean", "null"]},
            "invitationToken": or_null(text()),
        },
    },
    "Connector": {
        "type": "object",
        "required": ["id", "name", "createdAt"],
        "additionalProperties": False,
        "properties": {
            "id": UUID,
            "workspaceId": UUID,
            "name": text(),
            "description": text(),
            "region": text(),
            "routingKey": or_null(text()),
            "arguments": {"type": ["object", "null"], "additionalProperties": True},
            "connectorTemplateRef": text(),
            "connectorTemplateSlug": text(),
            "channel": or_null(
                {
                    "type": "object",
                    "required": ["channelId", "platform"],
                    "additionalProperties": False,
                    "properties": {"channelId": UUID, "platform": text()},
                }
            ),
            "number": {
                "type": ["object", "null"],
                "required": ["numberId", "profileId"],
                "additionalProperties": False,
                "properties": {
                    "numberId": UUID,
                    "profileId": UUID,
                    "phoneNumber": text(),
                    "capabilities": text(),
                    "numberType": text(),
                    "endpointType": text(),
                    "country": text(),
                    "variables": {"type": "object"},
                    "profileAttachments": {"type": "array", **OPAQUE},
                },
            },
            "dataFetching": {"type": "object", **OPAQUE},
            "dataCapture": {"type": ["object", "null"], **OPAQUE},
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        },
    },
    "ConnectorPage": {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {"type": "array", "items": ref("Connector")},
            "nextPageToken": text(),
        },
    },
    # Only the channel and the number are read; the other parts of a status are not described here.
    "ConnectorStatus": {
        "type": "object",
        "properties": {
            "channel": _part_status(channelId=or_null(UUID), platformName=or_null(text())),
            "number": _part_status(numberId=or_null(UUID), profileId=or_null(UUID), phoneNumber=or_null(text())),
        },
    },
    # --- webhook subscriptions -----------------------------------------------------------------------
    "CreateWebhookSubscription": {
        "type": "object",
        "required": ["service", "event", "url"],
        "additionalProperties": False,
        "properties": {
            "service": text(enum=WEBHOOK_SERVICES),
            "event": text(),
            "url": text(pattern=WEBHOOK_URL_PATTERN),
            "signingKey": text(),
            "template": text(),
            "eventFilters": or_null({"type": "array", "items": ref("WebhookEventFilter")}),
        },
        "allOf": _by_service(FILTER_RULES),
    },
    "WebhookEventFilter": {
        "type": "object",
        "required": ["key", "value"],
        "additionalProperties": False,
        "properties": {"key": text(enum=FILTER_KEYS), "value": text()},
    },
    "WebhookSubscription": {
        "type": "object",
        "required": ["id", "organizationId", "workspaceId", "service", "event", "url", "status"],
        "additionalProperties": False,
        "properties": {
            "id": UUID,
            "organizationId": UUID,
            "workspaceId": UUID,
            "service": text(enum=WEBHOOK_SERVICES),
            "event": text(),
            "url": text(pattern=WEBHOOK_URL_PATTERN),
            "signingKey": text(),
            "template": text(),
            "eventFilters": {"type": "array", "items": ref("WebhookEventFilter")},
            "status": text(enum=WEBHOOK_STATUSES),
            "statusReason": text(),
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        },
    },
    # From the prose docs: a PATCH sets at least one of these; null clears the optional ones.
    "UpdateWebhookSubscription": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "url": text(pattern=WEBHOOK_URL_PATTERN),
            "signingKey": or_null(text()),
            "status": text(enum=WEBHOOK_STATUSES),
            "eventFilters": or_null({"type": "array", "items": ref("WebhookEventFilter")}),
            "template": or_null(text()),
        },
    },
    "WebhookSubscriptionPage": {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {"type": "array", "items": ref("WebhookSubscription")},
            "nextPageToken": text(),
        },
    },
}

CONNECTORS = "/workspaces/{workspaceId}/connectors"
CONNECTOR = "/workspaces/{workspaceId}/connectors/{connectorId}"
CONNECTOR_STATUS = "/workspaces/{workspaceId}/connectors/{connectorId}/status"
WEBHOOKS = "/organizations/{organizationId}/workspaces/{workspaceId}/webhook-subscriptions"
WEBHOOK = WEBHOOKS + "/{subscriptionId}"

# (method, path) -> where the facts come from, the request body, and the body of each status (None: no
# body). Statuses not listed are answered with the API's error body, which the OpenAPI leaves undocumented.
OPERATIONS: Dict[Tuple[str, str], Dict[str, Any]] = {
    ("POST", CONNECTORS): {
        "source": "openapi",
        "request": "CreateConnectorReq",
        "responses": {201: "Connector", 404: "Error", 409: "Error", 422: "Error"},
    },
    ("GET", CONNECTORS): {"source": "openapi", "responses": {200: "ConnectorPage", 404: "Error"}},
    ("GET", CONNECTOR): {"source": "openapi", "responses": {200: "Connector", 404: "Error"}},
    ("DELETE", CONNECTOR): {"source": "openapi", "responses": {204: None, 422: "Error"}},
    ("GET", CONNECTOR_STATUS): {"source": "openapi", "responses": {200: "ConnectorStatus", 404: "Error"}},
    ("POST", WEBHOOKS): {
        "source": "openapi",
        "request": "CreateWebhookSubscription",
        "responses": {201: "WebhookSubscription", 400: "errorResponse", 422: "errorResponse"},
    },
    ("GET", WEBHOOKS): {"source": "docs", "responses": {200: "WebhookSubscriptionPage"}},
    ("GET", WEBHOOK): {"source": "docs", "responses": {200: "WebhookSubscription", 404: "errorResponse"}},
    ("PATCH", WEBHOOK): {
        "source": "docs",
        "request": "UpdateWebhookSubscription",
        "responses": {200: "WebhookSubscription", 400: "errorResponse", 404: "errorResponse", 422: "errorResponse"},
    },
    ("DELETE", WEBHOOK): {"source": "docs", "responses": {204: None, 404: "errorResponse"}},
}

# Query parameters of the list endpoints. The webhook subscription list documents no ``reverse``.
QUERY_PARAMETERS: Dict[Tuple[str, str], Dict[str, Schema]] = {
    ("GET", CONNECTORS): {
        "templateRef": text(),
        "limit": {"type": "integer", "minimum": 0, "maximum": PAGE_SIZE_MAX, "default": PAGE_SIZE_DEFAULT},
        "pageToken": text(maxLength=PAGE_TOKEN_MAX_LENGTH),
        "reverse": {"type": "boolean", "default": False},
        "includeInternal": {"type": "boolean", "default": False},
    },
    ("GET", WEBHOOKS): {
        "limit": {"type": "integer", "maximum": PAGE_SIZE_MAX},
        "pageToken": text(maxLength=PAGE_TOKEN_MAX_LENGTH),
    },
}


def response_schema(method: str, path: str, status: int) -> Optional[str]:
    """The name of the schema of ``method path -> status``; KeyError when the contract has no such answer."""
    return OPERATIONS[(method.upper(), path)]["responses"][status]
