"""Readiness against github/spec-kit's current templates: filled as its commands leave them -> ready;
untouched -> not ready, file by file. The templates are copies (tests/fixtures/speckit/SOURCES.md).

A feature is built from each template by replacing only the sections a /speckit command fills in;
every other section (the plan's Complexity Tracking table, the tasks legend and strategy, the
checklists' notes, HTML comments) stays byte for byte what the template holds, so a new template
release is tested by copying it over the old one."""

# The filled sections keep the templates' own long lines (the commands leave those words alone).
# ruff: noqa: E501

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.speckit.api import load_feature, placeholders, read_feature, readiness
from tests.conftest import FIXTURES

TEMPLATES = FIXTURES / "speckit" / "spec-kit-templates"
FEATURE = "specs/003-task-tags"
HEADING = re.compile(r"^#{1,6} ")
COMMENT = re.compile(r"<!--.*?-->\n?", re.S)


def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def installed(text: str) -> str:
    """What `specify init` writes: `__SPECKIT_COMMAND_PLAN__` becomes the command's invocation."""
    return re.sub(r"__SPECKIT_COMMAND_([A-Z_]+)__", lambda m: "/speckit." + m.group(1).lower(), text)


def blocks(text: str) -> list[tuple[str, str]]:
    """(heading line, whole block text) in order; the first block is what precedes any heading."""
    found: list[tuple[str, list[str]]] = [("", [])]
    fence = False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and HEADING.match(line):
            found.append((line.rstrip("\n"), []))
        found[-1][1].append(line)
    return [(head, "".join(lines)) for head, lines in found]


def level(head: str) -> int:
    return len(head) - len(head.lstrip("#")) if head else 0


def fill(text: str, fills: dict[str, str], drop: tuple[str, ...] = ()) -> str:
    """Replace the sections named by their heading line, sub-sections included; their HTML
    comments stay (commands leave them). Sections in `drop` go (a template's sample stories and
    phases); the rest stays as is."""
    out = []
    inside = 0  # the level of a replaced or dropped section whose sub-sections are skipped
    for head, block in blocks(text):
        if inside and level(head) > inside:
            continue
        # a document's title block is only its own header lines, never the whole document
        inside = level(head) if level(head) > 1 and (head in drop or head in fills) else 0
        if head in drop:
            continue
        if head in fills:
            comments = "".join(COMMENT.findall(block))
            new = fills[head]
            first, _, rest = new.partition("\n")
            out.append(f"{first}\n{comments}{rest}" if head else comments + new)
            continue
        out.append(block)
    missing = set(fills) | set(drop)
    missing -= {head for head, _ in blocks(text)}
    assert not missing, f"the template no longer has these headings: {sorted(missing)}"
    return installed("".join(out))


SPEC_FILLS = {
    "# Feature Specification: [FEATURE NAME]": """# Feature Specification: Task Tags

**Feature Branch**: `003-task-tags`

**Created**: 2026-08-22

**Status**: Draft

**Input**: User description: "Signed-in users can tag their tasks and filter their list by tag."

""",
    "### User Story 1 - [Brief Title] (Priority: P1)": """### User Story 1 - Tag a task (Priority: P1)

A signed-in user adds one or more short tags to a task they own.

**Why this priority**: Without tags there is nothing to filter by.

**Independent Test**: Tag a task through the API and read it back with its tags.

**Acceptance Scenarios**:

1. **Given** a task I own, **When** I add the tag "home", **Then** the task lists "home".
2. **Given** a task of another user, **When** I try to tag it, **Then** the API answers 404.

---

""",
    "### User Story 2 - [Brief Title] (Priority: P2)": """### User Story 2 - Filter by tag (Priority: P2)

A signed-in user lists only their tasks that carry a given tag.

**Why this priority**: Filtering is the point of tagging, once tags exist.

**Independent Test**: Tag two of three tasks and list by that tag.

**Acceptance Scenarios**:

1. **Given** two tasks tagged "home" and one untagged, **When** I list by "home", **Then** I see two.

---

""",
    "### Edge Cases": """### Edge Cases

- A tag longer than 32 characters is refused with 422.
- Adding a tag a task already has changes nothing.

""",
    "### Functional Requirements": """### Functional Requirements

- **FR-001**: Users MUST be able to add a tag of 1 to 32 characters to a task they own.
- **FR-002**: Users MUST be able to remove a tag from a task they own.
- **FR-003**: System MUST list a user's tasks filtered by one tag.
- **FR-004**: System MUST answer 404 for tasks of other users.

""",
    "### Key Entities *(include if feature involves data)*": """### Key Entities *(include if feature involves data)*

- **Tag**: a short label owned through its task; unique per task.

""",
    "### Measurable Outcomes": """### Measurable Outcomes

- **SC-001**: A user can tag a task and find it by that tag in under 10 seconds.

""",
    "## Assumptions": """## Assumptions

- Tags are plain text; no colours or hierarchy in this version.
""",
}
SPEC_DROP = ("### User Story 3 - [Brief Title] (Priority: P3)",)

