"""The contract (``bird_contract.py``): well-formed, matched by the emulator's own rules, and, where Bird's
published OpenAPI is at hand, equal to it wherever it speaks, so the two cannot drift apart.

The OpenAPI is not part of the repository, and the tests never look outside it: the comparison reads
``$BIRD_OPENAPI_SPEC`` (``.ci/run`` sets it where the seed OpenAPI lies beside the checkout). Without it the
comparison has nothing to compare: :func:`test_the_contract_matches_the_published_openapi` then passes with a warning saying so,
instead of skipping; every other test here (and every emulator test) runs on the contract alone.

The comparison converts the OpenAPI 3.0 schemas to JSON Schema (:func:`to_json_schema`), brings both
sides to one canonical form (references resolved, ``anyOf [X, null]`` folded into X, plain ``allOf``
members merged) and compares, node by node, the facts the contract states: types, enums, formats,
patterns, lengths, bounds, required fields, additionalProperties and the property names.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import jsonschema
import pytest

import bird_contract
from openapi_schema import validate_named
from pulumi_bird.api import values
from pulumi_bird.emulator import backend, responses

SPEC = os.environ.get("BIRD_OPENAPI_SPEC")

# --- OpenAPI 3.0 -> JSON Schema -----------------------------------------------------------------------------

_COMPONENT_PREFIX = "#/components/schemas/"
_DOC_KEYS = ("description", "title", "example", "examples", "xml", "externalDocs", "deprecated", "$comment")


def to_json_schema(node: Any) -> Any:
    """One OpenAPI 3.0 schema as JSON Schema: ``nullable`` becomes a null type (or ``anyOf`` with null
    beside a ``$ref``) and joins an ``enum``; ``$ref`` points into ``$defs``; a ``discriminator`` with
    ``oneOf`` becomes ``if``/``then`` rules keyed on the discriminating property."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    nullable = node.pop("nullable", False)
    discriminator = node.pop("discriminator", None)
    converted: Dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            converted[key] = "#/$defs/" + value[len(_COMPONENT_PREFIX) :]
        elif key in ("properties", "patternProperties"):
            converted[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        else:
            converted[key] = to_json_schema(value)
    if discriminator is not None and "oneOf" in converted:
        branches = converted.pop("oneOf")
        converted["allOf"] = converted.get("allOf", []) + _discriminated(discriminator, branches)
    if not nullable:
        return converted
    if "enum" in converted and None not in converted["enum"]:
        converted["enum"] = converted["enum"] + [None]
    if isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


def _discriminated(discriminator: Dict[str, Any], branches: List[Any]) -> List[Any]:
    prop = discriminator["propertyName"]
    mapping = discriminator.get("mapping") or {}
    rules = [
        {
            "if": {"properties": {prop: {"const": value}}, "required": [prop]},
            "then": {"$ref": "#/$defs/" + target[len(_COMPONENT_PREFIX) :]},
        }
        for value, target in mapping.items()
    ]
    return rules + [{"anyOf": [{"properties": {prop: {"const": value}}} for value in mapping] or branches}]


# --- canonical form and comparison --------------------------------------------------------------------------

# Facts compared at every node, as they are.
_FACTS = ("const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum", "minProperties", "default")
_COMBINATORS = ("oneOf", "anyOf", "allOf")
_NOT_PLAIN = ("if", "then", "else", "not", "oneOf", "anyOf")
# More nested references than this is a cycle.
_MAX_REF_HOPS = 32


def _resolve(node: Any, defs: Dict[str, Any]) -> Any:
    for _ in range(_MAX_REF_HOPS):
        if not (isinstance(node, dict) and "$ref" in node):
            return node
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**{k: v for k, v in node.items() if k != "$ref"}, **target}
    raise AssertionError("a reference cycle")


def _types(node: Dict[str, Any]) -> Optional[List[str]]:
    kind = node.get("type")
    if kind is None:
        return None
    return sorted(kind if isinstance(kind, list) else [kind])


