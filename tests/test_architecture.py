"""The package's layers, checked on its static import graph (imports inside functions included, imports under
``if TYPE_CHECKING:`` left out since they never run):

* no import cycles among the package's modules;
* ``pulumi_bird.api`` (Bird's HTTP API) reaches no ``pulumi`` module, directly or through other modules;
* ``pulumi_bird.provider`` and the resource modules never reach the emulator or the test toolkit.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any, Literal

import pulumi
import typing_extensions
from typing_extensions import Unpack

import pulumi_bird
from helpers import resource_classes
from pulumi_bird.provider.schema import type_hints, value_type

PACKAGE = Path(__file__).resolve().parent.parent / "pulumi_bird"
ROOT = "pulumi_bird"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(tree: ast.AST):
    """Every import node that can run (skipping the bodies of ``if TYPE_CHECKING:``)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def graph(*, parents: bool = True) -> dict[str, set[str]]:
    """module -> the modules it imports (package modules by full name; others by their top-level name).

    ``parents``: count that importing ``a.b.c`` runs ``a`` and ``a.b`` first. Those implicit edges matter for what
    a module reaches, but not for cycles: a package's ``__init__`` importing its own submodules is no cycle."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets: set[str] = set()
        for node in runtime_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:  # `from . import errors` imports a module; `from .x import y` imports x
                candidate = f"{base}.{alias.name}"
                targets.add(candidate if candidate in paths else base)
        resolved = set()
        for target in targets:
            if target.split(".")[0] == ROOT:
                while target not in paths and "." in target:  # pulumi_bird.x.y where y is a name in x
                    target = target.rsplit(".", 1)[0]
                resolved.add(target)
                # importing a submodule runs its packages' __init__ first
                parent = target.rsplit(".", 1)[0] if parents and "." in target else None
                while parent and parent != name:
                    resolved.add(parent)
                    parent = parent.rsplit(".", 1)[0] if "." in parent else None
            else:
                resolved.add(target.split(".")[0])
        if parents and "." in name:  # and this module's own packages run before it
            resolved.add(name.rsplit(".", 1)[0])
        resolved.discard(name)
        edges[name] = resolved
    return edges


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def package_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one package module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_lazy_imports():
    edges = graph()
    assert "pulumi_bird.api.client" in edges and "requests" in edges["pulumi_bird.api.client"]
    # the connector provider imports its finders inside functions: those edges count
    assert "pulumi_bird.api.connectors" in edges["pulumi_bird.provider.connectors"]


def test_no_import_cycles():
    assert package_cycles(graph(parents=False)) == []


def test_the_api_layer_reaches_no_pulumi_module():
    edges = graph()
    api = [m for m in edges if m == "pulumi_bird.api" or m.startswith("pulumi_bird.api.")]
    assert len(api) > 5
    for module in api:
        reached = reachable(edges, module)
        assert "pulumi" not in reached, f"{module} reaches pulumi through {sorted(reached & set(edges))}"
        # pulumi_bird._version (reached through the package's __init__) is a constant that imports nothing.
        assert not [m for m in reached if m.startswith("pulumi_bird.") and not m.startswith("pulumi_bird.api")
                    and m != "pulumi_bird._version"], f"{module} reaches outside the api layer"


def test_the_provider_layer_and_resources_never_reach_the_emulator_or_the_toolkit():
    edges = graph()
    users = [m for m in edges if m.startswith("pulumi_bird.provider")] + [
        *(f"pulumi_bird.{module}" for module in pulumi_bird.RESOURCES.values()), "pulumi_bird.lookups"]
    for module in users:
        reached = reachable(edges, module)
        assert not [m for m in reached if m.startswith(("pulumi_bird.emulator", "pulumi_bird.testing"))], module


# --- one schema per resource ------------------------------------------------------------------------------------


def test_every_resource_module_is_registered():
    """A resource module (one that defines a BirdResource subclass) that is missing from pulumi_bird.RESOURCES
    would be missed by the exports and by every test that covers all resources."""
    defining = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", getattr(base, "attr", "")) in ("BirdResource", "ConnectorResource") for base in node.bases
            ):
                defining.add((node.name, path.stem))
    assert defining == set(pulumi_bird.RESOURCES.items())


def own_annotations(cls: type) -> dict[str, Any]:
    """The attribute types ``cls`` and its pulumi_bird bases declare (nearest wins), resolved in their modules."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("pulumi_bird"):
            alone = type(klass.__name__, (), {"__annotations__": inspect.get_annotations(klass),
                                              "__module__": klass.__module__})
            found.update(type_hints(alone))
    return found


def test_each_resource_takes_exactly_its_declared_args():
    for cls in resource_classes():
        schema = cls.bird_provider.schema
        assert list(inspect.signature(cls.__init__).parameters) == ["self", "resource_name", "opts", "args"]
        assert type_hints(cls.__init__)["args"] == Unpack[schema.args], cls.__name__  # what pyright and mypy see
        assert tuple(type_hints(schema.args)) == schema.names, cls.__name__
        for name in schema.names:  # and the documentation comes from the schema
            assert f":param {name}: {schema[name].doc[:20]}" in cls.__init__.__doc__


def test_each_output_attribute_agrees_with_its_declaration():
    """Every input and computed output is an ``Output`` attribute of the resource class (for pyright and mypy), of
    the declared type, optional exactly where the declaration says the output may be empty."""
    for cls in resource_classes():
        attributes = own_annotations(cls)
        for p in cls.bird_provider.schema.all:
            assert p.name in attributes, f"{cls.__name__}.{p.name} is not an Output attribute"
            hint = typing_extensions.get_args(attributes[p.name])[0] if p.computed else attributes[p.name]
            assert typing_extensions.get_origin(hint) is pulumi.Output, f"{cls.__name__}.{p.name}"
            kind, optional = value_type(hint)
            assert optional == p.optional, f"{cls.__name__}.{p.name}"
            simple = isinstance(p.type, type) and not typing_extensions.is_typeddict(p.type)
            if simple or typing_extensions.get_origin(p.type) is Literal:
                assert kind == p.type, f"{cls.__name__}.{p.name}"


def test_importing_the_resources_loads_neither_requests_nor_pydantic():
    """A program imports the resource classes at start-up; the client and its models load on first use."""
    import subprocess
    import sys

    modules = ", ".join(f"pulumi_bird.{m}" for m in pulumi_bird.RESOURCES.values())
    code = (f"import sys; import {modules}, pulumi_bird.lookups; "
            "print(sorted(m for m in ('requests', 'pydantic', 'pulumi_bird.api.client', 'pulumi_bird.api.models') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
