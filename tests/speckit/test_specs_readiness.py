"""Readiness: clarification markers, placeholders, template constitution, checklists, missing files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.speckit.api import Problem, placeholders, read_feature, read_project, readiness
from bot.speckit.sources import read_bytes
from tests.conftest import FIXTURES

MARKER = "[NEEDS CLARIFICATION: should overdue use the user's local time zone?]"
FIX = "answer it (run /speckit.clarify) and remove the marker"
CONSTITUTION_TEMPLATE = """# [PROJECT_NAME] Constitution
<!-- Example: Spec Constitution, TaskFlow Constitution, etc. -->

## Core Principles

### [PRINCIPLE_1_NAME]
<!-- Example: I. Library-First -->
[PRINCIPLE_1_DESCRIPTION]

**Version**: [CONSTITUTION_VERSION] | **Ratified**: [RATIFICATION_DATE]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A writable copy of the shared example repository."""
    return Path(shutil.copytree(FIXTURES / "speckit", tmp_path / "repo"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_both_examples_are_ready_without_warnings(repo: Path) -> None:
    for feature in read_project(repo).features:
        result = readiness(feature)
        assert (result.ready, result.problems, result.warnings) == (True, [], [])


def test_clarification_marker_on_an_fr_line_names_file_and_line(repo: Path) -> None:
    spec = repo / "specs/002-task-due-dates/spec.md"
    edit(spec, "due before the current UTC date.", f"due before the current UTC date {MARKER}.")
    result = readiness(read_feature(repo, "002-task-due-dates", constitution=None))
    assert not result.ready
    assert [str(p) for p in result.problems] == [
        f"specs/002-task-due-dates/spec.md:98: unresolved {MARKER} — {FIX}"
    ]
    assert result.problems[0].code == "needs-clarification"


def test_plan_technical_context_needs_clarification_without_brackets(repo: Path) -> None:
    plan = repo / "specs/002-task-due-dates/plan.md"
    edit(plan, "**Storage**: PostgreSQL 16 (deployed)", "**Storage**: NEEDS CLARIFICATION (deployed)")
    edit(plan, "No violations.", "No violations [NEEDS CLARIFICATION: waiver?].")
    result = readiness(read_feature(repo, "specs/002-task-due-dates"))
    assert [(p.file, p.line, p.code) for p in result.problems] == [
        ("specs/002-task-due-dates/plan.md", 22, "needs-clarification"),
        ("specs/002-task-due-dates/plan.md", 100, "needs-clarification"),
    ]
    assert "Technical Context 'Storage'" in result.problems[0].what


def test_template_constitution_refuses_every_feature(repo: Path) -> None:
    (repo / ".specify/memory/constitution.md").write_text(CONSTITUTION_TEMPLATE, encoding="utf-8")
    project = read_project(repo)
    for feature in project.features:
        result = readiness(feature)
        assert [(p.file, p.line, p.code) for p in result.problems] == [
            (".specify/memory/constitution.md", 1, "template-constitution")
        ]
        assert "[PROJECT_NAME], [PRINCIPLE_1_NAME]" in result.problems[0].what


def test_missing_constitution_only_warns(repo: Path) -> None:
    (repo / ".specify/memory/constitution.md").unlink()
    result = readiness(read_project(repo).features[0])
    assert result.ready
    assert [p.code for p in result.warnings] == ["constitution"]


def test_spec_template_placeholders_are_flagged_with_lines(repo: Path) -> None:
    spec = repo / "specs/001-user-tasks/spec.md"
    edit(spec, "# Feature Specification: User Tasks", "# Feature Specification: [FEATURE NAME]")
    edit(spec, "`001-user-tasks`", "`[###-feature-name]`")
    edit(spec, "**Created**: 2026-01-06", "**Created**: [DATE]")
    edit(spec, 'User description: "Signed-in', 'User description: "$ARGUMENTS Signed-in')
    result = readiness(read_feature(repo, "001-user-tasks"))
    assert [(p.line, p.what) for p in result.problems] == [
        (1, "template placeholder [FEATURE NAME] is still in the file"),
        (3, "template placeholder [###-feature-name] is still in the file"),
        (5, "template placeholder [DATE] is still in the file"),
        (9, "template placeholder $ARGUMENTS is still in the file"),
    ]


def test_placeholders_are_precise_about_legitimate_brackets() -> None:
    text = (
        "## Format: `[ID] [P?] [Story] Description`\n"
        "- **[P]**: Can run in parallel; see [spec.md](./spec.md) and [the plan][plan]\n"
        "- [x] T001 [P] [US1] Install psycopg[binary] and read items[0]\n"
        "- [ ] No [NEEDS CLARIFICATION] markers remain\n"
        "```text\n[FEATURE NAME] inside code is an example\n```\n"
        "<!-- [PROJECT_NAME] in a comment is invisible -->\n"
        "![logo](logo.png) [NOTE] and [1]\n"
        "Real ones: [Brief Title], [e.g., Python 3.11], [Describe the main journey], [SECTION_2_NAME]\n"
    )
    assert [m.text for m in placeholders(text)] == [
        "[Brief Title]",
        "[e.g., Python 3.11]",
        "[Describe the main journey]",
        "[SECTION_2_NAME]",
    ]
    assert {m.line for m in placeholders(text)} == {10}


def test_missing_spec_is_a_problem_and_missing_plan_tasks_are_warnings(repo: Path) -> None:
    (repo / "specs/002-task-due-dates/spec.md").unlink()
    (repo / "specs/002-task-due-dates/tasks.md").unlink()
    result = readiness(read_feature(repo, "002-task-due-dates"))
    assert [str(p) for p in result.problems] == [
        "specs/002-task-due-dates/spec.md: spec.md is missing — run /speckit.specify to write the "
        "feature's specification"
    ]
    assert [(p.file, p.code) for p in result.warnings] == [
        ("specs/002-task-due-dates/tasks.md", "missing-file"),
        (".specify/memory/constitution.md", "constitution"),
    ]


@pytest.mark.parametrize(
    ("policy", "ready", "problems", "warnings"),
    [("warn", True, 0, 1), ("refuse", False, 1, 0), ("ignore", True, 0, 0)],
)
def test_unchecked_checklist_items_follow_the_policy(
    repo: Path, policy: str, ready: bool, problems: int, warnings: int
) -> None:
    checklist = repo / "specs/002-task-due-dates/checklists/requirements.md"
    edit(checklist, "- [x] Scope is clearly bounded", "- [ ] Scope is clearly bounded")
    project = read_project(repo)
    feature = project.feature("002-task-due-dates")
    assert feature is not None
    result = readiness(feature, policy)
    assert (result.ready, len(result.problems), len(result.warnings)) == (ready, problems, warnings)
    for p in result.problems + result.warnings:
        assert str(p).startswith("specs/002-task-due-dates/checklists/requirements.md:22: ")


def test_unknown_policy_is_a_programming_error(repo: Path) -> None:
    with pytest.raises(ValueError, match="warn, refuse, ignore"):
        readiness(read_feature(repo, "001-user-tasks"), "strict")


def test_parse_problems_warn_but_do_not_block(repo: Path) -> None:
    tasks = repo / "specs/001-user-tasks/tasks.md"
    edit(tasks, "- [X] T028 Run", "- [X] T28 Run")
    result = readiness(read_feature(repo, "001-user-tasks"))
    assert result.ready
    assert [(p.line, p.code) for p in result.warnings] == [(126, "task"), (None, "constitution")]


def test_a_contract_that_cannot_be_parsed_warns_with_its_line(repo: Path) -> None:
    contract = repo / "specs/002-task-due-dates/contracts/openapi.yaml"
    contract.write_text("openapi: 3.0.3\ninfo:\n  title: x\npaths: [unclosed\n", encoding="utf-8")
    result = readiness(read_feature(repo, "002-task-due-dates"))
    assert result.ready
    [warning] = [p for p in result.warnings if p.code == "contract"]
    assert (warning.file, warning.line) == ("specs/002-task-due-dates/contracts/openapi.yaml", 5)
    assert "cannot be parsed" in warning.what


def test_problem_renders_with_and_without_line() -> None:
    assert str(Problem("a/spec.md", 42, "what", "fix")) == "a/spec.md:42: what — fix"
    assert str(Problem("a/spec.md", None, "what", "fix")) == "a/spec.md: what — fix"


def test_symlink_leaving_the_repository_is_not_read(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("- **FR-001**: leaked\n", encoding="utf-8")
    target = repo / "specs/001-user-tasks/plan.md"
    target.unlink()
    target.symlink_to(secret)
    feature = read_feature(repo, "001-user-tasks")
    assert feature.plan is None
    assert [(p.file, p.code) for p in feature.problems] == [("specs/001-user-tasks/plan.md", "read")]


def test_a_file_under_a_symlinked_folder_that_leaves_the_repository_is_not_read(
    repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "openapi.yaml").write_text("openapi: 3.0.0\n", encoding="utf-8")
    folder = repo / "specs/001-user-tasks/contracts"
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)
    seen: dict[str, str] = {}
    data, problem = read_bytes(repo, None, "specs/001-user-tasks/contracts/openapi.yaml", resolved=seen)
    assert data is None
    assert problem is not None
    assert problem.code == "read"
    # the same folder, asked again within the same read, is answered from what was resolved
    assert read_bytes(repo, None, "specs/001-user-tasks/contracts/other.yaml", resolved=seen)[1] is not None
    # a file beside it, in a real folder, is read
    data, problem = read_bytes(repo, None, "specs/001-user-tasks/spec.md", resolved=seen)
    assert problem is None
    assert data is not None
    assert b"FR-001" in data


def test_a_symlink_that_stays_inside_the_repository_is_read(repo: Path) -> None:
    target = repo / "specs/001-user-tasks/plan.md"
    kept = repo / "docs-plan.md"
    kept.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to("../../docs-plan.md")
    data, problem = read_bytes(repo, None, "specs/001-user-tasks/plan.md")
    assert problem is None
    assert data == kept.read_bytes()
