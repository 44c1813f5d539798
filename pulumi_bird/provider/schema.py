"""Each resource's properties, declared once, each with its whole life (README.md, "One declaration per fact");
a schema that contradicts itself fails on import: :class:`SchemaError`."""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import textwrap
import types
import typing
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any, ForwardRef, Iterator, Literal, Mapping, Optional

import typing_extensions
from typing_extensions import NotRequired, Required

from ..api.values import iso

Change = Literal["replace", "update", "none"]

# How a refresh (and ``get()``, and an adoption) reads a property back from Bird's object:
#   fallback  Bird's value where it shows one; where it shows nothing the state's value stays (Bird leaves out
#             what it was not sent, or does not echo it);
#   exact     Bird always shows it, so what it shows is the truth, even nothing (an empty value read back for an
#             input the program never set stays unset);
#   declared  Bird's value, but only for a program that declares one (left unset, the program has no opinion of
#             it, and a later diff ignores it);
#   keys      a mapping: only the keys the program declared, each with Bird's value where Bird echoes the key
#             (keys Bird adds are ignored); a ``get()``, which declares nothing, takes Bird's mapping whole;
#   never     Bird never shows it (secrets, write-only flags, inputs Bird never sees): the state's value stays.
Echo = Literal["fallback", "exact", "declared", "keys", "never"]


class SchemaError(ValueError):
    """A schema that contradicts itself; raised where it is declared."""


@dataclass(frozen=True)
class Property:
    """What one input or computed output of a resource does, beside its type (``Annotated[T, Property(...)]``);
    README.md ("One declaration per fact") says what each field means. Beside those, ``cleared`` is what PATCH sends
    to unset it (``[]`` for a list) and ``unordered`` marks a list compared as a set. :meth:`Schema.declare` fills in
    ``name``, ``type`` (the value type), ``required``, ``optional`` (the output may be empty), ``computed`` and
    ``values`` (from a ``Literal`` type) from the declaration."""

    doc: str
    _: KW_ONLY
    bird: Optional[str] = None
    secret: bool = False
    change: Change = "replace"
    create: bool = True
    read_from: tuple[str, ...] = ()
    echo: Optional[Echo] = None
    removable: bool = True
    cleared: Any = None
    unordered: bool = False
    default: Any = None
    filled: bool = False
    example: Any = None
    name: str = ""
    type: Any = str
    required: bool = False
    optional: bool = True
    computed: bool = False
    values: tuple[str, ...] = ()

    @property
    def argument(self) -> Optional[str]:
        """The template argument it is sent as, if any."""
        if self.bird and self.bird.startswith("arguments."):
            return self.bird.split(".", 1)[1]
        return None

    @property
    def patchable(self) -> bool:
        """Whether PATCH sends it (an input that updates in place and reaches Bird)."""
        return self.change == "update" and self.bird is not None and not self.computed

    @property
    def paths(self) -> tuple[str, ...]:
        """Where Bird's object shows it."""
        return self.read_from or ((self.bird,) if self.bird else ())

    @property
    def reading(self) -> Echo:
        """How it is read back (:data:`Echo`), with the default filled in."""
        return self.echo or ("fallback" if self.paths else "never")

    def comparable(self, value: Any) -> Any:
        """The value as a diff compares it: an ``unordered`` list as a sorted one, and unset as empty (no filters
        and an empty list of them mean the same)."""
        if self.unordered and (value is None or isinstance(value, list)):
            return sorted(json.dumps(item, sort_keys=True, default=str) for item in value or [])
        return value


