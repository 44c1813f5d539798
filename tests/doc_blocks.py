"""The runnable examples of docs/testing.md, found by their ``<!-- testing:NAME -->`` markers."""

from __future__ import annotations

from pathlib import Path

TESTING_DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"


def doc_block(name: str) -> str:
    """The fenced block right after ``<!-- testing:NAME -->`` in docs/testing.md, as written."""
    text = TESTING_DOC.read_text(encoding="utf-8")
    after = text.split(f"<!-- testing:{name} -->\n", 1)
    assert len(after) == 2, f"docs/testing.md lost its testing:{name} marker"
    fence, rest = after[1].split("\n", 1)
    assert fence == "```python", (name, fence)
    return rest.split("\n```\n", 1)[0] + "\n"
