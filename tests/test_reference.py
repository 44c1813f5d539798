"""The README's resource reference is the one the declarations generate (python -m pulumi_bird.reference)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_bird import reference, sms_channel

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_block_is_the_generated_one():
    block = reference.current_block(README.read_text(encoding="utf-8"))
    assert block is not None, "README.md lost its reference markers"
    assert block == reference.markdown(), "README.md's reference is stale: run `python -m pulumi_bird.reference --write`"


def test_every_input_and_computed_output_is_in_it():
    text = reference.markdown()
    for cls, schema, computed in reference._resources():
        section = text.split(f"#### {cls.__name__}\n", 1)[1].split("####", 1)[0]
        for name in [*schema.names, *computed]:
            assert f"| `{name}` |" in section, (cls.__name__, name)
    assert "| `security_arguments` | `Mapping[str, Mapping[str, str]]` | optional | replace | yes |" in text
    assert "| `url` | `str` | required | update in place |" in text
    assert "| `region` | `Optional[str]` |" in text


def test_a_changed_declaration_changes_the_block(monkeypatch):
    before = reference.markdown()
    props = tuple(dataclasses.replace(p, change="update") if p.name == "use_case_id" else p
                  for p in sms_channel.SCHEMA.properties)
    monkeypatch.setattr(sms_channel.SCHEMA, "properties", props)
    after = reference.markdown()
    assert after != before and "| `use_case_id` | `str` | optional | update in place |" in after


def test_write_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{reference.BEGIN}\nold\n{reference.END}\n\nafter\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pulumi_bird.reference", "--write", str(readme)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# x\n\n") and text.endswith("\n\nafter\n") and "old" not in text
    assert reference.current_block(text) == reference.markdown()
    with pytest.raises(ValueError, match="no reference block"):
        reference.replace_block("# nothing here", "x")


@pytest.mark.parametrize("annotation,plain", [
    ("Optional[pulumi.Input[str]]", "str"),
    ("Optional[pulumi.Input[Sequence[pulumi.Input[EventFilterArgs]]]]", "Sequence[EventFilterArgs]"),
    ("pulumi.Input[Mapping[str, pulumi.Input[Mapping[str, pulumi.Input[str]]]]]", "Mapping[str, Mapping[str, str]]"),
    ("pulumi.Output[Optional[str]]", "str"),
])
def test_plain_type(annotation, plain):
    assert reference.plain_type(annotation) == plain