def canonical(node: Any, defs: Dict[str, Any]) -> Dict[str, Any]:
    """``node`` with references resolved, ``anyOf [X, null]`` folded into X and plain ``allOf``s merged."""
    node = _resolve(node, defs)
    node = {k: v for k, v in node.items() if k not in _DOC_KEYS or (k == "$comment" and v == "opaque")}
    alternatives = node.get("anyOf")
    if isinstance(alternatives, list) and len(alternatives) == 2 and {"type": "null"} in alternatives:
        (other,) = [a for a in alternatives if a != {"type": "null"}]
        folded = copy.deepcopy(canonical(other, defs))
        kinds = _types(folded) or []
        folded["type"] = sorted(set(kinds) | {"null"})
        if "enum" in folded and None not in folded["enum"]:
            folded["enum"] = folded["enum"] + [None]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return {**rest, **folded}
    members = node.get("allOf")
    if isinstance(members, list):
        resolved = [canonical(m, defs) for m in members]
        if all(not any(key in m for key in _NOT_PLAIN) for m in resolved):
            merged = {k: v for k, v in node.items() if k != "allOf"}
            for member in resolved:
                merged = _merge(merged, member)
            return merged
    return node


def _merge(into: Dict[str, Any], member: Dict[str, Any]) -> Dict[str, Any]:
    merged = dict(into)
    for key, value in member.items():
        if key == "properties":
            merged["properties"] = {**merged.get("properties", {}), **value}
        elif key == "required":
            merged["required"] = sorted(set(merged.get("required", [])) | set(value))
        elif key in merged and merged[key] != value:
            raise AssertionError(f"allOf members disagree on {key}: {merged[key]!r} vs {value!r}")
        else:
            merged[key] = value
    return merged


def _enum(node: Dict[str, Any]) -> Optional[List[str]]:
    return None if "enum" not in node else sorted(json.dumps(v) for v in node["enum"])


def compare(
    contract: Any, spec: Any, contract_defs: Dict[str, Any], spec_defs: Dict[str, Any], where: str
) -> List[str]:
    """Where ``contract`` says something other than ``spec`` (both JSON Schema), one line per difference."""
    c, s = canonical(contract, contract_defs), canonical(spec, spec_defs)
    problems: List[str] = []

    def differs(what: str, mine: Any, theirs: Any) -> None:
        if mine != theirs:
            problems.append(f"{where}: {what} is {mine!r} in the contract, {theirs!r} in the OpenAPI")

    differs("type", _types(c), _types(s))
    if c.get("$comment") == "opaque":
        return problems
    differs("enum", _enum(c), _enum(s))
    differs("required", sorted(c.get("required", [])), sorted(s.get("required", [])))
    for fact in _FACTS:
        differs(fact, c.get(fact), s.get(fact))

    mine_extra, their_extra = c.get("additionalProperties", True), s.get("additionalProperties", True)
    if isinstance(mine_extra, dict) and isinstance(their_extra, dict):
        problems += compare(mine_extra, their_extra, contract_defs, spec_defs, f"{where}.additionalProperties")
    else:
        differs("additionalProperties", mine_extra, their_extra)

    mine_props, their_props = c.get("properties", {}), s.get("properties", {})
    unknown = sorted(set(mine_props) - set(their_props))
    if unknown:
        problems.append(f"{where}: properties unknown to the OpenAPI: {unknown}")
    left_out = sorted(set(their_props) - set(mine_props))
    if their_extra is False and left_out:
        problems.append(f"{where}: properties the contract leaves out of a closed object: {left_out}")
    for name in sorted(set(mine_props) & set(their_props)):
        problems += compare(mine_props[name], their_props[name], contract_defs, spec_defs, f"{where}.{name}")

    for key in ("items", "if", "then"):
        if key in c or key in s:
            problems += compare(c.get(key, {}), s.get(key, {}), contract_defs, spec_defs, f"{where}.{key}")
    for key in _COMBINATORS:
        mine_list, their_list = c.get(key, []), s.get(key, [])
        differs(f"number of {key} branches", len(mine_list), len(their_list))
        for index, (mine, theirs) in enumerate(zip(mine_list, their_list)):
            problems += compare(mine, theirs, contract_defs, spec_defs, f"{where}.{key}[{index}]")
    return problems


