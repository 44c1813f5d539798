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

from .. import _version, lookups
from ..provider import config
from ..provider.schema import Schema, type_hints
from .fields import (
    BY_TOKEN,
    EXTRA_DOCS,
    PACKAGE,
    RESOURCES,
    Field,
    camel,
    dataclass_fields,
    describe,
    field_of,
    fields,
    function_fields,
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
# What a key's property has beside a string type and its description: a number, a default, a secret.
CONFIG_SPECS: dict[str, dict[str, Any]] = {"accessKey": {"secret": True}, "apiUrl": {"default": config.DEFAULT_API_URL},
                                           "getRateLimit": {"type": "number", "default": config.BIRD_GETS_PER_SECOND}}
SECRET_CONFIG = frozenset(key for key, spec in CONFIG_SPECS.items() if spec.get("secret"))

# The lookups of pulumi_bird.lookups served as the package's functions: token -> function name.
FUNCTIONS = {f"{PACKAGE}:index:{camel(name)}": name for name in lookups.READS}
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
    return {config_key(name): {"type": "string", "description": CONFIG_DOCS[config_key(name)],
                               "defaultInfo": {"environment": [env]}, **CONFIG_SPECS.get(config_key(name), {})}
            for name, env in config.ALL_KEYS}


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
            self.specs[token] = {"type": "object", "description": described(cls, schema_names()),
                                 **self.object_of(members, schema_names())}
        return token

    def object_of(self, members: list[Field], names: dict[str, str], *, as_input: bool = False) -> dict[str, Any]:
        """``properties`` and ``required`` of an object made of ``members``, their docs with the property names in
        ``names`` as the schema spells them (:func:`~.fields.translate`)."""
        props = {}
        for m in members:
            props[m.key] = {**self.spec(m.type), "description": translate(m.doc, names)}
            if m.secret:
                props[m.key]["secret"] = True
            if as_input and m.change == "replace":
                props[m.key]["willReplaceOnChanges"] = True
        required = [m.key for m in members if not m.optional]
        return {"properties": props, **({"required": required} if required else {})}


@cache
def schema_names() -> dict[str, str]:
    """Every property name of the package (the resources' properties, the lookups' arguments) -> its schema key:
    what the lookups and types say, in SDKs of every language."""
    found = {f.name: f.key for kind in RESOURCES for f in fields(kind.token)}
    for name in FUNCTIONS.values():
        found.update({f.name: f.key for f in function_fields(getattr(lookups, name), {})})
    return found


def described(obj: Any, names: dict[str, str], summary: bool = False) -> str:
    """The docstring of ``obj`` (its first paragraph if ``summary``) as a schema description in ``names``."""
    doc = inspect.getdoc(obj) or ""
    return translate(describe(doc.split("\n\n")[0] if summary else doc), names)


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
    outputs = [dataclasses.replace(f, optional=f.output_optional) for f in fields(token)]
    inputs = types.object_of([f for f in fields(token) if f.input], names, as_input=True)
    return {"description": described(kind.load(kind.name), names), **types.object_of(outputs, names),
            "inputProperties": inputs["properties"],
            **({"requiredInputs": inputs["required"]} if "required" in inputs else {})}


def function_spec(name: str, types: Types) -> dict[str, Any]:
    fn = getattr(lookups, name)
    result = type_hints(fn)["return"]
    if typing.get_origin(result) is list:
        item = typing.get_args(result)[0]
        outputs = {"properties": {LIST_RESULT: {"type": "array", "items": types.spec(item),
                                                "description": EXTRA_DOCS[LIST_RESULT]}},
                   "required": [LIST_RESULT]}
    else:
        outputs = types.object_of(dataclass_fields(result, connector_docs()), schema_names())
    return {"description": described(fn, schema_names(), summary=True),
            "inputs": types.object_of(function_fields(fn, connector_docs()), schema_names(), as_input=True),
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