PLAN_FILLS = {
    "# Implementation Plan: [FEATURE]": """# Implementation Plan: Task Tags

**Branch**: `003-task-tags` | **Date**: 2026-08-22 | **Spec**: [spec.md](./spec.md)

**Input**: Feature specification from `/specs/003-task-tags/spec.md`

**Note**: This template is filled in by the `__SPECKIT_COMMAND_PLAN__` command; its definition describes the execution workflow.

""",
    "## Summary": """## Summary

Add a Tag table and tag endpoints under /api/tasks/{id}/tags, owner-scoped like tasks.

""",
    "## Technical Context": """## Technical Context

**Language/Version**: Python 3.12

**Primary Dependencies**: FastAPI, SQLModel

**Storage**: PostgreSQL 16

**Testing**: pytest

**Target Platform**: Linux server

**Project Type**: web-service

**Performance Goals**: 100 req/s per instance

**Constraints**: p95 under 200 ms

**Scale/Scope**: 10k users

""",
    "## Constitution Check": """## Constitution Check

*GATE: Must pass before Phase 0 research. Re-check after Phase 1 design.*

- Every endpoint authenticated and owner-scoped: PASS (the tag routes use the task's owner check).
- Tests first: PASS (contract tests are tasks T003-T004).

""",
    "### Source Code (repository root)": """### Source Code (repository root)

```text
backend/
├── app/models/tag.py        # NEW
├── app/api/routes/tags.py   # NEW
└── tests/api/test_tags.py   # NEW
```

**Structure Decision**: the existing backend/ web application.

""",
}

TASKS_FILLS = {
    "# Tasks: [FEATURE NAME]": """# Tasks: Task Tags

**Input**: Design documents from `/specs/003-task-tags/`

**Prerequisites**: plan.md (required), spec.md (required for user stories), research.md, data-model.md, contracts/

**Tests**: The examples below include test tasks. Tests are OPTIONAL - only include them if explicitly requested in the feature specification.

**Organization**: Tasks are grouped by user story to enable independent implementation and testing of each story.

""",
    "## Phase 1: Setup (Shared Infrastructure)": """## Phase 1: Setup (Shared Infrastructure)

- [ ] T001 Create the Tag model in backend/app/models/tag.py

---

""",
    "## Phase 2: Foundational (Blocking Prerequisites)": """## Phase 2: Foundational (Blocking Prerequisites)

- [ ] T002 Add the Alembic migration for the tag table in backend/app/alembic/versions/

---

""",
    "## Phase 3: User Story 1 - [Title] (Priority: P1) 🎯 MVP": """## Phase 3: User Story 1 - Tag a task (Priority: P1) 🎯 MVP

**Goal**: Users tag their own tasks.

**Independent Test**: Tag a task and read it back.

- [ ] T003 [P] [US1] Contract test for POST /api/tasks/{id}/tags in backend/tests/api/test_tags.py
- [ ] T004 [US1] Implement the tag routes in backend/app/api/routes/tags.py (depends on T001, T003)

---

""",
    "## Phase 4: User Story 2 - [Title] (Priority: P2)": """## Phase 4: User Story 2 - Filter by tag (Priority: P2)

**Goal**: Users list their tasks by tag.

**Independent Test**: List by a tag two of three tasks carry.

- [ ] T005 [US2] Add the tag filter to GET /api/tasks in backend/app/api/routes/tasks.py

---

""",
    "## Phase N: Polish & Cross-Cutting Concerns": """## Phase N: Polish & Cross-Cutting Concerns

- [ ] T006 Run quickstart.md validation

---

""",
}
TASKS_DROP = ("## Phase 5: User Story 3 - [Title] (Priority: P3)",)