def compare_with_spec(spec: Dict[str, Any]) -> List[str]:
    """Every difference between the contract and an OpenAPI document, for the parts both describe."""
    spec_defs = {name: to_json_schema(schema) for name, schema in spec["components"]["schemas"].items()}
    parameters = spec["components"].get("parameters", {})
    mine_defs = bird_contract.SCHEMAS
    problems: List[str] = []
    documented = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            key = (method.upper(), path)
            documented.add(key)
            where = f"{method.upper()} {path}"
            entry = bird_contract.OPERATIONS.get(key)
            if entry is None or entry["source"] != "openapi":
                problems.append(f"{where}: documented by the OpenAPI, not in the contract as such")
                continue
            problems += _compare_bodies(entry, operation, mine_defs, spec_defs, where)
            problems += _compare_parameters(key, operation, parameters, where)
    for key, entry in bird_contract.OPERATIONS.items():
        if entry["source"] == "openapi" and key not in documented:
            problems.append(f"{key[0]} {key[1]}: the contract cites the OpenAPI, which does not document it")
    return problems


def _json_body(holder: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    schema = ((holder.get("content") or {}).get("application/json") or {}).get("schema")
    return None if schema is None else to_json_schema(schema)


def _compare_bodies(entry, operation, mine_defs, spec_defs, where: str) -> List[str]:  # type: ignore[no-untyped-def]
    problems: List[str] = []
    request = _json_body(operation.get("requestBody") or {})
    if (request is None) != (entry.get("request") is None):
        problems.append(f"{where}: request body is {entry.get('request')!r} in the contract, {request!r} in the OpenAPI")
    elif request is not None:
        problems += compare(bird_contract.ref(entry["request"]), request, mine_defs, spec_defs, f"{where} request")
    statuses = {int(status) for status in operation["responses"]}
    if statuses != set(entry["responses"]):
        problems.append(f"{where}: statuses {sorted(entry['responses'])} in the contract, {sorted(statuses)} in the OpenAPI")
    for status in sorted(statuses & set(entry["responses"])):
        theirs = _json_body(operation["responses"][str(status)])
        mine = entry["responses"][status]
        if (theirs is None) != (mine is None):
            problems.append(f"{where} -> {status}: body {mine!r} in the contract, {theirs!r} in the OpenAPI")
        elif theirs is not None:
            problems += compare(bird_contract.ref(mine), theirs, mine_defs, spec_defs, f"{where} -> {status}")
    return problems


def _compare_parameters(key, operation, parameters, where: str) -> List[str]:  # type: ignore[no-untyped-def]
    theirs = {}
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = parameters[parameter["$ref"].rsplit("/", 1)[-1]]
        if parameter.get("in") == "query":
            theirs[parameter["name"]] = to_json_schema(parameter.get("schema", {}))
    mine = bird_contract.QUERY_PARAMETERS.get(key, {})
    problems: List[str] = []
    if sorted(mine) != sorted(theirs):
        problems.append(f"{where}: query parameters {sorted(mine)} in the contract, {sorted(theirs)} in the OpenAPI")
    for name in sorted(set(mine) & set(theirs)):
        problems += compare(mine[name], theirs[name], {}, {}, f"{where} ?{name}")
    return problems


# --- tests --------------------------------------------------------------------------------------------------


def test_the_contract_matches_the_published_openapi() -> None:
    if not SPEC or not Path(SPEC).is_file():
        warnings.warn(
            f"Bird's OpenAPI is not at BIRD_OPENAPI_SPEC ({SPEC!r}): the contract was not compared with it",
            stacklevel=1,
        )
        return
    spec = json.loads(Path(SPEC).read_text(encoding="utf-8"))
    assert compare_with_spec(spec) == []


def test_every_contract_schema_is_valid_json_schema() -> None:
    for name, schema in bird_contract.SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema({**schema, "$defs": bird_contract.SCHEMAS})
        assert canonical(schema, bird_contract.SCHEMAS), name
    for entry in bird_contract.OPERATIONS.values():
        named = [entry.get("request"), *entry["responses"].values()]
        assert all(n is None or n in bird_contract.SCHEMAS for n in named), entry


def test_the_emulator_enforces_the_contracts_limits_and_enums() -> None:
    limit = bird_contract.QUERY_PARAMETERS[("GET", bird_contract.CONNECTORS)]["limit"]
    assert (limit["maximum"], limit["default"]) == (backend.MAX_PAGE_SIZE, backend.DEFAULT_PAGE_SIZE)
    assert backend.MAX_PAGE_TOKEN_LENGTH == bird_contract.PAGE_TOKEN_MAX_LENGTH
    # the fixed sets the client, the provider and the emulator share (each one Literal in api.values)
    assert list(values.WEBHOOK_SERVICES) == bird_contract.WEBHOOK_SERVICES
    assert list(values.WEBHOOK_STATUSES) == bird_contract.WEBHOOK_STATUSES
    assert sorted(values.FILTER_KEYS) == sorted(bird_contract.FILTER_KEYS)
    assert responses.WEBHOOK_URL_PATTERN.pattern == bird_contract.WEBHOOK_URL_PATTERN
    assert responses.MIN_CODE_LENGTH == bird_contract.ERROR_TEXT_MIN_LENGTH
    assert set(responses.CONNECTOR_FIELDS) == set(bird_contract.SCHEMAS["CreateConnectorReq"]["properties"])
    assert set(responses.WEBHOOK_CREATE_FIELDS) == set(bird_contract.SCHEMAS["CreateWebhookSubscription"]["properties"])
    assert set(responses.WEBHOOK_UPDATE_FIELDS) == set(bird_contract.SCHEMAS["UpdateWebhookSubscription"]["properties"])


@pytest.mark.parametrize(
    "name, body",
    [
        ("CreateWebhookSubscription", {"service": "templates", "event": "e.x", "url": "https://a.example.com",
                                       "eventFilters": [{"key": "channelId", "value": "3c9d3f1e-7a54-4c3b-9f0e-5b2f6a8d1c47"}]}),
        ("CreateWebhookSubscription", {"service": "channels", "event": "e.x", "url": "https://a.example.com",
                                       "eventFilters": [{"key": "channelId", "value": "chan-1"}]}),
        ("CreateWebhookSubscription", {"service": "channels", "event": "e.x", "url": "http://a.example.com"}),
        ("CreateConnectorReq", {"name": "x", "securityArguments": {"api": {"token": 5}}}),
        ("ConnectorStatus", {"channel": {"stage": "sleeping"}}),
        ("Error", {"code": "Bad", "message": "short"}),
        ("UpdateWebhookSubscription", {}),
    ],
)
def test_the_contract_rejects_what_bird_refuses(name: str, body: Dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate_named(body, name)


# The comparison itself must notice differences, or the drift test could never fail.
_SPEC_SNIPPET = {
    "Thing": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "state": {"type": "string", "nullable": True, "enum": ["on", "off"]},
            "child": {"$ref": "#/components/schemas/Child", "nullable": True},
        },
    },
    "Child": {"type": "object", "properties": {"size": {"type": "integer", "maximum": 9}}},
}
_CONTRACT_SNIPPET = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "state": {"type": ["string", "null"], "enum": ["off", "on", None]},
        "child": {"type": ["object", "null"], "properties": {"size": {"type": "integer", "maximum": 9}}},
    },
}


