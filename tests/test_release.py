"""Release hygiene: one version from one source, a changelog that records what each version did to stacks, the
demo's extra, and the editable install that IDEs resolve."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pulumi_bird
from pulumi_bird import _version

ROOT = Path(__file__).resolve().parents[1]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_one_version_from_one_source():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = pyproject.split("\n[project]\n", 1)[1].split("\n[", 1)[0]
    assert 'dynamic = ["version"]' in project and not re.search(r"^version\s*=", project, re.M)
    assert 'version = { attr = "pulumi_bird._version.__version__" }' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", _version.__version__)  # semver, as the plugin's version must be
    assert pulumi_bird.__version__ is _version.__version__
    assert importlib.metadata.version("pulumi-bird") == _version.__version__


def test_the_plugin_schema_takes_the_version_from_the_same_place(monkeypatch):
    from pulumi_bird.plugin import package

    assert package.package_schema()["version"] == _version.__version__
    monkeypatch.setattr(_version, "__version__", "9.8.7")  # the schema reads the one source, not a copy
    package.package_schema.cache_clear()
    try:
        assert package.package_schema()["version"] == "9.8.7"
    finally:
        monkeypatch.undo()
        package.package_schema.cache_clear()


def test_the_changelog_keeps_a_changelog_and_names_the_current_version():
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", CHANGELOG, re.M)
    assert headings[0] == ("Unreleased", "")
    released = [version for version, date in headings[1:]]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) and d for v, d in headings[1:]), headings
    assert _version.__version__ in released, "a release adds its heading when it sets pulumi_bird/_version.py"
    for section in ("Added", "Changed", "Removed", "Fixed"):
        assert f"### {section}" in CHANGELOG
    assert "## Versions" in CHANGELOG and "0.x" in CHANGELOG


def test_the_changelog_names_every_provider_path_a_version_pickled_into_stacks():
    from test_old_stacks import PICKLED_BEFORE

    for path in PICKLED_BEFORE:
        assert f"`{path}`" in CHANGELOG, path


def test_the_demo_extra_needs_nothing_beyond_the_base_dependencies():
    meta = importlib.metadata.metadata("pulumi-bird")
    assert "demo" in (meta.get_all("Provides-Extra") or [])
    assert [r for r in meta.get_all("Requires-Dist") or [] if 'extra == "demo"' in r] == []


def test_make_venv_installs_in_the_editable_mode_ides_resolve_without_setuptools_notices():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = makefile.split("$(VENV)/.installed-%: pyproject.toml\n", 1)[1].split("\n\n", 1)[0]
    assert "PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[$*]' --config-settings editable_mode=compat" in rule


def test_every_relative_link_of_the_readme_and_the_docs_leads_to_a_file_and_heading():
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]
    assert len(pages) > 10
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # an absolute URL
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.exists(), (page.name, target)
            if anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
                slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
                assert anchor in slugs, (page.name, target)
