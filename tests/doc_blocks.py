"""The runnable examples of docs/testing.md and README.md, found by their ``<!-- testing:NAME -->`` markers."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTING_DOC = REPO / "docs" / "testing.md"
README = REPO / "README.md"


def doc_block(name: str, doc: Path = TESTING_DOC) -> str:
    """The fenced block right after ``<!-- testing:NAME -->`` in ``doc`` (docs/testing.md unless told), as written."""
    text = doc.read_text(encoding="utf-8")
    after = text.split(f"<!-- testing:{name} -->\n", 1)
    assert len(after) == 2, f"{doc.name} lost its testing:{name} marker"
    fence, rest = after[1].split("\n", 1)
    assert fence == "```python", (name, fence)
    return rest.split("\n```\n", 1)[0] + "\n"
