"""Validate bodies against Bird's contract as the project records it (``bird_contract.py``).

The contract lives in the repository, so these checks run on any clone; ``test_emulator_contract.py``
holds it against Bird's published OpenAPI when that is at hand. ``uuid`` and ``date-time`` formats are
checked here rather than by jsonschema's optional format packages, so the checks always run.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict

import jsonschema

import bird_contract
from pulumi_bird.api.values import is_uuid


def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or is_uuid(value)


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value and (value.endswith("Z") or value[-6] in "+-")


FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
FORMAT_CHECKER.checks("uuid")(_is_uuid)
FORMAT_CHECKER.checks("date-time")(_is_date_time)


def wrap(schema: Dict[str, Any], defs: Dict[str, Any] = bird_contract.SCHEMAS) -> Dict[str, Any]:
    """A schema fragment (using ``#/$defs/<name>``) made standalone with the contract's schemas."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "$defs": defs}


def validate(instance: Any, schema: Dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless ``instance`` fits ``schema`` (a fragment, see :func:`wrap`)."""
    jsonschema.Draft202012Validator(wrap(schema), format_checker=FORMAT_CHECKER).validate(instance)


def validate_named(instance: Any, name: str) -> None:
    """Validate against the contract's schema ``name`` (``Connector``, ``Error``, ``CreateConnectorReq`` ...)."""
    assert name in bird_contract.SCHEMAS, f"the contract has no schema {name!r}"
    validate(instance, bird_contract.ref(name))


def validate_operation(instance: Any, method: str, path: str, status: int) -> None:
    """Validate a response body against what the contract says ``method path`` answers with ``status``."""
    name = bird_contract.response_schema(method, path, status)
    assert name is not None, f"{method} {path} -> {status} has no body in the contract"
    validate_named(instance, name)
