"""The eight headings in order, and the validator a body must pass before it is posted."""

from __future__ import annotations

import re
from typing import NamedTuple

from bot.report.markers import MARKER_PREFIX, marker_of

BODY_LIMIT = 65_536


class Headings(NamedTuple):
    """The eight section headings, in the order the body must have them."""

    summary: str = "## Summary"
    files: str = "## Files Modified/Created"
    code: str = "## Code"
    security: str = "## Security Measures"
    errors: str = "## Error Handling"
    criteria: str = "## Acceptance Criteria"
    env: str = "## Environment Variables"
    follow_ups: str = "## Follow-up Items"


HEADINGS = Headings()


# -- validator ---------------------------------------------------------------------------------------
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")


_H2 = re.compile(r"^ {0,3}##(?:[ \t]|$)")


_COMMENT = re.compile(r"<!--[\s\S]*?-->")


def _sections(text: str) -> tuple[list[tuple[str, list[str]]], bool]:
    """(heading, lines) pairs of the level-2 sections outside code fences; and whether a fence is open."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    fence = ""
    for line in text.split("\n"):
        if fence:
            close = _FENCE_CLOSE.match(line)
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= len(fence):
                fence = ""
        elif (opening := _FENCE_OPEN.match(line)) and not (
            opening.group(1)[0] == "`" and "`" in opening.group(2)
        ):
            fence = opening.group(1)
        elif _H2.match(line):
            sections.append((line.strip().rstrip("#").strip() if line.strip() != "##" else "##", []))
            continue
        sections[-1][1].append(line)
    return sections, bool(fence)


def validate_body(text: str) -> list[str]:
    """Problems that keep a body from being posted; an empty list means it is valid."""
    problems: list[str] = []
    if len(text) > BODY_LIMIT:
        problems.append(f"the body has {len(text):,} characters; GitHub's limit is {BODY_LIMIT:,}")
    sections, open_fence = _sections(text)
    found = [heading for heading, _ in sections[1:]]
    for heading in HEADINGS:
        count = found.count(heading)
        if count == 0:
            problems.append(f"missing heading {heading!r}")
        elif count > 1:
            problems.append(f"heading {heading!r} appears {count} times")
    problems.extend(f"unexpected heading {h!r}" for h in found if h not in HEADINGS)
    order = [h for h in dict.fromkeys(found) if h in HEADINGS]
    if order != sorted(order, key=HEADINGS.index):
        problems.append("headings out of order: " + ", ".join(order))
    for heading, lines in sections[1:]:
        if heading in HEADINGS and not _COMMENT.sub("", "\n".join(lines)).strip():
            problems.append(f"section {heading!r} is empty")
    if open_fence:
        problems.append("a code fence is never closed")
    if MARKER_PREFIX in text and marker_of(text) is None:
        problems.append("the hidden marker is not a readable JSON object")
    return problems
