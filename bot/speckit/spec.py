"""spec.md: header metadata, user stories, scenarios, FR/SC requirements, entities, clarifications."""

from __future__ import annotations

import re

from bot.speckit.markdown import Doc, Heading, Item, load
from bot.speckit.model import (
    Clarification,
    Entity,
    Marker,
    Problem,
    Requirement,
    Scenario,
    Spec,
    Story,
)

_STORY = re.compile(
    r"^User Story\s+(\d{1,6})\s*[-–—:]\s*(.+?)(?:\s*\(\s*Priority\s*:\s*(P\d+)\s*\))?\s*$", re.I
)
_PRIMARY = re.compile(r"^Primary User Story\b", re.I)
_REQUIREMENT = re.compile(r"^(?:\*\*((?:FR|SC)-\d+)(?:\*\*\s*:?|:\*\*)|((?:FR|SC)-\d+)\s*:)\s*(.*)$", re.S)
_ENTITY = re.compile(r"^\*\*(.+?)\*\*\s*(?:\(([^)]*)\))?\s*:?\s*(.*)$", re.S)
_CLARIFICATION = re.compile(r"^Q\s*:\s*(.*?)\s*(?:→|->)\s*A\s*:\s*(.*)$", re.S)
_SESSION = re.compile(r"^Session\s+(.+)$", re.I)
_GWT_BOLD = re.compile(
    r"^\*\*Given\*\*\s*(.*?)\s*,?\s*\*\*When\*\*\s*(.*?)\s*,?\s*\*\*Then\*\*\s*(.*)$", re.S | re.I
)
_GWT_PLAIN = re.compile(r"^Given\s+(.*?),?\s+When\s+(.*?),?\s+Then\s+(.*)$", re.S)
MARKER = re.compile(r"\[\s*NEEDS CLARIFICATION\b[^\]]*\]?", re.I)


def parse_spec(data: bytes | str, path: str = "spec.md") -> Spec:
    """Read spec.md; malformed parts become problems, never exceptions."""
    doc = load(data, path)
    problems = list(doc.problems)
    stories = _stories(doc)
    requirements = _requirements(doc, problems)
    markers = tuple(
        Marker(m.group(0), number) for number, text in doc.visible() for m in MARKER.finditer(text)
    )
    return Spec(
        path=path,
        title=doc.title("Feature Specification"),
        fields=doc.fields(1, doc.preamble_end()),
        stories=stories,
        requirements=requirements,
        entities=_entities(doc),
        clarifications=_clarifications(doc),
        markers=markers,
        problems=tuple(problems),
    )


def _story_headings(doc: Doc) -> list[tuple[Heading, Story]]:
    found = []
    for heading in doc.headings:
        match = _STORY.match(heading.text)
        if match:
            number, title, priority = int(match.group(1)), match.group(2), match.group(3)
            found.append((heading, Story(number, title.strip(), priority, heading.line)))
        elif _PRIMARY.match(heading.text):
            found.append((heading, Story(None, heading.text, None, heading.line)))
    return found


def _owner(doc: Doc, stories: list[tuple[Heading, Story]], item: Item) -> Story | None:
    """The story whose section holds the item; the old format puts its scenarios under a sibling
    `### Acceptance Scenarios` heading, which then belongs to the story just before it."""
    for heading, story in reversed(stories):
        if heading.line < item.line <= heading.end:
            return story
    inner = doc.innermost(item.line)
    if inner is None or not inner.text.lower().startswith("acceptance scenario"):
        return None
    for heading, story in reversed(stories):
        between = [h for h in doc.headings if heading.line < h.line < inner.line and h.level <= 2]
        if heading.line < inner.line and not between:
            return story
    return None


def _scenario(story: Story, item: Item) -> Scenario | None:
    text = item.text
    plain = " ".join(text.replace("**", "").replace("__", "").split())
    if not plain.lower().startswith("given"):
        return None
    match = _GWT_BOLD.match(text) or _GWT_PLAIN.match(plain)
    if match:
        given, when, then = (" ".join(g.replace("**", "").split()) for g in match.groups())
    else:
        given, when, then = plain[5:].strip(), "", ""
    number = item.number if item.number is not None else 0
    return Scenario(story.key, number, given.rstrip(","), when.rstrip(","), then, plain, item.line)


def _stories(doc: Doc) -> tuple[Story, ...]:
    stories = _story_headings(doc)
    scenarios: dict[int, list[Scenario]] = {id(story): [] for _, story in stories}
    for item in doc.items:
        if not item.ordered:
            continue
        owner = _owner(doc, stories, item)
        scenario = _scenario(owner, item) if owner is not None else None
        if owner is not None and scenario is not None:
            scenarios[id(owner)].append(scenario)
    return tuple(Story(s.number, s.title, s.priority, s.line, tuple(scenarios[id(s)])) for _, s in stories)


def _requirements(doc: Doc, problems: list[Problem]) -> tuple[Requirement, ...]:
    found: list[Requirement] = []
    seen: dict[str, int] = {}
    for item in doc.items:
        if item.ordered:
            continue
        match = _REQUIREMENT.match(item.text)
        if not match:
            continue
        req_id = (match.group(1) or match.group(2)).upper()
        if req_id in seen:
            problems.append(
                Problem(
                    doc.path,
                    item.line,
                    f"{req_id} is defined twice (first on line {seen[req_id]})",
                    "give each requirement its own id",
                    "duplicate-id",
                )
            )
            continue
        seen[req_id] = item.line
        found.append(Requirement(req_id, match.group(3).strip(), item.line))
    return tuple(found)


def _entities(doc: Doc) -> tuple[Entity, ...]:
    found = []
    for section in doc.sections("Key Entities"):
        for item in doc.items:
            if section.line < item.line <= section.end and not item.ordered:
                match = _ENTITY.match(item.text)
                if match:
                    name, note, description = (g or "" for g in match.groups())
                    found.append(Entity(name.strip(), description.strip(), item.line, note.strip()))
    return tuple(found)


def _clarifications(doc: Doc) -> tuple[Clarification, ...]:
    found = []
    for item in doc.items:
        match = _CLARIFICATION.match(item.text)
        if not match:
            continue
        inner = doc.innermost(item.line)
        session = _SESSION.match(inner.text) if inner is not None else None
        found.append(
            Clarification(
                match.group(1).strip(),
                match.group(2).strip(),
                item.line,
                session.group(1).strip() if session else None,
            )
        )
    return tuple(found)
