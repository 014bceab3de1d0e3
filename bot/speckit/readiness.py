"""Whether a feature can be implemented: clarification markers, template placeholders, checklists."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.speckit.feature import Feature
from bot.speckit.markdown import load
from bot.speckit.model import Marker, Problem
from bot.speckit.spec import MARKER

POLICIES: tuple[str, ...] = ("warn", "refuse", "ignore")

# Exact bracketed placeholders from the spec/plan/tasks/checklist templates of spec-kit v1.0.x.
_EXACT = frozenset({
    "FEATURE NAME", "FEATURE", "###-feature-name", "###-feature", "DATE", "name", "Title",
    "Brief Title", "entity", "Entity", "Entity 1", "Entity 2", "Entity1", "Entity2", "entity1",
    "Service", "link", "Link to spec.md", "REMOVE IF UNUSED", "initial state", "action",
    "expected outcome", "boundary condition", "error scenario", "endpoint/feature", "Current need",
    "Why direct DB access insufficient", "specific problem",
})  # fmt: skip
# Bracketed instructions: prose that starts like a template's guidance, or offers an example.
_INSTRUCTION = re.compile(
    r"^(?:Describe|Explain|Extract from|Gates determined|Document the|Brief description|What it "
    r"represents|Measurable metric|How to verify|Add more|Technology-agnostic|single/web/mobile|"
    r"domain-specific|Summary of|Additional|Key attributes)\b|\be\.g\.",
)
_BRACKET = re.compile(r"(?<![!\\\]])\[([^\[\]\n]{1,160})\](?![(\[])")
_LITERAL = re.compile(r"\$ARGUMENTS\b|\{ARGS\}|\bTXXX\b")
_CONTEXT_MARKER = re.compile(r"NEEDS CLARIFICATION", re.I)


@dataclass(frozen=True)
class Readiness:
    """`ready` is False when `problems` is not empty; `warnings` never block."""

    ready: bool
    problems: list[Problem]
    warnings: list[Problem]


def placeholders(text: bytes | str, path: str = "") -> tuple[Marker, ...]:
    """Template placeholders left in a Markdown file, outside code blocks and HTML comments.

    Precise on purpose: links (`[x](y)`), checkboxes, `[P]`/`[USn]` and the tasks template's own
    `[ID] [P?] [Story]` legend are not placeholders."""
    doc = load(text, path)
    found = []
    for number, line in doc.visible():
        for match in _LITERAL.finditer(line):
            found.append(Marker(match.group(0), number))
        for match in _BRACKET.finditer(line):
            inner = match.group(1).strip()
            if MARKER.match(match.group(0)):
                continue
            caps = re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", inner)
            if inner in _EXACT or caps or _INSTRUCTION.search(inner):
                found.append(Marker(match.group(0), number))
    return tuple(found)


def readiness(feature: Feature, checklists_policy: str = "warn") -> Readiness:
    """Refuse on open clarifications, leftover placeholders, a template constitution or a missing
    spec.md; unchecked checklist items follow `checklists_policy`; parse problems only warn."""
    if checklists_policy not in POLICIES:
        raise ValueError(f"checklists_policy must be one of {', '.join(POLICIES)}")
    problems: list[Problem] = []
    warnings: list[Problem] = list(feature.problems)
    spec, plan, tasks = feature.spec, feature.plan, feature.tasks
    if spec is None:
        problems.append(
            Problem(
                feature.file("spec.md"),
                None,
                "spec.md is missing",
                "run /speckit.specify to write the feature's specification",
                "missing-spec",
            )
        )
    else:
        problems += [_marker(spec.path, m) for m in spec.markers]
        warnings += spec.problems
    if plan is None:
        warnings.append(_missing(feature, "plan.md", "/speckit.plan"))
    else:
        warnings += plan.problems
        for key, value, line in ((f.key, f.value, f.line) for f in plan.technical_context):
            if _CONTEXT_MARKER.search(value):
                what = f"Technical Context '{key}' is still NEEDS CLARIFICATION"
                fix = "decide it (research.md) and write the value in plan.md"
                problems.append(Problem(plan.path, line, what, fix, "needs-clarification"))
        problems += [_marker(plan.path, m) for m in _bracketed(feature, "plan.md")]
    if tasks is None:
        warnings.append(_missing(feature, "tasks.md", "/speckit.tasks"))
    else:
        warnings += tasks.problems
    for rel in ("spec.md", "plan.md", "tasks.md", *_checklist_names(feature)):
        if rel in feature.raw:
            for marker in placeholders(feature.raw[rel], feature.file(rel)):
                problems.append(_placeholder(feature.file(rel), marker))
    constitution = feature.constitution
    if constitution is None:
        warnings.append(
            Problem(
                ".specify/memory/constitution.md",
                None,
                "there is no constitution",
                "run /speckit.constitution to record the project's principles",
                "constitution",
            )
        )
    elif constitution.is_template:
        first = constitution.placeholders[0]
        names = ", ".join(dict.fromkeys(m.text for m in constitution.placeholders[:3]))
        what = f"the constitution is still the unfilled template ({names})"
        fix = "run /speckit.constitution to fill it in"
        problems.append(Problem(constitution.path, first.line, what, fix, "template-constitution"))
    if checklists_policy != "ignore":
        target = problems if checklists_policy == "refuse" else warnings
        for checklist in feature.checklists:
            warnings += checklist.problems
            for item in checklist.open_items:
                label = f"{item.id} " if item.id else ""
                what = f"checklist item {label}is not checked: {item.text}"
                fix = "verify it and mark it [x], or fix the spec so it passes"
                target.append(Problem(checklist.path, item.line, what, fix, "checklist"))
    return Readiness(not problems, problems, warnings)


def _checklist_names(feature: Feature) -> list[str]:
    return sorted(rel for rel in feature.raw if rel.startswith("checklists/") and rel.endswith(".md"))


def _bracketed(feature: Feature, rel: str) -> tuple[Marker, ...]:
    if rel not in feature.raw:
        return ()
    doc = load(feature.raw[rel], feature.file(rel))
    return tuple(Marker(m.group(0), n) for n, text in doc.visible() for m in MARKER.finditer(text))


def _marker(path: str, marker: Marker) -> Problem:
    return Problem(
        path,
        marker.line,
        f"unresolved {marker.text}",
        "answer it (run /speckit.clarify) and remove the marker",
        "needs-clarification",
    )


def _placeholder(path: str, marker: Marker) -> Problem:
    return Problem(
        path,
        marker.line,
        f"template placeholder {marker.text} is still in the file",
        "replace it with the real value, or regenerate the file with its /speckit command",
        "placeholder",
    )


def _missing(feature: Feature, name: str, command: str) -> Problem:
    what = f"{name} is missing"
    return Problem(feature.file(name), None, what, f"run {command} for this feature", "missing-file")
