"""The package's layers, which import-linter checks (the contracts under ``[tool.importlinter]`` in
pyproject.toml; `make lint` runs them too):

* ``pulumi_bird.api`` (Bird's HTTP API) imports no ``pulumi`` module and nothing of the package outside itself;
* the plugin over the resources and lookups, over ``pulumi_bird.provider``, over the api;
* nothing a user's program runs imports the emulator or the test toolkit;
* no import cycle in any package, imports inside functions and under ``if TYPE_CHECKING:`` included, so that
  ``typing.get_type_hints`` resolves the toolkit's annotations at run time.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Literal

import grimp
import pulumi
import typing_extensions
from typing_extensions import Unpack

import pulumi_bird
from helpers import resource_classes
from pulumi_bird.provider.schema import type_hints, value_type

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pulumi_bird"


def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_lint_imports_keeps_every_contract():
    """`lint-imports` as `make lint` runs it: every contract in pyproject.toml checked and kept."""
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    run = subprocess.run([sys.executable, "-c", code, "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in run.stdout


def test_the_api_contract_forbids_every_other_module_of_the_package():
    """A module added to pulumi_bird is outside the api layer, and the api may not import it."""
    (api,) = [c for c in contracts() if c["id"] == "api-alone"]
    siblings = {f"pulumi_bird.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"} | {
        f"pulumi_bird.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    assert set(api["forbidden_modules"]) == {"pulumi"} | siblings - {"pulumi_bird.api"}


def test_the_checked_graph_holds_imports_in_functions_and_under_type_checking():
    """What the contracts see: import-linter's graph (grimp, as configured) has the connector provider's imports
    inside functions, and api.numbers' import of the client under ``if TYPE_CHECKING:``."""
    graph = grimp.build_graph("pulumi_bird", include_external_packages=True, cache_dir=None)
    lazy = graph.get_import_details(importer="pulumi_bird.provider.connectors", imported="pulumi_bird.api.connectors")
    assert lazy and all(line["line_contents"].startswith("from ..api.connectors import") for line in lazy)
    assert graph.direct_import_exists(importer="pulumi_bird.api.numbers", imported="pulumi_bird.api.client")


def public_callables(module) -> list:
    """The module's public functions and classes, and the classes' own methods and properties."""
    found = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            found.append(obj)
        elif inspect.isclass(obj):
            found.append(obj)
            for attr in vars(obj).values():
                attr = attr.fget if isinstance(attr, property) else getattr(attr, "__func__", attr)
                if inspect.isfunction(attr):
                    found.append(attr)
    return found


def test_the_toolkits_annotations_resolve_at_run_time():
    """No name of the testing toolkits' annotations (pulumi_bird.testing, and the engine double in
    tests/engine_double) is left to ``if TYPE_CHECKING:`` (which an import cycle would need): ``typing.get_type_hints``
    resolves every one of the public names of each package and of each of its modules, e.g. the double's
    ``ProgramError.__init__`` and its ``ProviderError``."""
    import importlib
    import pkgutil

    import engine_double
    import pulumi_bird.testing

    modules = []
    for package in (pulumi_bird.testing, engine_double):
        modules += [package] + [importlib.import_module(f"{package.__name__}.{m.name}")
                                for m in pkgutil.iter_modules(package.__path__)]
    checked = [obj for module in modules if hasattr(module, "__all__") for obj in public_callables(module)]
    assert engine_double.ProgramError.__init__ in checked and pulumi_bird.testing.bird_stack in checked
    unresolved = []
    for obj in checked:
        try:
            typing.get_type_hints(obj)
        except NameError as error:
            unresolved.append(f"{obj.__qualname__}: {error}")
    assert unresolved == []


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
