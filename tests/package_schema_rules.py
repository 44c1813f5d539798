"""The rules of a Pulumi package schema that the ``bird`` schema must follow, written here in our own words.

Pulumi's package metaschema (``pkg/codegen/schema/pulumi.json`` in pulumi/pulumi) is not part of this repository.
:func:`problems` checks what matters of it for this package (required fields, token and name patterns, property
types, references, secrets, descriptions); :func:`metaschema_problems` validates against the metaschema itself
when a copy is at hand (``PULUMI_METASCHEMA``).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

# Tokens are package:module:Name; this package keeps everything in the index module.
RESOURCE_TOKEN = re.compile(r"^bird:index:[A-Z][A-Za-z0-9]*$")
FUNCTION_TOKEN = re.compile(r"^bird:index:[a-z][A-Za-z0-9]*$")
PACKAGE_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9_]*$")
CAMEL_CASE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
PRIMITIVES = {"string", "number", "integer", "boolean"}
# A property's type: a primitive, an array (with items), a map (object with additionalProperties), or a $ref.
CONTAINERS = {"array", "object"}
BUILTIN_REFS = {"pulumi.json#/Any", "pulumi.json#/Archive", "pulumi.json#/Asset", "pulumi.json#/Json"}
TOP_LEVEL = {"name", "displayName", "version", "description", "keywords", "homepage", "license", "attribution",
             "repository", "logoUrl", "pluginDownloadURL", "publisher", "namespace", "meta", "config", "types",
             "dependencies", "provider", "resources", "functions", "language", "parameterization",
             "allowedPackageNames"}
PROPERTY_KEYS = {"type", "items", "additionalProperties", "$ref", "oneOf", "plain", "description", "const",
                 "default", "defaultInfo", "deprecationMessage", "language", "secret", "replaceOnChanges",
                 "willReplaceOnChanges"}


def type_problems(spec: dict[str, Any], where: str, types: dict[str, Any]) -> Iterator[str]:
    """What is wrong with one type spec (a property's, an array's items, a map's values)."""
    if "$ref" in spec:
        ref = spec["$ref"]
        if ref in BUILTIN_REFS:
            return
        if not ref.startswith("#/types/") or ref[len("#/types/"):] not in types:
            yield f"{where}: $ref {ref!r} does not name a type of the schema"
        return
    kind = spec.get("type")
    if kind in PRIMITIVES:
        return
    if kind == "array":
        if not isinstance(spec.get("items"), dict):
            yield f"{where}: an array needs items"
        else:
            yield from type_problems(spec["items"], f"{where}[]", types)
    elif kind == "object":
        if not isinstance(spec.get("additionalProperties"), dict):
            yield f"{where}: a map property needs additionalProperties (object types are $refs)"
        else:
            yield from type_problems(spec["additionalProperties"], f"{where}{{}}", types)
    else:
        yield f"{where}: type {kind!r} is none of {sorted(PRIMITIVES | CONTAINERS)} and there is no $ref"


def property_problems(props: dict[str, Any], where: str, types: dict[str, Any]) -> Iterator[str]:
    for name, spec in props.items():
        here = f"{where}.{name}"
        if not CAMEL_CASE.match(name):
            yield f"{here}: property names are camelCase"
        if not isinstance(spec, dict):
            yield f"{here}: not an object"
            continue
        extra = set(spec) - PROPERTY_KEYS
        if extra:
            yield f"{here}: unknown keys {sorted(extra)}"
        if not str(spec.get("description", "")).strip():
            yield f"{here}: no description"
        if "secret" in spec and not isinstance(spec["secret"], bool):
            yield f"{here}: secret must be true or false"
        if "defaultInfo" in spec and not isinstance(spec["defaultInfo"].get("environment"), list):
            yield f"{here}: defaultInfo needs a list of environment variables"
        yield from type_problems(spec, here, types)


def object_problems(obj: dict[str, Any], where: str, types: dict[str, Any], *,
                    props: str = "properties", required: str = "required") -> Iterator[str]:
    yield from property_problems(obj.get(props, {}), f"{where}.{props}", types)
    missing = set(obj.get(required, [])) - set(obj.get(props, {}))
    if missing:
        yield f"{where}.{required}: {sorted(missing)} are not in {props}"


ENUM_VALUE_KEYS = {"name", "description", "value", "deprecationMessage"}
ENUM_VALUE_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


def enum_problems(spec: dict[str, Any], where: str) -> Iterator[str]:
    """An enum type: a primitive type and a non-empty list of distinct ``{value}`` entries of that type."""
    kind = spec.get("type")
    if kind not in ENUM_VALUE_TYPES:
        yield f"{where}: an enum's type is one of {sorted(ENUM_VALUE_TYPES)}, not {kind!r}"
        return
    entries = spec.get("enum")
    if not isinstance(entries, list) or not entries:
        yield f"{where}.enum: a non-empty list of values"
        return
    values = [e.get("value") if isinstance(e, dict) else None for e in entries]
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - ENUM_VALUE_KEYS or not isinstance(values[i], ENUM_VALUE_TYPES[kind]):
            yield f"{where}.enum[{i}]: an object with a {kind} value (keys {sorted(ENUM_VALUE_KEYS)})"
    if len(set(map(repr, values))) != len(values):
        yield f"{where}.enum: values repeat"


def problems(schema: dict[str, Any]) -> list[str]:
    """Every rule the schema breaks (empty: none)."""
    found: list[str] = []
    if not PACKAGE_NAME.match(str(schema.get("name", ""))):
        found.append("name: required, letters, digits, - and _")
    if not SEMVER.match(str(schema.get("version", ""))):
        found.append("version: a semantic version")
    found += [f"{key}: not a field of a package schema" for key in set(schema) - TOP_LEVEL]
    types = schema.get("types", {})
    for token, spec in types.items():
        if not RESOURCE_TOKEN.match(token):
            found.append(f"types.{token}: not a bird:index:Name token")
        if "enum" in spec:
            found += enum_problems(spec, f"types.{token}")
            continue
        if spec.get("type") != "object":
            found.append(f"types.{token}: object types have type object")
        found += object_problems(spec, f"types.{token}", types)
    for token, spec in schema.get("resources", {}).items():
        if not RESOURCE_TOKEN.match(token):
            found.append(f"resources.{token}: not a bird:index:Name token")
        found += object_problems(spec, f"resources.{token}", types)
        found += object_problems(spec, f"resources.{token}", types, props="inputProperties", required="requiredInputs")
    for token, spec in schema.get("functions", {}).items():
        if not FUNCTION_TOKEN.match(token):
            found.append(f"functions.{token}: not a bird:index:name token")
        for part in ("inputs", "outputs"):
            found += object_problems(spec.get(part, {}), f"functions.{token}.{part}", types)
    found += property_problems(schema.get("config", {}).get("variables", {}), "config.variables", types)
    found += object_problems(schema.get("provider", {}), "provider", types, props="inputProperties",
                             required="requiredInputs")
    return found


def metaschema_problems(schema: dict[str, Any], metaschema_path: str) -> list[str]:
    """Validation errors against Pulumi's metaschema (JSON Schema 2020-12). Its patterns name their groups the
    ECMAScript way, ``(?<name>...)``; Python's ``re`` spells that ``(?P<name>...)``."""
    import jsonschema

    with open(metaschema_path, encoding="utf-8") as f:
        metaschema = json.loads(re.sub(r"\(\?<([A-Za-z_])", r"(?P<\1", f.read()))
    validator = jsonschema.Draft202012Validator(metaschema)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(schema)]
