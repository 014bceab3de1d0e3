"""placeholders() scans a whole file at once and finds what a scan line by line, with the
original (look-behind first) bracket pattern, finds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.speckit.api import Marker, placeholders
from bot.speckit.markdown import load
from bot.speckit.readiness import _LITERAL, _is_placeholder, untouched_complexity_rows

ROOT = Path(__file__).resolve().parents[2]
# The bracket pattern as first written; the module's own starts with the `[` so `re` can skip ahead.
REFERENCE_BRACKET = re.compile(r"(?<![!\\\]])\[([^\[\]\n]{1,160})\](?![(\[])")
FILES = sorted([*ROOT.glob("examples/*/specs/**/*.md"), *ROOT.glob("tests/fixtures/speckit/**/*.md")])
PIECES = [
    "[FEATURE NAME]", "[NEEDS CLARIFICATION: x]", "[DATE]", "[###-feature-name]", "$ARGUMENTS",
    "{ARGS}", "TXXX", "[e.g., Python 3.11]", "[SOME_CONSTANT]", "[x](link)", "![img]", "\\[DATE]",
    "[DATE][ref]", "TXXX1", "xTXXX", "$ARGUMENTSx", "{ARGS", "- [ ] task", "[P]",
    "| [Current need] | [Why] |", "## Complexity Tracking",
    "```", "<!-- [DATE] -->", "<!--", "-->", "text", " ", "\n", "\n", "\n\n", "]", "[", "---",
]  # fmt: skip


def line_by_line(text: str) -> tuple[Marker, ...]:
    """The reference: each visible line searched on its own."""
    doc = load(text, "x.md")
    left_as_is = untouched_complexity_rows(doc)
    found = []
    for number, line in doc.visible():
        if number in left_as_is:
            continue
        found += [Marker(m.group(0), number) for m in _LITERAL.finditer(line)]
        found += [Marker(m.group(0), number) for m in REFERENCE_BRACKET.finditer(line) if _is_placeholder(m)]
    return tuple(found)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_same_markers_on_spec_kit_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert placeholders(text, "x.md") == line_by_line(text)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_the_same_markers_on_generated_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert placeholders(text, "x.md") == line_by_line(text)


def test_the_generated_texts_reach_placeholders() -> None:
    """A guard on the test above: these pieces do make markers, on the lines they are on."""
    found = placeholders("a\n[DATE] and $ARGUMENTS\n<!-- [DATE] -->\n[FEATURE]\n", "x.md")
    assert [(m.text, m.line) for m in found] == [("$ARGUMENTS", 2), ("[DATE]", 2), ("[FEATURE]", 4)]
