"""The Pulumi package schema of ``bird`` (``GetSchema``), generated from the declared schemas
(:mod:`pulumi_bird.plugin.fields`), the configuration keys and the lookups."""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import json
import typing
from functools import cache, lru_cache
from typing import Any

import typing_extensions

from .. import _version
from ..provider import config
from ..provider.schema import Schema, type_hints
from .fields import (
    BY_TOKEN,
    EXTRA_DOCS,
    PACKAGE,
    RESOURCES,
    Field,
    dataclass_fields,
    describe,
    field_of,
    fields,
    function_fields,
    output_optional,
    strip,
    translate,
    type_name,
)

# What each configuration key means (config.py names the keys and their environment variables).
CONFIG_DOCS = {
    "accessKey": "Bird access key (Dashboard > Developer > Access keys). Keep it a secret.",
    "apiUrl": "Bird's API base URL; https, or plain http only for a loopback host such as the emulator.",
    "workspaceId": "The Bird workspace (UUID) resources live in unless they name their own.",
    "organizationId": "The Bird organization (UUID) of webhook subscriptions unless they name their own.",
    "getRateLimit": "GET requests per second this provider sends to one workspace, from 1 to Bird's limit of 50.",
}
CONFIG_TYPES = {"getRateLimit": {"type": "number"}}
CONFIG_DEFAULTS: dict[str, Any] = {"apiUrl": config.DEFAULT_API_URL, "getRateLimit": config.BIRD_GETS_PER_SECOND}
SECRET_CONFIG = frozenset({"accessKey"})

# The lookups of pulumi_bird.lookups served as the package's functions: token -> function name.
FUNCTIONS = {
    f"{PACKAGE}:index:getConnector": "get_connector",
    f"{PACKAGE}:index:listConnectors": "list_connectors",
    f"{PACKAGE}:index:getPhoneNumber": "get_phone_number",
}
# A function's result is an object: a lookup that returns a list answers with it under this key.
LIST_RESULT = "connectors"

# PLACEHOLDERS, until the package has a public home (pyproject.toml's [project.urls] lists only real URLs): the
# schema's homepage and repository, which SDKs and registries show. example.com is reserved for examples, so no
# SDK points at someone else's site; the path says what they are. Replace both when the package is published.
HOMEPAGE = "https://example.com/placeholder-until-published/pulumi-bird"
REPOSITORY = "https://example.com/placeholder-until-published/pulumi-bird.git"


def config_key(name: str) -> str:
    """``bird:accessKey`` -> ``accessKey``."""
    return name.split(":", 1)[1]


def config_properties() -> dict[str, dict[str, Any]]:
    """The configuration keys as properties, with their environment variables and defaults."""
    props = {}
    for name, env in config.ALL_KEYS:
        key = config_key(name)
        spec: dict[str, Any] = {**CONFIG_TYPES.get(key, {"type": "string"}), "description": CONFIG_DOCS[key],
                                "defaultInfo": {"environment": [env]}}
        if key in CONFIG_DEFAULTS:
            spec["default"] = CONFIG_DEFAULTS[key]
        if key in SECRET_CONFIG:
            spec["secret"] = True
        props[key] = spec
    return props


class Types:
    """Collects the object types (TypedDicts, dataclasses) that properties refer to."""

    def __init__(self) -> None:
        self.specs: dict[str, dict[str, Any]] = {}

    def spec(self, hint: Any) -> dict[str, Any]:
        """The schema type of a Python type."""
        hint = strip(hint)[0]
        simple = {str: "string", bool: "boolean", float: "number", int: "integer"}
        if hint in simple:
            return {"type": simple[hint]}
        if hint is Any or hint is object:
            return {"$ref": "pulumi.json#/Any"}
        if isinstance(hint, type) and (typing_extensions.is_typeddict(hint) or dataclasses.is_dataclass(hint)):
            return {"$ref": f"#/types/{self.declare(hint)}"}
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is typing.Literal and all(isinstance(a, str) for a in args):
            return {"$ref": f"#/types/{self.enum(hint)}"}
        if origin in (dict, collections.abc.Mapping):
            return {"type": "object", "additionalProperties": self.spec(args[1] if args else Any)}
        if origin in (list, tuple, collections.abc.Sequence):
            return {"type": "array", "items": self.spec(args[0] if args else Any)}
        raise TypeError(f"no schema type for {hint!r}")

    def enum(self, hint: Any) -> str:
        """Declare the fixed set of strings ``hint`` (a ``Literal`` of :mod:`pulumi_bird.api.values`, whose name it
        takes: ``ChannelMessageType``) as an enum type; its token."""
        name = literal_name(hint)
        token = f"{PACKAGE}:index:{name}"
        allowed = typing.get_args(hint)
        self.specs[token] = {"type": "string", "description": f"{name}: one of {', '.join(allowed)}.",
                             "enum": [{"value": value} for value in allowed]}
        return token

    def declare(self, cls: type) -> str:
        token = type_name(cls)
        if token not in self.specs:
            self.specs[token] = {}  # placed first: a type that refers to itself ends here
            if dataclasses.is_dataclass(cls):
                members = dataclass_fields(cls, connector_docs())
            else:  # a TypedDict of Annotated[T, Property(...)] fields, as a resource's Args
                members = [field_of(p) for p in Schema.declare(cls)]
            self.specs[token] = {"type": "object", "description": in_schema_names(describe(inspect.getdoc(cls) or "")),
                                 **self.object_of(docs_in_schema_names(members))}
        return token

    def prop(self, field: Field, *, as_input: bool) -> dict[str, Any]:
        spec = {**self.spec(field.type), "description": field.doc}
        if field.secret:
            spec["secret"] = True
        if as_input and field.change == "replace":
            spec["willReplaceOnChanges"] = True
        return spec

    def object_of(self, members: list[Field], *, as_input: bool = False) -> dict[str, Any]:
        """``properties`` and ``required`` of an object made of ``members``."""
        result: dict[str, Any] = {"properties": {m.key: self.prop(m, as_input=as_input) for m in members}}
        required = [m.key for m in members if not m.optional]
        if required:
            result["required"] = required
        return result