class Schema:
    """The ordered properties of one resource: its inputs (``properties``, ``names``) and its computed outputs
    (``computed``, ``outputs``)."""

    def __init__(self, *properties: Property) -> None:
        _refuse_contradictions(properties)
        self.all: tuple[Property, ...] = properties
        self.args: Optional[type] = None  # the TypedDict it was declared with (:meth:`declare`)
        self.properties: tuple[Property, ...] = tuple(p for p in properties if not p.computed)
        self.computed: tuple[Property, ...] = tuple(p for p in properties if p.computed)
        self.names: tuple[str, ...] = tuple(p.name for p in self.properties)
        self.outputs: tuple[str, ...] = tuple(p.name for p in self.computed)
        self.secrets: tuple[str, ...] = tuple(p.name for p in self.properties if p.secret)
        self.patchable: tuple[Property, ...] = tuple(p for p in self.properties if p.patchable)
        # template argument -> the input that carries it
        self.arguments: dict[str, str] = {p.argument: p.name for p in self.properties if p.argument}
        # Bird's top-level create request field -> the input that carries it
        self.fields: dict[str, str] = {p.bird: p.name for p in self.properties if p.bird and not p.argument and p.create}

    @classmethod
    def declare(cls, args: type, outputs: Optional[type] = None) -> Schema:
        """The schema of a resource whose inputs are the ``TypedDict`` ``args`` and whose computed outputs are the
        annotated attributes of ``outputs`` (and of its bases), each ``Annotated[..., Property(...)]``."""
        # Required read from each annotation: under ``from __future__ import annotations`` the class's
        # ``__required_keys__`` cannot see ``Required``.
        total, origin = getattr(args, "__total__", True), typing_extensions.get_origin
        found = [declared(name, hint, required=origin(hint) is Required or (total and origin(hint) is not NotRequired))
                 for name, hint in type_hints(args).items()]
        if outputs is not None:
            found += [declared(name, hint, computed=True) for name, hint in type_hints(outputs).items()]
        schema = cls(*found)
        schema.args = args
        return schema

    def __iter__(self) -> Iterator[Property]:
        return iter(self.properties)

    def __getitem__(self, name: str) -> Property:
        return next(p for p in self.all if p.name == name)

    def collect(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The schema's inputs out of ``values`` (the keyword arguments of a resource's ``__init__``); a name that
        is not an input, or a required input left out, is refused as Python refuses such a call (pyright and mypy
        say the same from the declared ``Args``)."""
        unknown = sorted(set(values) - set(self.names))
        if unknown:
            raise TypeError(f"unexpected keyword argument {unknown[0]!r}: the inputs are {', '.join(self.names)}")
        missing = [p.name for p in self.properties if p.required and p.name not in values]
        if missing:
            raise TypeError(f"missing required keyword argument {missing[0]!r}: set {missing[0]}=...")
        return {name: values.get(name) for name in self.names}

    def request_body(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Bird's create request (wire names) for ``inputs``: each field, and the template arguments gathered
        under ``arguments``; unset inputs are left out."""
        body = {field: inputs.get(name) for field, name in self.fields.items() if inputs.get(name) is not None}
        arguments = {arg: inputs.get(name) for arg, name in self.arguments.items() if inputs.get(name) is not None}
        if self.arguments:
            body["arguments"] = arguments
        return body

    def example(self) -> dict[str, Any]:
        """The required inputs with their examples: the smallest program that passes ``check``."""
        return {p.name: p.example for p in self.properties if p.required}


def type_hints(obj: Any) -> dict[str, Any]:
    """The annotations of a class or function as types, ``Annotated`` metadata kept. ``pulumi.Input`` refers to
    ``Output`` by a string (``Union[T, Awaitable[T], "Output[T]"]``, in pulumi/output.py), so those names are
    given (:func:`value_type` drops that member)."""
    import pulumi.output

    names = {"Output": pulumi.output.Output, "T": pulumi.output.T}
    return typing_extensions.get_type_hints(obj, localns=names, include_extras=True)


