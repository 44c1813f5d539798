"""Types as a user's IDE sees them: ``mypy --strict`` accepts a program that uses every public name
(tests/typing/user_program.py) and every example, and rejects a program that misuses the API.

The package's own code is judged by pyright in ``make lint``; here mypy treats pulumi_bird as an installed
library (pyproject.toml: ignore_errors for pulumi_bird.*), as it does for a user.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import typing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/__main__.py"))


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def mypy_strict(cache: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--hide-error-context",
         "--no-color-output", "--cache-dir", str(cache), *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_a_program_using_every_public_name_passes_mypy_strict(mypy_cache):
    result = mypy_strict(mypy_cache, ROOT / "tests" / "typing" / "user_program.py")
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_passes_mypy_strict(mypy_cache, example):
    result = mypy_strict(mypy_cache, *sorted(example.glob("*.py")))
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_mypy_sees_the_real_types_and_rejects_misuse(mypy_cache, tmp_path):
    # If pulumi_bird's names were untyped (Any) or not exported, none of these would be reported.
    program = tmp_path / "misuse.py"
    program.write_text(
        "from pulumi_bird import Connector, SmsChannel, WebhookSubscription, event_filter\n"
        "SmsChannel('a', phone_number_id=7, channel_message_type='2fa')\n"
        "WebhookSubscription('w', service='channels', event='e', url='u', event_filters=[event_filter('k', 1)])\n"
        "Connector('c', connector_template_ref='x', security_arguments={'scheme': {'token': 5}})\n"
        "count: int = SmsChannel('b', phone_number_id='p', channel_message_type='2fa').channel_id\n"
        "SmsChannel('d', phone_number_id='p', channel_message_type='2fa', colour='red')\n"
    )
    result = mypy_strict(mypy_cache, program)
    lines = sorted({int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line})
    assert result.returncode == 1 and lines == [2, 3, 4, 5, 6], result.stdout
    assert 'Unexpected keyword argument "colour"' in result.stdout


def test_a_value_outside_a_fixed_set_is_a_mypy_error(mypy_cache):
    # wrong_values.py silences each wrong value with `# type: ignore[...]`; --strict reports an ignore that
    # silences nothing, so this fails as soon as one of those inputs accepts any str.
    result = mypy_strict(mypy_cache, ROOT / "tests" / "typing" / "wrong_values.py")
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_a_value_outside_a_fixed_set_is_a_pyright_error():
    result = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, str(ROOT / "tests" / "typing" / "wrong_values.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0 and "0 errors" in result.stdout, result.stdout + result.stderr


def test_each_literal_type_is_the_schemas_list_of_values():
    """A fixed set of values is declared once: the Literal alias of pulumi_bird.api.values that the resource's Args
    declare is the input's type (what mypy checks) and its schema's ``values`` (what check judges)."""
    import pulumi_bird
    from pulumi_bird.api import values
    from pulumi_bird.plugin.package import literal_name
    from pulumi_bird.provider.schema import type_hints, value_type

    checked = 0
    for name, module in pulumi_bird.RESOURCES.items():
        schema = getattr(importlib.import_module(f"pulumi_bird.{module}"), name).bird_provider.schema
        for prop in schema:
            if prop.values:
                declared = value_type(type_hints(schema.args)[prop.name])[0]  # what mypy reads in Unpack[Args]
                assert typing.get_args(getattr(values, literal_name(declared))) == prop.values, (name, prop.name)
                checked += 1
    assert checked >= 3  # channel_message_type, service, desired_status


def _type_checking_reexports(init: Path) -> set[str]:
    """Names imported as ``from .m import X as X`` under ``if TYPE_CHECKING:`` in ``init``."""
    names: set[str] = set()
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.ImportFrom):
                    names.update(a.name for a in stmt.names if a.asname == a.name)
    return names


def test_public_names_are_reexported_explicitly_and_load_on_first_use():
    import pulumi_bird

    assert pulumi_bird.__all__ == sorted(pulumi_bird._EXPORTS)
    assert _type_checking_reexports(ROOT / "pulumi_bird" / "__init__.py") == set(pulumi_bird.__all__)
    for name in pulumi_bird.__all__:
        value = getattr(pulumi_bird, name)  # the object of that name in the module the table names
        assert value is getattr(importlib.import_module(f"pulumi_bird.{pulumi_bird._EXPORTS[name]}"), name), name
        # a class or function of that name, a Literal alias of fixed values, or a constant (a header's name)
        named = getattr(value, "__name__", None) == name or typing.get_origin(value) is typing.Literal
        assert named or isinstance(value, str), name
    import pulumi_bird.testing

    assert pulumi_bird.testing.__all__ == sorted(pulumi_bird.testing.__all__)
    for name in pulumi_bird.testing.__all__:  # every name resolves, to the object its submodule defines
        value = getattr(pulumi_bird.testing, name)
        assert isinstance(value, str) or value.__module__.startswith("pulumi_bird.testing."), name
    assert _type_checking_reexports(ROOT / "pulumi_bird" / "testing" / "__init__.py") == set(pulumi_bird.testing.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        _ = pulumi_bird.nothing_here
    # `import pulumi_bird` stays cheap: no resource module, and not pulumi itself, until a name is used.
    probe = "import sys, pulumi_bird; print(sorted(m for m in sys.modules if m.startswith(('pulumi', 'pydantic'))))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    # (pulumi_bird._version is the package's one version: a constant that imports nothing)
    assert loaded.stdout.strip() == "['pulumi_bird', 'pulumi_bird._version']", loaded.stderr
    # nor `import pulumi_bird.testing`: not the Pulumi SDK, nor the emulator, until a name is used.
    probe = "import sys, pulumi_bird.testing; print(sorted(m for m in sys.modules if m.startswith('pulumi')))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert loaded.stdout.strip() == "['pulumi_bird', 'pulumi_bird._version', 'pulumi_bird.testing']", loaded.stderr


@pytest.mark.parametrize("module", ["pulumi_bird", "pulumi_bird.testing", "pulumi_bird.emulator"])
def test_the_typed_program_uses_every_public_name(module):
    import importlib

    imported: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / "tests" / "typing" / "user_program.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == module:
            imported.update(a.name for a in node.names)
    assert sorted(set(importlib.import_module(module).__all__) - imported) == []
