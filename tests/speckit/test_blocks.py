"""speckit.blocks finds the blocks markdown-it finds, on every document it accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.speckit import blocks
from bot.speckit.markdown import _front_matter, _parser, decode, from_tokens, load

ROOT = Path(__file__).resolve().parents[2]
SPEC_KIT_FILES = sorted(
    [
        *(ROOT / "examples").rglob("specs/**/*.md"),
        *(ROOT / "tests/fixtures/speckit").rglob("*.md"),
    ]
)

# Line shapes Spec Kit files are made of, and the near misses that change how markdown-it reads
# the lines around them (lazy continuations, list interruptions, table and fence edges).
FRAGMENTS = [
    "",
    "",
    "",
    "text",
    "more text here",
    "**Language/Version**: Python 3.11",
    "**Key**: value | **Other**: `x`",
    "# Title",
    "## Section ##",
    "### [NEEDS CLARIFICATION: x]",
    "#nospace",
    "####### seven",
    "#",
    "## ###",
    "- item",
    "- [ ] T001 [P] task in src/app.py",
    "- [x] done",
    "* star item",
    "+ plus item",
    "-",
    "-     five spaces",
    "1. first",
    "2. second",
    "10) tenth",
    "1234567890. long",
    "3.",
    "| A | B |",
    "|---|:-:|",
    "| --- | --- |",
    "|:--|--:|",
    "a | b",
    "--- | ---",
    "| x \\| y | z |",
    "| only |",
    "|-|",
    "```",
    "```python",
    "````",
    "~~~",
    "``` a`b",
    "<!-- comment -->",
    "<!--",
    "-->",
    "end -->",
    "> quoted text",
    "> **NOTE**: quoted",
    "---",
    "***",
    "_ _ _",
    "- - -",
    "===",
    "--",
    "<div>",
    "<3 text",
    "\\- escaped",
    "    indented four",
]


def _lines(text: str) -> list[str]:
    lines = decode(text).split("\n")
    skip = _front_matter(lines)
    return [""] * skip + lines[skip:]


def _same(text: str) -> bool:
    """Whether the scanner took the document; when it did, its blocks equal markdown-it's."""
    lines = _lines(text)
    try:
        fast = blocks.scan(list(lines))
    except blocks.Unsupported:
        return False
    slow = from_tokens(_parser().parse("\n".join(lines)))
    assert fast.headings == slow.headings
    assert fast.items == slow.items
    assert fast.rows == slow.rows
    assert fast.fences == slow.fences
    assert sorted(fast.hidden) == sorted(slow.hidden)
    return True


@pytest.mark.parametrize("path", SPEC_KIT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_spec_kit_files_take_the_fast_path_and_match(path: Path) -> None:
    assert _same(path.read_text(encoding="utf-8")), f"{path} fell back to markdown-it"


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(FRAGMENTS), st.sampled_from([0, 0, 0, 1, 2, 2, 3, 4, 5, 6])),
        max_size=14,
    ),
    st.booleans(),
)
def test_generated_documents_match_markdown_it(parts: list[tuple[str, int]], newline: bool) -> None:
    text = "\n".join(" " * indent + line for line, indent in parts) + ("\n" if newline else "")
    _same(text)


def test_the_fast_path_is_taken_for_most_generated_shapes() -> None:
    """A guard on the test above: were the scanner to give up on everything, it would prove nothing."""
    taken = sum(_same(text) for text in ("- a\n  - b\n\n| A |\n|---|\n| 1 |\n", "# H\n\n```\nx\n```\n"))
    assert taken == 2


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a\tb\n", "tab"),
        ("    code\n", "indented code"),
        ("Title\n=====\n", "setext heading"),
        ("<div>\nx\n</div>\n", "HTML block"),
        ("> - quoted list\n", "blockquote with structure"),
        ("- item\n  > quote\n", "blockquote inside a list"),
    ],
)
def test_constructs_outside_the_subset_are_left_to_markdown_it(text: str, why: str) -> None:
    with pytest.raises(blocks.Unsupported, match=why):
        blocks.scan(_lines(text))
    doc = load(text, "x.md")  # and load still reads them, through markdown-it
    assert not doc.problems


def test_a_spec_kit_file_is_read_without_importing_markdown_it() -> None:
    spec = ROOT / "examples/taskboard/specs/001-user-tasks/spec.md"
    code = (
        "import sys\n"
        "from bot.speckit.markdown import load\n"
        f"doc = load(open({str(spec)!r}, 'rb').read(), 'spec.md')\n"
        "assert doc.headings and doc.items, doc\n"
        "print('markdown_it' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "False"