def value_type(hint: Any) -> tuple[Any, bool]:
    """(the value type, optional) of an annotation: ``Annotated``, ``Required``, ``NotRequired``, ``Input[...]``,
    ``Output[...]`` and ``Optional[...]`` removed (``Optional[Input[Sequence[str]]]`` -> ``Sequence[str]``, True)."""
    import pulumi

    optional = False
    while True:
        origin, args = typing_extensions.get_origin(hint), typing_extensions.get_args(hint)
        if origin in (typing_extensions.Annotated, Required, NotRequired):
            hint = args[0]
        elif origin in (typing.Union, types.UnionType):  # Optional[T], T | None, Input[T]
            kept = [a for a in args if a is not type(None) and not isinstance(a, ForwardRef)  # Input's "Output[T]"
                    and typing_extensions.get_origin(a) not in (collections.abc.Awaitable, pulumi.Output)]
            optional = optional or type(None) in args
            hint = kept[0] if len(kept) == 1 else Any
        elif origin is pulumi.Output or hint is pulumi.Output:
            hint = args[0] if args else Any
        else:
            return hint, optional


def declared(name: str, hint: Any, *, required: bool = False, computed: bool = False) -> Property:
    """The :class:`Property` of one declared field, with what its annotation says filled in."""
    inner = hint
    while typing_extensions.get_origin(inner) in (Required, NotRequired):
        inner = typing_extensions.get_args(inner)[0]
    facts = [m for m in getattr(inner, "__metadata__", ()) if isinstance(m, Property)]
    if len(facts) != 1:
        raise SchemaError(f"property {name!r}: declare it as Annotated[<type>, Property(...)], once")
    prop = facts[0]
    kind, optional = value_type(hint)
    values = typing_extensions.get_args(kind) if typing_extensions.get_origin(kind) is Literal else ()
    if not computed:
        optional = not (required or prop.filled or prop.default is not None)
    return dataclasses.replace(prop, name=name, type=kind, required=required, optional=optional, computed=computed,
                               values=tuple(values))


def plain(value: Any) -> Any:
    """A value read from a response model as state holds it: models as dicts, timestamps as ISO 8601."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value


def shown(prop: Property, obj: Any) -> Any:
    """What Bird's object shows of ``prop``, as state holds it: the first of its dotted wire paths
    (``number.numberId``) with a value, each step a response model's attribute by its snake_case name, or a
    mapping's key as it is (the models' attributes are named by pydantic's to_camel: to_snake inverts it)."""
    from pydantic.alias_generators import to_snake

    for path in prop.paths:
        value = obj
        for step in path.split("."):
            value = value.get(step) if isinstance(value, Mapping) else getattr(value, to_snake(step), None)
        if value is not None:
            return plain(value)
    return None


def _refuse_contradictions(properties: tuple[Property, ...]) -> None:
    seen: dict[str, Property] = {}
    for p in properties:
        where = f"property {p.name!r}"
        if p.name in seen:
            kinds = sorted({"computed output" if q.computed else "input" for q in (p, seen[p.name])})
            raise SchemaError(f"{where} is declared twice ({' and '.join(kinds)}): give the input another name")
        seen[p.name] = p
        if p.computed and (p.change != "replace" or p.required or p.default is not None or not p.create):
            raise SchemaError(f"{where} is a computed output: it cannot be required, defaulted or changed")
        if not p.create and not p.patchable:
            raise SchemaError(f"{where} is left out of the create request, so only PATCH can set it: change='update'")
        if p.values and p.example is not None and p.example not in p.values:
            raise SchemaError(f"{where}: its example {p.example!r} is not one of its values")
        if p.required and p.example is None:
            raise SchemaError(f"{where} is required: give it an example (the docs and tests use it)")


def document(cls: Any, schema: Schema, summary: str = "") -> None:
    """Give ``cls.__init__`` its documentation, the ``:param`` lines from ``schema`` (the one place the properties
    are described)."""
    lines = [summary + "\n"] if summary else []
    for p in schema.properties:
        text = p.doc + (" Secret." if p.secret else "") + (" Changing it replaces the object." if p.change == "replace" else "")
        lines.append(textwrap.fill(f":param {p.name}: {text}", width=110, subsequent_indent="    "))
    cls.__init__.__doc__ = "\n".join(lines)