@cache
def schema_names() -> dict[str, str]:
    """Every property name of the package (the resources' properties, the lookups' arguments) -> its schema key."""
    from .. import lookups

    found = {f.name: f.key for kind in RESOURCES for f in fields(kind.token)}
    for name in FUNCTIONS.values():
        found.update({f.name: f.key for f in function_fields(getattr(lookups, name), {})})
    return found


def in_schema_names(text: str) -> str:
    """A description with the package's property names as the schema spells them (:func:`~.fields.translate`):
    what the lookups and types say, in SDKs of every language."""
    return translate(text, schema_names())


def docs_in_schema_names(members: list[Field]) -> list[Field]:
    """``members`` with their descriptions in the schema's names (:func:`in_schema_names`)."""
    return [dataclasses.replace(f, doc=in_schema_names(f.doc)) for f in members]


def literal_name(hint: Any) -> str:
    """The name :mod:`pulumi_bird.api.values` declares the fixed set ``hint`` under (every fixed set is declared
    there once, as a ``Literal``)."""
    from ..api import values

    for name, value in vars(values).items():
        if typing.get_origin(value) is typing.Literal and set(typing.get_args(value)) == set(typing.get_args(hint)):
            return name
    raise TypeError(f"the fixed set {hint!r} is not declared in pulumi_bird.api.values: declare it there")


@cache
def connector_docs() -> dict[str, str]:
    """Property docs of the Connector resource (a lookup returns the same names)."""
    return {f.name: f.doc for f in fields(f"{PACKAGE}:index:Connector")}


def resource_spec(token: str, types: Types) -> dict[str, Any]:
    kind = BY_TOKEN[token]
    names = {f.name: f.key for f in fields(token)}
    all_fields = [dataclasses.replace(f, doc=translate(f.doc, names)) for f in fields(token)]
    optional = output_optional(token)
    inputs = [f for f in all_fields if f.input]
    outputs = [dataclasses.replace(f, optional=optional[f.name]) for f in all_fields]
    spec: dict[str, Any] = {"description": translate(describe(inspect.getdoc(kind.load(kind.name)) or ""), names),
                            **types.object_of(outputs)}
    declared = types.object_of(inputs, as_input=True)
    spec["inputProperties"] = declared["properties"]
    if declared.get("required"):
        spec["requiredInputs"] = declared["required"]
    return spec


def function_spec(name: str, types: Types) -> dict[str, Any]:
    from .. import lookups

    fn = getattr(lookups, name)
    args = function_fields(fn, connector_docs())
    result = type_hints(fn)["return"]
    if typing.get_origin(result) is list:
        item = typing.get_args(result)[0]
        outputs = {"properties": {LIST_RESULT: {"type": "array", "items": types.spec(item),
                                                "description": EXTRA_DOCS[LIST_RESULT]}},
                   "required": [LIST_RESULT]}
    else:
        outputs = types.object_of(docs_in_schema_names(dataclass_fields(result, connector_docs())))
    summary = (inspect.getdoc(fn) or "").split("\n\n")[0]
    return {"description": in_schema_names(describe(summary)), "inputs": types.object_of(docs_in_schema_names(args), as_input=True),
            "outputs": outputs}


@lru_cache(maxsize=1)
def package_schema() -> dict[str, Any]:
    """The whole package schema (built once per process)."""
    types = Types()
    resources = {kind.token: resource_spec(kind.token, types) for kind in RESOURCES}
    functions = {token: function_spec(name, types) for token, name in FUNCTIONS.items()}
    variables = config_properties()
    return {
        "name": PACKAGE,
        "displayName": "Bird",
        "version": _version.__version__,
        "description": "Bird (formerly MessageBird) SMS and voice channels, connectors and webhook subscriptions.",
        "keywords": ["pulumi", "bird", "messagebird", "sms", "voice", "webhooks", "kind/native"],
        "license": "Apache-2.0",
        "homepage": HOMEPAGE,
        "repository": REPOSITORY,
        "config": {"variables": variables},
        "provider": {"description": "The provider of Bird resources: an access key and the default workspace "
                                    "and organization. Each provider instance may name its own account.",
                     "type": "object", "inputProperties": variables},
        "types": types.specs,
        "resources": resources,
        "functions": functions,
        # The Python SDK a `pulumi package add` would generate must not shadow this package (pulumi_bird).
        "language": {"python": {"packageName": "pulumi_bird_native"}},
    }


def schema_json() -> str:
    return json.dumps(package_schema(), indent=2, sort_keys=False)