def _snippet_problems(contract: Dict[str, Any]) -> List[str]:
    spec_defs = {name: to_json_schema(schema) for name, schema in _SPEC_SNIPPET.items()}
    return compare(contract, {"$ref": "#/$defs/Thing"}, {}, spec_defs, "Thing")


def test_the_comparison_accepts_the_same_facts_written_differently() -> None:
    assert _snippet_problems(_CONTRACT_SNIPPET) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda c: c["properties"]["state"].update(enum=["on", None]), "Thing.state: enum"),
        (lambda c: c["properties"]["id"].update(format="date-time"), "Thing.id: format"),
        (lambda c: c.update(required=[]), "Thing: required"),
        (lambda c: c["properties"].pop("child"), "Thing: properties the contract leaves out"),
        (lambda c: c["properties"].update(extra={"type": "string"}), "Thing: properties unknown to the OpenAPI"),
        (lambda c: c["properties"]["child"]["properties"]["size"].update(maximum=10), "Thing.child.size: maximum"),
        (lambda c: c["properties"]["child"].update(type="object"), "Thing.child: type"),
        (lambda c: c.update(additionalProperties=True), "Thing: additionalProperties"),
    ],
)
def test_the_comparison_notices_every_kind_of_drift(change: Any, expected: str) -> None:
    contract = copy.deepcopy(_CONTRACT_SNIPPET)
    change(contract)
    problems = _snippet_problems(contract)
    assert len(problems) == 1 and problems[0].startswith(expected), problems
