"""One test per rule of shared/speckit/PARSING.md, each built from small inline Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bot.speckit.api import (
    FEATURE_DIR_RE,
    Feature,
    delta,
    extract_paths,
    find_features,
    parse_checklist,
    parse_contract,
    parse_plan,
    parse_spec,
    parse_tasks,
    read_feature,
    read_project,
    readiness,
    tick_tasks,
)
from bot.speckit.tasks import _NAME_PART, _NAMES
from tests.conftest import run_git


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


SPEC = """# Feature Specification: Tags

**Feature Branch**: `003-tags`

## Requirements *(mandatory)*

- **FR-001**: Users MUST be able to tag a task.
"""

TASKS = """# Tasks: Tags

## Phase 1: Setup

- [ ] T001 Create backend/src/models/tag.py
"""


def test_rule_01_feature_folders_by_prefix_or_spec_md(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "specs/001-user-tasks/spec.md": SPEC,
            "specs/20260102-093000-tags/spec.md": SPEC,
            "specs/003-no-spec-yet/plan.md": "# Implementation Plan: x\n",
            "specs/copilot/custom-feature/spec.md": SPEC,
            "specs/notes/README.md": "# not a feature\n",
            "specs/README.md": "# index\n",
            ".specify/feature.json": json.dumps({"feature_directory": "specs/999-elsewhere"}),
        },
    )
    assert find_features(repo) == (
        "specs/001-user-tasks",
        "specs/003-no-spec-yet",
        "specs/20260102-093000-tags",
        "specs/copilot/custom-feature",
    )
    assert FEATURE_DIR_RE.match("0001-x")
    assert FEATURE_DIR_RE.match("20260102-093000-tags")
    assert not FEATURE_DIR_RE.match("01-x")
    assert not FEATURE_DIR_RE.match("001-Upper")
    custom = read_feature(repo, "copilot/custom-feature")
    # a feature is named by its own folder (the branch suffix); `relative` says where it sits
    assert (custom.name, custom.relative) == ("custom-feature", "copilot/custom-feature")
    no_spec = read_project(repo).feature("003-no-spec-yet")
    assert no_spec is not None
    assert no_spec.spec is None
    assert not readiness(no_spec).ready


def test_rule_02_ids_restart_per_feature_and_prose_ids_are_not_requirements(tmp_path: Path) -> None:
    other = SPEC.replace("tag a task.", "tag a task; keeps FR-004 and FR-009 of 001-user-tasks.")
    repo = write(
        tmp_path,
        {
            "specs/001-a/spec.md": SPEC,
            "specs/001-a/tasks.md": TASKS,
            "specs/002-b/spec.md": other + "\nFR-004 is referenced in prose only.\n",
            "specs/002-b/tasks.md": TASKS.replace("T001", "T1001"),
        },
    )
    project = read_project(repo)
    a, b = project.features
    assert a.spec is not None
    assert b.spec is not None
    assert [r.id for r in b.spec.requirements] == ["FR-001"]
    assert ("specs/001-a", "FR-001") in a.ids()
    assert ("specs/002-b", "FR-001") in b.ids()
    assert not a.ids() & b.ids()
    assert b.tasks is not None
    assert [t.id for t in b.tasks.all] == ["T1001"]


def test_rule_03_front_matter_is_stripped_and_fences_are_skipped() -> None:
    text = (
        "---\n"
        "\n"
        'description: "Task list"\n'
        "---\n"
        "\n"
        "# Tasks: X\n"
        "\n"
        "## Phase 1: Setup\n"
        "\n"
        "- [ ] T001 Real task in src/a.py\n"
        "\n"
        "```bash\n"
        '- [ ] T002 Task: "Example inside a fence in src/b.py"\n'
        "```\n"
        "~~~\n"
        "- [ ] T003 also fenced\n"
        "~~~\n"
    )
    tasks = parse_tasks(text)
    assert [(t.id, t.line) for t in tasks.all] == [("T001", 10)]
    assert tasks.title == "X"


def test_rule_04_notes_bullet_is_not_a_task() -> None:
    text = (
        "## Phase 1: Setup\n"
        "- [ ] T001 Create src/app.py\n"
        "* [X] **T002**: Bold id with a colon in src/b.py\n"
        "- [ ] Write docs (no task id)\n"
        "- [P] tasks = different files, no dependencies\n"
        "## Notes\n"
        "- [P] tasks = different files, no dependencies\n"
        "- [ ] T003 outside any phase\n"
        "## Progress Tracking\n"
        "- [ ] Phase 0: Research complete\n"
    )
    tasks = parse_tasks(text)
    assert [(t.id, t.done, t.description) for t in tasks.all] == [
        ("T001", False, "Create src/app.py"),
        ("T002", True, "Bold id with a colon in src/b.py"),
    ]
    assert [(p.line, p.code) for p in tasks.problems] == [(8, "task")]
    plan = parse_plan("## Progress Tracking\n- [ ] Phase 0: Research complete\n")
    assert plan.source_tree == ()


def test_rule_05_marker_order_case_and_writing_back_uppercase_x() -> None:
    text = (
        "## Phase 3: User Story 2 - Edit (Priority: P2)\n"
        "- [x] T010 [P] [US2] lower-case done\n"
        "- [X] T011 [US2] upper-case done\n"
        "- [ ] T012 [P] open, parallel, no story\n"
        "- [ ] T013 open, plain\n"
    )
    tasks = parse_tasks(text)
    got = [(t.id, t.done, t.parallel, t.story) for t in tasks.all]
    assert got == [
        ("T010", True, True, 2),
        ("T011", True, False, 2),
        ("T012", False, True, None),
        ("T013", False, False, None),
    ]
    ticked = tick_tasks(text.encode(), ["T012", "T010"])
    assert ticked == text.replace("- [ ] T012", "- [X] T012").encode()


def test_rule_06_phase_numbers_story_titles_mvp_and_convergence() -> None:
    text = (
        "## Phase 3.1: Setup\n- [ ] T001 a\n"
        "## Phase 3: User Story 1 - Sign in (Priority: P1) 🎯 MVP\n- [ ] T002 [US1] b\n"
        "## Phase N: Convergence\n- [ ] T003 c\n"
        "## Phase N: Convergence\n- [ ] T004 d\n"
    )
    phases = parse_tasks(text).phases
    assert [(p.number, p.title, p.story, p.priority, p.mvp) for p in phases] == [
        ("3.1", "Setup", None, None, False),
        ("3", "User Story 1 - Sign in (Priority: P1)", 1, "P1", True),
        ("N", "Convergence", None, None, False),
        ("N", "Convergence", None, None, False),
    ]
    assert [t.id for p in phases for t in p.tasks] == ["T001", "T002", "T003", "T004"]
    assert phases[1].story_title == "Sign in"


def test_rule_07_dependencies_barriers_and_same_file_serialization() -> None:
    text = (
        "## Phase 1: Setup\n"
        "- [X] T001 a in src/a.py\n"
        "## Phase 2: Foundational\n"
        "- [ ] T002 [P] models in src/models.py\n"
        "- [ ] T003 [P] more models in src/models.py\n"
        "- [ ] T004 [P] config in src/config.py\n"
        "## Phase 3: User Story 1 - X (Priority: P1)\n"
        "- [ ] T005 [US1] service in src/service.py (depends on T012, T004)\n"
        "## Dependencies\n"
        "- T002 blocks T004\n"
    )
    tasks = parse_tasks(text)
    t005 = tasks.task("T005")
    assert t005 is not None
    assert t005.depends_on == ("T012", "T004")
    assert t005.paths == ("src/service.py",)
    assert tasks.prose_dependencies == (("T002", "T004"),)
    assert tasks.prerequisites("T002") == {"T001"}
    assert tasks.prerequisites("T003") == {"T001", "T002"}  # same file, although both [P]
    assert tasks.prerequisites("T004") == {"T001", "T002"}  # the prose "blocks" line
    assert tasks.prerequisites("T005") == {"T001", "T002", "T003", "T004", "T012"}
    assert [t.id for t in tasks.runnable()] == ["T002"]
    assert [(p.code, p.line) for p in tasks.problems] == [("dependency", 8)]


def test_rule_08_file_paths_and_placeholders() -> None:
    assert extract_paths(
        "Implement GET /api/tasks (limit/offset, title/description) in `backend/src/api/tasks.py`, "
        "update README.md and backend/tests/{unit,contract}/ per plan.md"
    ) == (
        "backend/src/api/tasks.py",
        "README.md",
        "backend/tests/unit/",
        "backend/tests/contract/",
    )
    assert extract_paths("Configure `docs` and src/x in Dockerfile, then e.g. task.due_date") == (
        "Dockerfile",
    )
    # the known names are found inside quotes and punctuation (a word without `file` is skipped)
    assert extract_paths("Update `Makefile`, Procfile; (Containerfile) and 'Dockerfile'.") == (
        "Makefile",
        "Procfile",
        "Containerfile",
        "Dockerfile",
    )
    assert all(_NAME_PART in name for name in _NAMES)
    template = (
        "## Phase 3: User Story 1 - [Title] (Priority: P1)\n"
        "- [ ] T012 [P] [US1] Create model in src/models/[name].py\n"
        "- [ ] TXXX Documentation updates in docs/\n"
    )
    raw = {"spec.md": SPEC.encode(), "tasks.md": template.encode()}
    feature = Feature("specs/003-x", None, (), parse_spec(SPEC), None, parse_tasks(template), raw=raw)
    assert {(p.file, p.line, p.what.split()[2]) for p in readiness(feature).problems} == {
        ("specs/003-x/tasks.md", 1, "[Title]"),
        ("specs/003-x/tasks.md", 2, "[name]"),
        ("specs/003-x/tasks.md", 3, "TXXX"),
    }


def test_rule_09_heading_annotations_and_emoji_do_not_stop_matching() -> None:
    spec = parse_spec(
        "## User Scenarios & Testing *(mandatory)*\n"
        "### User Story 1 - Tag a task (Priority: P1) 🎯\n"
        "1. **Given** a task, **When** I tag it, **Then** it shows the tag\n"
        "## Requirements *(mandatory)*\n"
        "#### Key Entities *(include if feature involves data)*\n"
        "- **Tag**: a label\n"
    )
    assert [(s.key, s.title, s.priority, len(s.scenarios)) for s in spec.stories] == [
        ("US1", "Tag a task", "P1", 1)
    ]
    assert [e.name for e in spec.entities] == ["Tag"]
    tasks = parse_tasks(
        "### Phase 3: User Story 1 - Tag (Priority: P1) ⚠️\n"
        "#### Tests for User Story 1 (OPTIONAL - only if tests requested) ⚠️\n"
        "- [ ] T001 [US1] test in tests/test_tag.py\n"
    )
    assert [(p.story, [t.id for t in p.tasks]) for p in tasks.phases] == [(1, ["T001"])]
    plan = parse_plan("### Technical Context ✅\n\n**Language/Version**: Python 3.12\n")
    assert plan.context == {"Language/Version": "Python 3.12"}


def test_rule_09_an_ascii_heading_loses_exactly_the_symbols_a_unicode_one_would() -> None:
    """ASCII headings skip the per-character category lookup; they must come out the same."""
    import unicodedata

    from bot.speckit.markdown import clean_heading

    for code in range(128):
        char = chr(code)
        symbol = unicodedata.category(char) in {"So", "Sk", "Cs", "Co", "Cf"}
        expected = "" if symbol or char == "*" else char  # `*` is emphasis, dropped first
        # the non-ASCII twin takes the general path: both must drop the same characters
        assert clean_heading(f"a{char}b") == " ".join(f"a{expected}b".split()), repr(char)
        assert clean_heading(f"a{char}b é") == " ".join(f"a{expected}b é".split()), repr(char)


def test_rule_10_spec_metadata_stories_scenarios_requirements_entities_clarifications() -> None:
    spec = parse_spec(
        "# Feature Specification: Tags\n"
        "\n"
        "**Feature Branch**: `003-tags`  \n"
        "**Created**: 2026-03-01  \n"
        "**Status**: Draft\n"
        "\n"
        "## Clarifications\n"
        "### Session 2026-03-02\n"
        "- Q: Max tags per task? -> A: Ten.\n"
        "## User Scenarios\n"
        "### User Story 2 - Remove a tag (Priority: P3)\n"
        "1. **Given** a tagged task, **When** I remove the tag, **Then** it is gone\n"
        "2. **Given** an untagged task, **When** I remove a tag,\n"
        "   **Then** nothing changes\n"
        "## Requirements\n"
        "- **FR-001**: Users MUST be able to tag.\n"
        "- **SC-001:** Tagging takes under 1 s.\n"
        "### Key Entities\n"
        "- **Tag** (new): a short label\n"
    )
    assert spec.metadata == {"Feature Branch": "003-tags", "Created": "2026-03-01", "Status": "Draft"}
    story = spec.stories[0]
    assert (story.key, story.title, story.priority, story.line) == ("US2", "Remove a tag", "P3", 11)
    second = story.scenarios[1]
    assert (second.key, second.line, second.when, second.then) == (
        "US2-2",
        13,
        "I remove a tag",
        "nothing changes",
    )
    assert [(r.id, r.kind, r.text) for r in spec.requirements] == [
        ("FR-001", "FR", "Users MUST be able to tag."),
        ("SC-001", "SC", "Tagging takes under 1 s."),
    ]
    assert [(e.name, e.note, e.description) for e in spec.entities] == [("Tag", "new", "a short label")]
    clarification = spec.clarifications[0]
    assert (clarification.question, clarification.answer) == ("Max tags per task?", "Ten.")
    assert clarification.session == "2026-03-02"


def test_rule_11_readiness_gates_markers_placeholders_constitution_checklists() -> None:
    spec = SPEC + "- **FR-002**: Tags MUST be [NEEDS CLARIFICATION: case-sensitive?]\n"
    plan = "## Technical Context\n\n**Storage**: NEEDS CLARIFICATION\n"
    checklist = "- [x] CHK001 done\n- [ ] CHK002 Are tag limits specified?\n"
    feature = Feature(
        "specs/003-tags",
        None,
        (),
        parse_spec(spec, "specs/003-tags/spec.md"),
        parse_plan(plan, "specs/003-tags/plan.md"),
        parse_tasks(TASKS, "specs/003-tags/tasks.md"),
        checklists=(parse_checklist(checklist, "specs/003-tags/checklists/ux.md"),),
        raw={"spec.md": spec.encode(), "plan.md": plan.encode(), "checklists/ux.md": checklist.encode()},
    )
    result = readiness(feature)
    assert not result.ready
    assert [(p.file, p.line, p.code) for p in result.problems] == [
        ("specs/003-tags/spec.md", 8, "needs-clarification"),
        ("specs/003-tags/plan.md", 3, "needs-clarification"),
    ]
    assert [(p.line, p.code) for p in result.warnings if p.code == "checklist"] == [(2, "checklist")]
    assert "CHK002" in str(readiness(feature, "refuse").problems[-1])


def test_rule_12_technical_context_keys_vary_and_trees_in_any_style() -> None:
    plan = parse_plan(
        "## Technical Context\n"
        "**Language/Version**: Python 3.13\n"
        "**Message Broker**: none\n"
        "## Project Structure\n"
        "### Source Code (repository root)\n"
        "```\n"
        "app/\n"
        "|-- api/\n"
        "|   `-- tags.py      # NEW\n"
        "`-- models.py        # MODIFIED: tag relation\n"
        "tests/\n"
        "    test_tags.py\n"
        "../outside.py\n"
        "```\n"
    )
    assert plan.context == {"Language/Version": "Python 3.13", "Message Broker": "none"}
    assert [(p.path, p.is_dir, p.annotation, p.line) for p in plan.source_tree] == [
        ("app", True, None, 7),
        ("app/api", True, None, 8),
        ("app/api/tags.py", False, "NEW", 9),
        ("app/models.py", False, "MODIFIED", 10),
        ("tests", True, None, 11),
        ("tests/test_tags.py", False, None, 12),
    ]
    assert [(p.line, p.code) for p in plan.problems] == [(13, "bad-path")]


def test_rule_13_contracts_detected_by_top_level_key_in_any_format() -> None:
    swagger = (
        'swagger: "2.0"\n'
        "paths:\n"
        "  /tags:\n"
        "    post:\n"
        "      parameters:\n"
        "        - {in: body, name: body, schema: {$ref: '#/definitions/Tag'}}\n"
        "      responses: {201: {description: ok, schema: {$ref: '#/definitions/Tag'}}}\n"
        "definitions:\n"
        "  Tag: {type: object, required: [name], properties: {name: {type: string}}}\n"
    )
    contract = parse_contract(swagger, "contracts/tags.yaml")
    assert contract is not None
    assert contract.kind == "swagger"
    post = contract.operation("post", "/tags")
    assert post is not None
    assert (post.line, dict(post.request), dict(post.responses["201"])) == (
        4,
        {"name": "string, required"},
        {"name": "string, required"},
    )
    as_json = json.dumps({"openapi": "3.1.0", "info": {"version": "2"}, "paths": {"/x": {"get": {}}}})
    parsed = parse_contract(as_json, "contracts/api.json")
    assert parsed is not None
    assert [op.key for op in parsed.operations] == ["GET /x"]
    assert parse_contract("asyncapi: 2.6.0\nchannels: {}\n", "contracts/events.yaml") is None
    assert parse_contract("# Notes\n\nfree text", "contracts/README.md") is None
    broken = parse_contract("openapi: 3.0.0\npaths: [unclosed\n", "contracts/broken.yaml")
    assert broken is not None
    assert [p.code for p in broken.problems] == ["contract"]


def test_rule_14_optional_files_may_all_be_missing(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {"specs/004-min/spec.md": SPEC, "specs/004-min/quickstart.md": "Run it.\n"},
    )
    feature = read_feature(repo, "004-min")
    assert (feature.plan, feature.tasks, feature.contracts, feature.checklists) == (None, None, (), ())
    assert [(d.path, d.text) for d in feature.documents] == [("specs/004-min/quickstart.md", "Run it.\n")]
    result = readiness(feature)
    assert result.ready
    assert {p.code for p in result.warnings} == {"missing-file", "constitution"}


def test_rule_15_new_folder_edit_and_tick_only_changes(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({"specs/001-a/spec.md": SPEC, "specs/001-a/tasks.md": TASKS})
    base = run_git(repo, "rev-parse", "HEAD").strip()
    write(repo, {"specs/002-b/spec.md": SPEC})
    tasks = repo / "specs/001-a/tasks.md"
    tasks.write_bytes(tick_tasks(tasks.read_bytes(), ["T001"]))
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "new feature and a tick")
    change = delta(repo, base, "HEAD")
    assert [(f.path, f.status, f.is_work) for f in change.features] == [
        ("specs/001-a", "edited", False),
        ("specs/002-b", "added", True),
    ]
    edited = change.features[0]
    assert (edited.ticked, edited.tasks, edited.requirements) == (("T001",), (), ())


def test_rule_16_crlf_bom_and_emoji_parse_like_lf() -> None:
    text = (
        "# Feature Specification: Émoji ✓\n\n"
        "### User Story 1 - Tick ✗ → done (Priority: P1) 🎯\n\n"
        "1. **Given** ⚠️ a task, **When** ticked, **Then** done ✓\n\n"
        "- **FR-001**: Works → always 🎯\n"
    )
    lf = parse_spec(text)
    crlf = parse_spec(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert lf == crlf
    assert lf.stories[0].title == "Tick → done"  # symbols are heading decoration (rule 9)
    assert lf.requirements[0].text == "Works → always 🎯"
    assert lf.requirements[0].line == 7
    broken = parse_spec(b"# Feature Specification: X\n\n- **FR-001**: bad \xff byte\n")
    assert [(p.line, p.code) for p in broken.problems] == [(3, "encoding")]
    assert broken.requirements[0].text == "bad \ufffd byte"


def test_rule_17_old_formats_primary_story_execution_flow_phase_3_x() -> None:
    spec = parse_spec(
        "# Feature Specification: Old\n\n"
        "**Feature Branch**: `001-old`  \n"
        "**Created**: 2025-08-20  \n"
        "**Status**: Draft  \n"
        "\n"
        "## Execution Flow (main)\n"
        "```\n"
        "1. Parse user description from Input\n"
        '   → If empty: ERROR "No feature description provided"\n'
        "- **FR-999**: not a requirement, it is pseudo-code\n"
        "```\n"
        "## User Scenarios & Testing *(mandatory)*\n"
        "### Primary User Story\n"
        "A user keeps a list.\n"
        "### Acceptance Scenarios\n"
        "1. **Given** an empty list, **When** I add an item, **Then** it is listed\n"
        "2. **Given** one item, **When** I delete it, **Then** the list is empty\n"
        "### Edge Cases\n"
        "1. **Given** nothing, **When** nothing, **Then** this is not a story scenario\n"
        "## Requirements *(mandatory)*\n"
        "- **FR-001**: System MUST keep items.\n"
    )
    assert spec.metadata == {"Feature Branch": "001-old", "Created": "2025-08-20", "Status": "Draft"}
    assert [(s.key, s.priority, [sc.key for sc in s.scenarios]) for s in spec.stories] == [
        ("primary", None, ["primary-1", "primary-2"])
    ]
    assert [r.id for r in spec.requirements] == ["FR-001"]
    tasks = parse_tasks(
        "## Execution Flow (main)\n```\n- [ ] T999 pseudo\n```\n"
        "## Phase 3.1: Setup\n- [ ] T001 Create project structure\n"
        "## Phase 3.2: Tests First (TDD) ⚠️ MUST COMPLETE BEFORE 3.3\n"
        "- [ ] T002 [P] Contract test POST /api/users in tests/contract/test_users_post.py\n"
    )
    assert [(p.number, [(t.id, t.story) for t in p.tasks]) for p in tasks.phases] == [
        ("3.1", [("T001", None)]),
        ("3.2", [("T002", None)]),
    ]