CHECKLIST_FILLS = {
    "# [CHECKLIST TYPE] Checklist: [FEATURE NAME]": """# Security Checklist: Task Tags

**Purpose**: Requirements quality of the owner scoping of tags
**Created**: 2026-08-22
**Feature**: [spec.md](../spec.md)

**Note**: This custom checklist is generated by the `__SPECKIT_COMMAND_CHECKLIST__` command based on feature context and requirements.

""",
    "## [Category 1]": """## Ownership

- [x] CHK001 Is the answer for another user's task specified (404, not 403)? [Spec §FR-004]
- [x] CHK002 Are tag limits specified? [Spec §FR-001]

""",
    "## [Category 2]": """## Validation

- [x] CHK003 Is the response to an over-long tag specified? [Edge Cases]

""",
}

REQUIREMENTS_FILLS = {
    "# Specification Quality Checklist: [FEATURE NAME]": """# Specification Quality Checklist: Task Tags

**Purpose**: Validate specification completeness and quality before proceeding to planning
**Created**: 2026-08-22
**Feature**: [spec.md](../spec.md)

""",
}

CONSTITUTION = """# Taskboard Constitution

## Core Principles

### I. Every endpoint is authenticated
Routes require a signed-in user unless the spec names them public.

### II. Tests first
Every requirement has a test that failed before the code existed.

## Governance

Amendments need a reviewed pull request.

**Version**: 1.0.0 | **Ratified**: 2026-01-06 | **Last Amended**: 2026-01-06
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def as_spec_kit_leaves_it(root: Path) -> Path:
    requirements = template("requirements-checklist.md").replace("- [ ]", "- [x]")
    return write(
        root,
        {
            f"{FEATURE}/spec.md": fill(template("spec-template.md"), SPEC_FILLS, SPEC_DROP),
            f"{FEATURE}/plan.md": fill(template("plan-template.md"), PLAN_FILLS),
            f"{FEATURE}/tasks.md": fill(template("tasks-template.md"), TASKS_FILLS, TASKS_DROP),
            f"{FEATURE}/checklists/security.md": fill(template("checklist-template.md"), CHECKLIST_FILLS),
            f"{FEATURE}/checklists/requirements.md": fill(requirements, REQUIREMENTS_FILLS),
            ".specify/memory/constitution.md": CONSTITUTION,
        },
    )


def section(text: str, heading: str) -> str:
    return next(block for head, block in blocks(text) if head == heading)


def test_a_feature_as_spec_kit_leaves_it_is_ready(tmp_path: Path) -> None:
    repo = as_spec_kit_leaves_it(tmp_path)
    feature = load_feature(repo, "003-task-tags")
    result = readiness(feature, "refuse")
    assert (result.ready, result.problems, result.warnings) == (True, [], [])
    # everything the commands fill was read: stories, requirements, every task, both checklists
    assert feature.spec is not None
    assert feature.tasks is not None
    assert [s.title for s in feature.spec.stories] == ["Tag a task", "Filter by tag"]
    assert [r.id for r in feature.spec.requirements] == ["FR-001", "FR-002", "FR-003", "FR-004", "SC-001"]
    assert [t.id for t in feature.tasks.all] == [f"T00{i}" for i in range(1, 7)]
    assert sorted(len(c.items) for c in feature.checklists) == [3, 16]


def test_the_untouched_complexity_tracking_table_is_kept_byte_for_byte(tmp_path: Path) -> None:
    """The honest half of the test above: the table really is the template's, placeholders and all."""
    plan = (as_spec_kit_leaves_it(tmp_path) / FEATURE / "plan.md").read_text(encoding="utf-8")
    kept = section(plan, "## Complexity Tracking")
    assert kept == section(template("plan-template.md"), "## Complexity Tracking")
    assert "Fill ONLY if Constitution Check has violations" in kept
    assert "[e.g., 4th project]" in kept
    assert "[specific problem]" in kept


