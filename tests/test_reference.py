"""The reference pages in docs/api-docs/ are the ones the declarations generate (python tools/reference.py)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pytest

import reference
from pulumi_bird import sms_channel
from pulumi_bird.api.values import ChannelMessageType
from pulumi_bird.webhook_subscription import EventFilterArgs

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_the_committed_pages_are_the_generated_ones():
    generated = reference.pages()
    committed = {str(p.relative_to(DOCS)) for p in (DOCS / "api-docs").glob("*.md")}
    assert committed == set(generated), "docs/api-docs/ has pages the generator does not write, or lacks some"
    for relative, text in generated.items():
        assert (DOCS / relative).read_text(encoding="utf-8") == text, (
            f"docs/{relative} is stale: run `python tools/reference.py --write`")


def test_every_resource_has_a_page_with_every_input_and_computed_output():
    pages = reference.pages()
    for cls, schema in reference._resources():
        page = pages[f"api-docs/{cls.__name__.lower()}.md"]
        assert page.startswith(f"---\ntitle: {cls.__name__}\n") and f"bird:index:{cls.__name__}" in page
        for p in schema.all:  # every one with its meaning
            assert re.search(rf"^\| `{p.name}` \|.*\| [^|]*\w[^|]* \|$", page, re.M), (cls.__name__, p.name)
        assert f"[{cls.__name__}]({cls.__name__.lower()}.md)" in pages["api-docs/_index.md"]
    connector, webhook = pages["api-docs/connector.md"], pages["api-docs/webhooksubscription.md"]
    assert ("| `security_arguments` | `securityArguments` | `Mapping[str, Mapping[str, str]]` | optional | replace | "
            "yes |") in connector
    assert "| `url` | `url` | `str` | required | update in place |" in webhook
    assert "| `region` | `region` | `Optional[str]` |" in connector
    for lookup in ("get_phone_number(", "get_connector_output(", "list_connectors("):
        assert f"| `{lookup}" in pages["api-docs/_index.md"]


def test_each_pages_example_is_a_declaration_that_passes_check():
    from engine_double import ProviderHost, registered_inputs

    examples = {}
    for relative, text in reference.pages().items():
        found = re.findall(r"```python\n(from pulumi_bird import .*?)```", text, re.S)
        if found:
            examples[relative] = found[0]
    assert len(examples) == len(reference._resources())
    config = {"bird:accessKey": "k", "bird:workspaceId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
              "bird:organizationId": "3fa85f64-5717-4562-b3fc-2c963f66afa7"}
    with ProviderHost(config=config) as host:
        for relative, code in examples.items():
            (reg,) = registered_inputs(lambda code=code: exec(code, {})).values()
            assert host.check(reg.urn, reg.inputs).failures == [], relative


def test_a_changed_declaration_changes_the_page(monkeypatch):
    before = reference.pages()["api-docs/smschannel.md"]
    props = tuple(dataclasses.replace(p, change="update") if p.name == "use_case_id" else p
                  for p in sms_channel.SCHEMA.properties)
    monkeypatch.setattr(sms_channel.SCHEMA, "properties", props)
    after = reference.pages()["api-docs/smschannel.md"]
    assert after != before and "| `use_case_id` | `useCaseId` | `str` | optional | update in place |" in after


def test_write_writes_every_page_under_the_directory(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "reference.py"), "--write", str(tmp_path / "docs")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for relative, text in reference.pages().items():
        assert (tmp_path / "docs" / relative).read_text(encoding="utf-8") == text


@pytest.mark.parametrize("annotation,plain", [
    (Optional[pulumi.Input[str]], "str"),
    (Optional[pulumi.Input[Sequence[pulumi.Input[EventFilterArgs]]]], "Sequence[EventFilterArgs]"),
    (pulumi.Input[Mapping[str, pulumi.Input[Mapping[str, pulumi.Input[str]]]]], "Mapping[str, Mapping[str, str]]"),
    (pulumi.Output[Optional[str]], "str"),
    (pulumi.Input[ChannelMessageType], "ChannelMessageType"),
    (Mapping[str, Any], "Mapping[str, Any]"),
])
def test_type_text(annotation, plain):
    assert reference.type_text(annotation) == plain
