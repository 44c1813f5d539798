"""Each resource's properties, declared once.

A resource module declares a :class:`Schema` of :class:`Property` entries; the provider's input names, which
inputs replace and which update in place, the Bird field each input is sent as, the secret inputs and the
``:param`` documentation of the resource class are all derived from it. (The resource's typed ``__init__``
signature stays written out, for IDEs; a test checks that it names exactly the schema's properties.)
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, Iterator, Literal, Mapping, Optional

Change = Literal["replace", "update", "none"]


@dataclass(frozen=True)
class Property:
    """One input of a resource.

    :param name: the input as the user writes it (snake_case).
    :param doc: one sentence or two for the documentation.
    :param bird: the field of Bird's create request it is sent as (camelCase, as on the wire), or
        ``arguments.<name>`` for a template argument; None when it never reaches Bird.
    :param secret: a secret input and output.
    :param change: what changing it does: ``replace`` the object, ``update`` it in place (PATCH, or nothing on
        Bird for an input Bird never sees), or ``none`` at all (inputs that only matter to a create).
    """

    name: str
    doc: str
    bird: Optional[str] = None
    secret: bool = False
    change: Change = "replace"

    @property
    def argument(self) -> Optional[str]:
        """The template argument it is sent as, if any."""
        if self.bird and self.bird.startswith("arguments."):
            return self.bird.split(".", 1)[1]
        return None


class Schema:
    """The ordered properties of one resource."""

    def __init__(self, *properties: Property) -> None:
        self.properties = properties
        self.names: tuple[str, ...] = tuple(p.name for p in properties)
        self.secrets: tuple[str, ...] = tuple(p.name for p in properties if p.secret)
        self.replacing: frozenset[str] = frozenset(p.name for p in properties if p.change == "replace")
        self.updating: frozenset[str] = frozenset(p.name for p in properties if p.change == "update")
        self.create_only: frozenset[str] = frozenset(p.name for p in properties if p.change == "none")
        # template argument -> the input that carries it
        self.arguments: dict[str, str] = {p.argument: p.name for p in properties if p.argument}
        # Bird's top-level request field -> the input that carries it
        self.fields: dict[str, str] = {p.bird: p.name for p in properties if p.bird and not p.argument}

    def __iter__(self) -> Iterator[Property]:
        return iter(self.properties)

    def __getitem__(self, name: str) -> Property:
        return next(p for p in self.properties if p.name == name)

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

    def param_docs(self, width: int = 110) -> str:
        """The ``:param`` lines of the resource's ``__init__`` docstring."""
        lines = []
        for p in self.properties:
            text = p.doc + (" Secret." if p.secret else "")
            text += {"replace": " Changing it replaces the object.", "update": "", "none": ""}[p.change]
            lines.append(textwrap.fill(f":param {p.name}: {text}", width=width, subsequent_indent="    "))
        return "\n".join(lines)


def document(cls: Any, schema: Schema, summary: str = "") -> None:
    """Give ``cls.__init__`` its documentation from ``schema`` (the one place the properties are described)."""
    cls.__init__.__doc__ = (summary + "\n\n" if summary else "") + schema.param_docs()
