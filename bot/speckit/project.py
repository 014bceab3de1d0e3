"""Checklists, the constitution and the project standards file."""

from __future__ import annotations

import re

from bot.speckit.markdown import decode, load
from bot.speckit.model import Checklist, ChecklistItem, Constitution, Marker, Standards

CONSTITUTION_PATH = ".specify/memory/constitution.md"
STANDARDS_PATHS = ("backend/CLAUDE.md", "CLAUDE.md", "AGENTS.md")

_CHECK_ITEM = re.compile(r"^\s*[-*+]\s+\[( |x|X)\]\s+(?:\**(CHK\d+)\**:?\s+)?(.*)$")
# The constitution template's tokens are `[ALL_CAPS_SNAKE]`: [PROJECT_NAME], [PRINCIPLE_1_NAME].
_TEMPLATE_TOKEN = re.compile(r"\[([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\]")
_VERSION = re.compile(r"\*\*Version\*\*\s*:\s*`?([^\s|`]+)")


def parse_checklist(data: bytes | str, path: str = "checklist.md") -> Checklist:
    """Every `- [ ]`/`- [x]` line outside code (rule 11); CHK### ids when present."""
    doc = load(data, path)
    items = []
    for number, text in doc.visible():
        match = _CHECK_ITEM.match(text)
        if match:
            box, item_id, rest = match.groups()
            items.append(ChecklistItem(item_id, rest.strip(), box != " ", number))
    return Checklist(path, tuple(items), doc.problems)


def parse_constitution(data: bytes | str, path: str = CONSTITUTION_PATH) -> Constitution:
    """The constitution's title, principle headings, version and leftover template tokens."""
    doc = load(data, path)
    principles: list[str] = []
    for section in doc.sections("Core Principles"):
        principles.extend(
            h.text for h in doc.headings if section.line < h.line <= section.end and h.level > 2
        )
    placeholders = tuple(
        Marker(m.group(0), number) for number, text in doc.visible() for m in _TEMPLATE_TOKEN.finditer(text)
    )
    version = next((m.group(1) for _, text in doc.visible() for m in [_VERSION.search(text)] if m), None)
    title = next((h.text for h in doc.headings if h.level == 1), "")
    return Constitution(
        path=path,
        title=title,
        principles=tuple(principles),
        version=version,
        placeholders=placeholders,
        text=decode(data),
        problems=doc.problems,
    )


def standards(path: str, data: bytes | str) -> Standards:
    """The standards file as text (free-form: CLAUDE.md and AGENTS.md have no structure)."""
    return Standards(path, decode(data))
