"""Each resource's properties, declared once, each with its whole life.

A resource module declares a :class:`Schema` of :class:`Property` entries, inputs and computed outputs alike. The
provider's input names and checks of fixed values, which inputs replace and which update in place (and whether
PATCH sends them), the create request's body, how each is read back from Bird's object (refresh, ``get()`` and
``adopt_id`` all read the same way), the secret inputs and the ``:param`` documentation of the resource class are
all derived from it (see :class:`pulumi_bird.provider.base.BirdProvider`). The resource's typed ``__init__``
signature stays written out, for IDEs; a test checks that it names exactly the schema's inputs.

A schema that contradicts itself (an input and an output of one name, a computed output that replaces, ...) fails
where it is declared, when its module is imported: :class:`SchemaError`.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Literal, Mapping, Optional

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
    """One input or computed output of a resource.

    :param name: the property as the user writes it (snake_case).
    :param doc: one sentence or two for the documentation.
    :param bird: the field of Bird's request it is sent as (camelCase, as on the wire), or ``arguments.<name>``
        for a template argument; None when it never reaches Bird.
    :param secret: a secret input and output.
    :param change: what changing it does: ``replace`` the object, ``update`` it in place (PATCH when it has a
        ``bird`` field, or nothing on Bird for an input Bird never sees), or ``none`` at all (inputs that only
        matter to a create).
    :param computed: an output only (Bird computes it); the program cannot set it.
    :param create: whether the create request carries it (False: only PATCH can set it, e.g. a webhook's status).
    :param read_from: where Bird's object shows it, as dotted wire paths, the first that has a value wins
        (default: its ``bird`` field); e.g. ``("arguments.phoneNumberId", "number.numberId")``.
    :param echo: how it is read back from Bird (see :data:`Echo`); default ``fallback`` for a property sent to
        Bird, ``never`` for one Bird never sees.
    :param removable: False when PATCH cannot unset it, so unsetting it replaces the object.
    :param cleared: what PATCH sends to unset it (e.g. ``[]`` for a list).
    :param unordered: a list whose order means nothing (compared as a set).
    :param values: the only values it may take (derived from its ``Literal`` type: one declaration).
    :param required: the program must set it.
    :param default: the value ``check`` fills in when the program leaves it out.
    :param example: a value that passes ``check``, for the documentation and the tests every resource gets.
    """

    name: str
    doc: str
    bird: Optional[str] = None
    secret: bool = False
    change: Change = "replace"
    computed: bool = False
    create: bool = True
    read_from: tuple[str, ...] = ()
    echo: Optional[Echo] = None
    removable: bool = True
    cleared: Any = None
    unordered: bool = False
    values: tuple[str, ...] = ()
    required: bool = False
    default: Any = None
    example: Any = None

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
        self.properties: tuple[Property, ...] = tuple(p for p in properties if not p.computed)
        self.computed: tuple[Property, ...] = tuple(p for p in properties if p.computed)
        self.names: tuple[str, ...] = tuple(p.name for p in self.properties)
        self.outputs: tuple[str, ...] = tuple(p.name for p in self.computed)
        self.secrets: tuple[str, ...] = tuple(p.name for p in self.properties if p.secret)
        self.replacing: frozenset[str] = frozenset(p.name for p in self.properties if p.change == "replace")
        self.updating: frozenset[str] = frozenset(p.name for p in self.properties if p.change == "update")
        self.create_only: frozenset[str] = frozenset(p.name for p in self.properties if p.change == "none")
        self.patchable: tuple[Property, ...] = tuple(p for p in self.properties if p.patchable)
        # template argument -> the input that carries it
        self.arguments: dict[str, str] = {p.argument: p.name for p in self.properties if p.argument}
        # Bird's top-level create request field -> the input that carries it
        self.fields: dict[str, str] = {
            p.bird: p.name for p in self.properties if p.bird and not p.argument and p.create
        }

    def __iter__(self) -> Iterator[Property]:
        return iter(self.properties)

    def __getitem__(self, name: str) -> Property:
        return next(p for p in self.all if p.name == name)

    def collect(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The schema's inputs out of ``values`` (a resource ``__init__``'s ``locals()``)."""
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

    def param_docs(self, width: int = 110) -> str:
        """The ``:param`` lines of the resource's ``__init__`` docstring."""
        lines = []
        for p in self.properties:
            text = p.doc + (" Secret." if p.secret else "")
            text += {"replace": " Changing it replaces the object.", "update": "", "none": ""}[p.change]
            lines.append(textwrap.fill(f":param {p.name}: {text}", width=width, subsequent_indent="    "))
        return "\n".join(lines)


_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def read_path(obj: Any, path: str) -> Any:
    """The value at a dotted wire path (``number.numberId``) of Bird's object: a response model's attributes by
    their snake_case names, a mapping's keys as they are. None where any step is missing."""
    for step in path.split("."):
        if obj is None:
            return None
        obj = obj.get(step) if isinstance(obj, Mapping) else getattr(obj, _SNAKE.sub("_", step).lower(), None)
    return obj


def plain(value: Any) -> Any:
    """A value read from a response model as state holds it: models as dicts, timestamps as ISO 8601."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value


def shown(prop: Property, obj: Any) -> Any:
    """What Bird's object shows of ``prop`` (the first of its paths with a value), as state holds it."""
    for path in prop.paths:
        value = read_path(obj, path)
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
    """Give ``cls.__init__`` its documentation from ``schema`` (the one place the properties are described)."""
    cls.__init__.__doc__ = (summary + "\n\n" if summary else "") + schema.param_docs()
