"""The one adapter between the declared schemas and the plugin: every property of a resource as a :class:`Field`.

Fields come from each resource module's ``SCHEMA`` (read only by :func:`field_of`) and ``pulumi_bird.RESOURCES``;
the lookups' from their signatures and result dataclasses.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable

from .. import RESOURCES as REGISTERED
from ..provider.schema import type_hints
from ..provider.schema import value_type as strip

PACKAGE = "bird"

# Texts no declaration carries: the lookups' arguments and the list a lookup returns.
EXTRA_DOCS = {
    "with_status": "Also read the channel's readiness (one more request); default true.",
    "template_ref": "Only connectors of this template, e.g. `sms-messagebird:1`.",
    "connectors": "The connectors found.",
    "number": "The phone number as E.164 text, e.g. `+3197010520000` (spaces and dashes are ignored).",
}


def camel(name: str) -> str:
    """``phone_number_id`` -> ``phoneNumberId`` (Pulumi's convention for schema property names)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def describe(text: str) -> str:
    """A docstring fragment as a schema description: Markdown code spans, first letter capitalised."""
    text = re.sub(r":(?:func|class|mod|data|meth):`~?([^`]+)`", r"`\1`", " ".join(text.split()))
    text = text.replace("``", "`")
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Field:
    """One property of a resource, as the plugin and the package schema see it."""

    name: str  # as the Python resource names it (snake_case)
    doc: str
    type: Any  # the Python type (Input/Output/Optional removed)
    optional: bool  # Optional in its declaration
    input: bool  # an input (in the declared schema) or a computed output only
    secret: bool = False
    change: str = "replace"  # replace, update or none (see Property.change)
    output_optional: bool = True  # its output may be empty (an optional input nothing fills in, too)

    @property
    def key(self) -> str:
        """The property name in the schema and on the wire (camelCase)."""
        return camel(self.name)


def field_of(prop: Any) -> Field:
    """A declared ``Property`` as a :class:`Field` (the only place that reads a ``Property``): an input is optional
    where the program may leave it out, a computed output where Bird may leave it empty."""
    return Field(
        name=prop.name,
        doc=describe(prop.doc),
        type=prop.type,
        optional=prop.optional if prop.computed else not prop.required,
        input=not prop.computed,
        secret=prop.secret,
        change=prop.change,
        output_optional=prop.optional,
    )


@dataclass(frozen=True)
class ResourceKind:
    """Where one resource's declarations live (its class names its provider, whose schema has the rest)."""

    name: str  # SmsChannel
    module: str  # pulumi_bird.sms_channel

    @property
    def token(self) -> str:
        return f"{PACKAGE}:index:{self.name}"

    def load(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.module), attribute)

    def new_provider(self) -> Any:
        """A fresh dynamic provider of this resource (it holds nothing, so one per call is cheap)."""
        return self.load(self.name).bird_provider()


# Every resource of the package's one registry (pulumi_bird.RESOURCES), in its order.
RESOURCES = tuple(ResourceKind(name, f"pulumi_bird.{module}") for name, module in REGISTERED.items())
BY_TOKEN = {kind.token: kind for kind in RESOURCES}


def documented(name: str, *sources: dict[str, str]) -> str:
    return next((source[name] for source in sources if source.get(name)), EXTRA_DOCS.get(name, ""))


@cache
def fields(token: str) -> tuple[Field, ...]:
    """Every property of the resource ``token``: its declared inputs, then its computed outputs."""
    schema = BY_TOKEN[token].load("SCHEMA")
    return tuple(field_of(p) for p in (*schema.properties, *schema.computed))


def function_fields(fn: Callable[..., Any], docs: dict[str, str]) -> list[Field]:
    """The arguments of a lookup function as fields (types and defaults from its signature)."""
    declared = type_hints(fn)
    result = []
    for name, param in inspect.signature(fn).parameters.items():
        hint, optional = strip(declared.get(name, str))
        result.append(Field(name, documented(name, docs), hint, optional or param.default is not param.empty,
                            input=True, change="none"))
    return result


def dataclass_fields(cls: type, docs: dict[str, str]) -> list[Field]:
    """The fields of a dataclass (a lookup's result) as fields, documented by their ``doc`` metadata, else
    ``docs``."""
    declared = type_hints(cls)
    result = []
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint, optional = strip(declared[item.name])
        own = {item.name: describe(item.metadata["doc"])} if "doc" in item.metadata else {}
        result.append(Field(item.name, documented(item.name, own, docs), hint, optional, input=False))
    return result


def type_name(cls: type) -> str:
    """The schema token of a TypedDict or dataclass type (``EventFilterArgs`` -> ``bird:index:EventFilter``)."""
    name = cls.__name__
    return f"{PACKAGE}:index:{name[:-4] if name.endswith('Args') else name}"


# Python's spelling of a value a message tells the user to set (``allow_identical=True``) -> the schema's, which is
# how TypeScript and YAML write it (``allowIdentical: true``).
_PYTHON_VALUES = {"True": "true", "False": "false", "None": "null"}


def _setting(key: str, value: str | None) -> str:
    if not value:
        return key
    if value.startswith("'"):
        return f'{key}: "{value[1:-1]}"'
    return f"{key}: {_PYTHON_VALUES[value]}"


def translate(text: str, names: dict[str, str]) -> str:
    """``text`` with every snake_case property name in ``names`` replaced by its camelCase key, and a Python
    assignment of one (``allow_identical=True``, ``adopt_id='<id>'``) written as the schema's languages write it
    (``allowIdentical: true``, ``adoptId: "<id>"``): what a message or description says to a plugin user."""
    for name, key in sorted(names.items(), key=lambda item: -len(item[0])):
        pattern = rf"(?<![\w.]){re.escape(name)}(?:=(True|False|None|'[^'\n]*'))?(?!\w)"
        text = re.sub(pattern, lambda m, key=key: _setting(key, m.group(1)), text)
    return text