def test_a_complexity_row_being_filled_in_still_counts_its_placeholders() -> None:
    table = section(template("plan-template.md"), "## Complexity Tracking")
    started = table.replace("| [e.g., 4th project] |", "| A fourth project |")
    assert placeholders(table) == ()
    # a half-filled row must not pass: its leftover cells are placeholders again
    assert [m.text for m in placeholders(started)] == ["[current need]", "[why 3 projects insufficient]"]


@pytest.mark.parametrize(
    ("name", "must_flag"),
    [
        ("spec-template.md", {"[FEATURE NAME]", "[###-feature-name]", "[DATE]", "$ARGUMENTS"}),
        ("plan-template.md", {"[FEATURE]", "[###-feature-name]", "[DATE]"}),
        ("tasks-template.md", {"[FEATURE NAME]", "[###-feature-name]", "TXXX"}),
        ("checklist-template.md", {"[CHECKLIST TYPE]", "[FEATURE NAME]", "[DATE]"}),
        ("requirements-checklist.md", {"[FEATURE NAME]", "[DATE]", "[Link to spec.md]"}),
    ],
)
def test_each_untouched_template_is_caught(name: str, must_flag: set[str]) -> None:
    found = {m.text for m in placeholders(installed(template(name)))}
    assert must_flag <= found, must_flag - found


def test_the_untouched_templates_as_a_feature_are_not_ready(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            f"{FEATURE}/spec.md": installed(template("spec-template.md")),
            f"{FEATURE}/plan.md": installed(template("plan-template.md")),
            f"{FEATURE}/tasks.md": installed(template("tasks-template.md")),
            f"{FEATURE}/checklists/security.md": installed(template("checklist-template.md")),
            ".specify/memory/constitution.md": template("constitution-template.md"),
        },
    )
    result = readiness(read_feature(repo, "003-task-tags", constitution=None), "refuse")
    assert not result.ready
    files = {p.file for p in result.problems}
    assert {
        f"{FEATURE}/spec.md",
        f"{FEATURE}/plan.md",
        f"{FEATURE}/tasks.md",
        f"{FEATURE}/checklists/security.md",
    } <= files
    # the spec template's own examples of unclear requirements count as open clarifications
    assert any(p.code == "needs-clarification" and p.file.endswith("spec.md") for p in result.problems)
    # ...and nothing in the untouched Complexity Tracking table is among the plan's problems
    plan = (repo / FEATURE / "plan.md").read_text(encoding="utf-8")
    table_start = plan.splitlines().index("## Complexity Tracking") + 1
    assert all(p.line is None or p.line < table_start for p in result.problems if p.file.endswith("plan.md"))


def test_the_constitution_template_refuses_the_feature(tmp_path: Path) -> None:
    repo = as_spec_kit_leaves_it(tmp_path)
    (repo / ".specify/memory/constitution.md").write_text(template("constitution-template.md"))
    result = readiness(load_feature(repo, "003-task-tags"))
    assert [p.code for p in result.problems] == ["template-constitution"]
