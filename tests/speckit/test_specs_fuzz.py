"""Arbitrary text and bytes never make a parser raise: they return values and problems."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.speckit.api import (
    Checklist,
    Constitution,
    Contract,
    Feature,
    Plan,
    Problem,
    Readiness,
    Spec,
    Tasks,
    diff_contracts,
    extract_paths,
    parse_checklist,
    parse_constitution,
    parse_contract,
    parse_plan,
    parse_spec,
    parse_tasks,
    placeholders,
    readiness,
    tick_tasks,
)

FRAGMENTS = [
    "---",
    "description: x",
    "# Feature Specification: [FEATURE NAME]",
    "## Phase 1: Setup",
    "## Phase 3.1: User Story 1 - X (Priority: P1) 🎯 MVP",
    "### User Story 1 - Title (Priority: P1)",
    "### Primary User Story",
    "### Acceptance Scenarios",
    "1. **Given** a, **When** b, **Then** c",
    "2. Given x",
    "- **FR-001**: System MUST [NEEDS CLARIFICATION: what?]",
    "- **SC-001:** fast",
    "### Key Entities *(include if feature involves data)*",
    "- **Task** (changed): thing",
    "- Q: why? → A: because",
    "- [ ] T001 [P] [US1] do src/a.py (depends on T002)",
    "- [X] T002 b `x/y/z`",
    "- [ ] T01 malformed",
    "- [ ] TXXX [name]",
    "- [P] tasks = different files",
    "T008 blocks T009",
    "```",
    "~~~text",
    "<!-- comment [PROJECT_NAME]",
    "-->",
    "## Technical Context",
    "**Language/Version**: NEEDS CLARIFICATION",
    "**Branch**: `[###-feature-name]` | **Date**: [DATE]",
    "### Source Code (repository root)",
    "├── src/  # NEW",
    "│   └── ../x.py # MODIFIED",
    "| Principle | Gate | Status |",
    "|---|---|---|",
    "| I | x | PASS |",
    "> > > - [ ] T003 deep",
    "openapi: 3.0.0",
    "paths: {/x: {get: {responses: {200: {$ref: '#/components/responses/A'}}}}}",
    "components: {responses: {A: {$ref: '#/components/responses/A'}}}",
    "date: 2026-02-30",
    "a: &a [*a]",
    "\t- [x] CHK001 item",
    "$ARGUMENTS",
]
LINE = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40))
TEXT = st.tuples(st.lists(LINE, max_size=30), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans()).map(
    lambda t: ("\ufeff" if t[2] else "") + t[1].join(t[0])
)
DATA = st.one_of(
    TEXT,
    TEXT.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
)


def assert_problems(problems: object) -> None:
    assert isinstance(problems, tuple)
    assert all(isinstance(p, Problem) and str(p) for p in problems)


@settings(max_examples=200, deadline=None)
@given(DATA)
def test_every_parser_returns_values_and_problems_only(data: str | bytes) -> None:
    spec, plan, tasks = parse_spec(data, "s.md"), parse_plan(data, "p.md"), parse_tasks(data, "t.md")
    checklist, constitution = parse_checklist(data, "c.md"), parse_constitution(data, "k.md")
    assert isinstance(spec, Spec)
    assert isinstance(plan, Plan)
    assert isinstance(tasks, Tasks)
    assert isinstance(checklist, Checklist)
    assert isinstance(constitution, Constitution)
    for value in (spec, plan, tasks, checklist, constitution):
        assert_problems(value.problems)
    assert all(t.line >= 1 and t.id.startswith("T") for t in tasks.all)
    for task in tasks.all:
        tasks.prerequisites(task.id)
        extract_paths(task.description)
    tasks.runnable()
    contract = parse_contract(data, "contracts/x.yaml")
    assert contract is None or isinstance(contract, Contract)
    diff_contracts(contract, parse_contract(data, "contracts/x.json"))
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    assert len(tick_tasks(raw, ["T001", "T002", "T003"])) == len(raw)
    placeholders(data)
    feature = Feature(
        "specs/x",
        None,
        (),
        spec,
        plan,
        tasks,
        checklists=(checklist,),
        constitution=constitution,
        raw={"spec.md": raw, "plan.md": raw, "tasks.md": raw, "checklists/c.md": raw},
    )
    result = readiness(feature, "refuse")
    assert isinstance(result, Readiness)
    assert result.ready == (not result.problems)
