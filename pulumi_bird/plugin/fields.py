"""The one adapter between the declared schemas and the plugin: every property of a resource as a :class:`Field`.

What a field is comes from the declarations the Python resources already have, nothing is restated here:

- the resource module's ``SCHEMA`` (:class:`~pulumi_bird.provider.schema.Property`: name, doc, secret, change);
- its computed outputs (the schema's computed properties), and the list of resources (``pulumi_bird.RESOURCES``);
- the types and optionality of the resource class (the typed ``__init__`` for inputs, the ``Output`` annotations
  and attribute docstrings of the class for outputs).

Only :func:`field_of` reads ``Property`` attributes, each with ``getattr`` and a default, so that a richer
``Property`` (more attributes) needs a change here and nowhere else in the plugin. The few texts that no
declaration carries yet (documentation of some computed outputs, of the lookups' arguments and of the
configuration keys) are in :data:`EXTRA_DOCS`.
"""

from __future__ import annotations

import ast
import collections.abc
import importlib
import inspect
import itertools
import re
import sys
import textwrap
import typing
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any, Callable, Optional

from .. import RESOURCES as REGISTERED

PACKAGE = "bird"

# Texts no declaration in the resource modules carries: outputs without an attribute docstring, the lookups'
# arguments, the fields of the event filter type, and the configuration keys.
EXTRA_DOCS = {
    "created_at": "When Bird created the object (ISO 8601, UTC).",
    "updated_at": "When Bird last changed the subscription (ISO 8601, UTC).",
    "service": "The Bird service whose events are delivered.",
    "event": "The event delivered.",
    "url": "Where Bird POSTs the events.",
    "template": "Bird's exit-API template name, if any.",
    "with_status": "Also read the channel's readiness (one more request); default true.",
    "template_ref": "Only connectors of this template, e.g. `sms-messagebird:1`.",
    "connectors": "The connectors found.",
    "number": "The phone number as E.164 text, e.g. `+3197010520000` (spaces and dashes are ignored).",
    "key": "The filter: channelId, platformId, channelStatus, interactionType, messageStatus, status, "
    "eventDestination or navigatorId (which ones a service accepts is checked).",
    "value": "The value the filter must match (a channel id for channelId).",
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

    @property
    def key(self) -> str:
        """The property name in the schema and on the wire (camelCase)."""
        return camel(self.name)


def field_of(prop: Any, hint: Any, optional: bool) -> Field:
    """A declared ``Property`` as a :class:`Field` (the only place that reads a ``Property``)."""
    return Field(
        name=prop.name,
        doc=describe(getattr(prop, "doc", "") or ""),
        type=hint,
        optional=optional,
        input=True,
        secret=bool(getattr(prop, "secret", False)),
        change=str(getattr(prop, "change", "replace")),
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
RESOURCES: tuple[ResourceKind, ...] = tuple(ResourceKind(name, f"pulumi_bird.{module}") for name, module in REGISTERED.items())
BY_TOKEN = {kind.token: kind for kind in RESOURCES}


# --- types out of annotations ------------------------------------------------------------------------------


def strip(hint: Any) -> tuple[Any, bool]:
    """(the value type, optional) of an ``Input[...]``, ``Output[...]`` or ``Optional[...]`` annotation."""
    import pulumi

    optional = False
    while True:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is typing.Union:
            kept = [a for a in args if a is not type(None)
                    and typing.get_origin(a) not in (collections.abc.Awaitable, pulumi.Output)]
            optional = optional or type(None) in args
            hint = kept[0] if len(kept) == 1 else Any
        elif origin is pulumi.Output or hint is pulumi.Output:
            hint = args[0] if args else Any
        else:
            return hint, optional


class _Input:
    """Stands for ``pulumi.Input`` while annotations are evaluated: ``Input[T]`` is read as ``T``."""

    def __class_getitem__(cls, item: Any) -> Any:
        return item


def evaluate(annotation: Any, module: str) -> Any:
    """An annotation of this package's source (a string under ``from __future__ import annotations``) as a type."""
    import pulumi

    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    namespace = {**vars(sys.modules[module]), "pulumi": SimpleNamespace(Input=_Input, Output=pulumi.Output)}
    return eval(annotation, namespace)


def hints(obj: Any) -> dict[str, Any]:
    """The evaluated annotations of a function, TypedDict or dataclass of this package."""
    skip = ("opts", "return") if callable(obj) and not isinstance(obj, type) else ()
    return {name: evaluate(a, obj.__module__) for name, a in getattr(obj, "__annotations__", {}).items()
            if name not in skip or (name == "return" and "opts" not in obj.__annotations__)}


def output_annotations(cls: type) -> dict[str, Any]:
    """The evaluated attribute annotations of ``cls`` and its pulumi_bird bases (nearest wins)."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("pulumi_bird"):
            found.update({name: evaluate(a, klass.__module__)
                          for name, a in inspect.get_annotations(klass).items()})
    return found


def attribute_docs(cls: type) -> dict[str, str]:
    """The docstrings under the annotated attributes of ``cls`` and its pulumi_bird bases."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("pulumi_bird"):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body  # type: ignore[attr-defined]
        for node, after in itertools.pairwise(body):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[node.target.id] = describe(after.value.value)
    return docs


def documented(name: str, *sources: dict[str, str]) -> str:
    for source in sources:
        if source.get(name):
            return source[name]
    return EXTRA_DOCS.get(name, "")


@cache
def fields(token: str) -> tuple[Field, ...]:
    """Every property of the resource ``token``: its declared inputs, then its computed outputs."""
    kind = BY_TOKEN[token]
    schema = kind.load("SCHEMA")
    cls = kind.load(kind.name)
    signature = inspect.signature(cls.__init__)
    declared = hints(cls.__init__)
    outputs, docs = output_annotations(cls), attribute_docs(cls)
    result = []
    for prop in schema:
        hint, optional = strip(declared.get(prop.name, str))
        required = signature.parameters[prop.name].default is inspect.Parameter.empty
        result.append(field_of(prop, hint, optional or not required))
    for name in cls.bird_provider.schema.outputs:
        if name in schema.names:  # an input Bird also reports (a Connector's template): declared once, as an input
            continue
        hint, optional = strip(outputs.get(name, Optional[str]))
        result.append(Field(name, documented(name, docs), hint, optional, input=False))
    return tuple(result)


def output_optional(token: str) -> dict[str, bool]:
    """Per property, whether the resource's ``Output`` annotation allows None (inputs: their declaration)."""
    outputs = output_annotations(BY_TOKEN[token].load(BY_TOKEN[token].name))
    return {f.name: strip(outputs[f.name])[1] if f.name in outputs else f.optional for f in fields(token)}


def function_fields(fn: Callable[..., Any], docs: dict[str, str]) -> list[Field]:
    """The arguments of a lookup function as fields (types and defaults from its signature)."""
    declared = hints(fn)
    result = []
    for name, param in inspect.signature(fn).parameters.items():
        hint, optional = strip(declared.get(name, str))
        result.append(Field(name, documented(name, docs), hint, optional or param.default is not param.empty,
                            input=True, change="none"))
    return result


def dataclass_fields(cls: type, docs: dict[str, str]) -> list[Field]:
    """The fields of a dataclass (a lookup's result) as fields, documented by their attribute docstrings, else
    ``docs``."""
    declared, own = hints(cls), attribute_docs(cls)
    result = []
    for name in cls.__dataclass_fields__:  # type: ignore[attr-defined]
        hint, optional = strip(declared[name])
        result.append(Field(name, documented(name, own, docs), hint, optional, input=False))
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
