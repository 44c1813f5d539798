"""Validate emulator responses against the seed OpenAPI (read at test time, never copied into the project).

OpenAPI 3.0 schemas are not quite JSON Schema; :func:`to_json_schema` bridges the gap:
- ``nullable: true`` becomes a type list with ``"null"`` (or ``anyOf`` with null beside a ``$ref``),
  and ``null`` joins an ``enum``;
- ``$ref: #/components/schemas/X`` points into ``$defs``;
- ``discriminator`` + ``oneOf`` becomes ``if``/``then`` pairs keyed on the discriminator property, which
  is what the discriminator means (the mapped schema applies), instead of "exactly one branch matches".
"""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path
from typing import Any, Dict, Optional

import jsonschema
import pytest

SPEC_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "connectors-openapi.merged.json"
SPEC_AVAILABLE = SPEC_PATH.is_file()
SKIP_REASON = f"the seed OpenAPI is not there ({SPEC_PATH}); it lives beside the repository, in ../shared"

# Apply with `pytestmark = requires_spec` in a test module that validates against the seed.
requires_spec = pytest.mark.skipif(not SPEC_AVAILABLE, reason=SKIP_REASON)

_REF_PREFIX = "#/components/schemas/"
_SPEC_CACHE: Dict[str, Any] = {}


def load_spec() -> Dict[str, Any]:
    """The merged seed OpenAPI document (skips the calling test when it is absent)."""
    if not SPEC_AVAILABLE:
        pytest.skip(SKIP_REASON)
    if "spec" not in _SPEC_CACHE:
        _SPEC_CACHE["spec"] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return _SPEC_CACHE["spec"]


def to_json_schema(node: Any) -> Any:
    """One OpenAPI 3.0 schema (any depth) as a JSON Schema 2020-12 fragment."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    nullable = node.pop("nullable", False)
    discriminator = node.pop("discriminator", None)
    for key in ("example", "examples", "xml", "externalDocs", "deprecated"):
        node.pop(key, None)
    converted = {key: _convert_keyword(key, value) for key, value in node.items()}
    if discriminator is not None and "oneOf" in converted:
        converted["allOf"] = converted.get("allOf", []) + _discriminated(discriminator, converted.pop("oneOf"))
    return _with_null(converted) if nullable else converted


def _convert_keyword(key: str, value: Any) -> Any:
    if key == "$ref":
        return "#/$defs/" + value[len(_REF_PREFIX) :]
    if key in ("properties", "patternProperties"):
        return {name: to_json_schema(sub) for name, sub in value.items()}
    if key == "enum":
        return list(value)
    return to_json_schema(value)


def _discriminated(discriminator: Dict[str, Any], branches: list) -> list:
    prop = discriminator["propertyName"]
    mapping = discriminator.get("mapping") or {}
    rules = [
        {
            "if": {"properties": {prop: {"const": value}}, "required": [prop]},
            "then": {"$ref": "#/$defs/" + target[len(_REF_PREFIX) :]},
        }
        for value, target in mapping.items()
    ]
    known = [{"properties": {prop: {"const": value}}} for value in mapping]
    # Without a mapping entry the value must still pick one of the branches.
    return rules + [{"anyOf": known or branches}]


def _with_null(schema: Dict[str, Any]) -> Dict[str, Any]:
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = schema["enum"] + [None]
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
        return schema
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def _defs() -> Dict[str, Any]:
    if "defs" not in _SPEC_CACHE:
        schemas = load_spec()["components"]["schemas"]
        _SPEC_CACHE["defs"] = {name: to_json_schema(schema) for name, schema in schemas.items()}
    return _SPEC_CACHE["defs"]


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value and (value.endswith("Z") or value[-6] in "+-")


# Checked here rather than by jsonschema's optional format packages, so the checks always run.
FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
FORMAT_CHECKER.checks("uuid")(_is_uuid)
FORMAT_CHECKER.checks("date-time")(_is_date_time)


def wrap(schema: Dict[str, Any]) -> Dict[str, Any]:
    """A schema fragment (already JSON Schema, using ``#/$defs/...``) made standalone."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "$defs": _defs()}


def validate(instance: Any, schema: Dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless ``instance`` fits ``schema`` (a fragment, see :func:`wrap`)."""
    jsonschema.Draft202012Validator(wrap(schema), format_checker=FORMAT_CHECKER).validate(instance)


def validate_named(instance: Any, name: str) -> None:
    """Validate against ``components.schemas[name]``."""
    validate(instance, {"$ref": f"#/$defs/{name}"})


def operation_schema(method: str, path: str, status: int) -> Optional[Dict[str, Any]]:
    """The converted response schema the seed gives for ``method path -> status`` (None if it gives none)."""
    responses = load_spec()["paths"][path][method.lower()]["responses"]
    content = (responses.get(str(status)) or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    return None if schema is None else to_json_schema(schema)


def validate_operation(instance: Any, method: str, path: str, status: int) -> None:
    """Validate a response body against what the seed documents for that operation and status."""
    schema = operation_schema(method, path, status)
    assert schema is not None, f"the seed documents no JSON body for {method} {path} -> {status}"
    validate(instance, schema)


def list_schema(item_schema: str) -> Dict[str, Any]:
    """``{results: [item], nextPageToken?}`` for lists the seed does not spell out (webhook subscriptions)."""
    return {
        "type": "object",
        "required": ["results"],
        "additionalProperties": False,
        "properties": {
            "results": {"type": "array", "items": {"$ref": f"#/$defs/{item_schema}"}},
            "nextPageToken": {"$ref": "#/$defs/pagination/properties/nextPageToken"},
        },
    }
