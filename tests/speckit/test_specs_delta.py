"""Delta on a real git repository: new, edited, ticked, deleted features and contract diffs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.git import ZERO_SHA
from bot.speckit.api import SpecError, delta, diff_contracts, parse_contract, tick_tasks
from tests.conftest import FIXTURES, run_git

SPECKIT = FIXTURES / "speckit"
F2 = "specs/002-task-due-dates"


def commit(repo: Path, message: str) -> str:
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", message)
    return run_git(repo, "rev-parse", "HEAD").strip()


def edit(path: Path, old: str, new: str) -> None:
    data = path.read_bytes()
    assert old.encode() in data
    path.write_bytes(data.replace(old.encode(), new.encode(), 1))


@pytest.fixture
def repo(git_repo: Callable[..., Path]) -> Path:
    """Commit 1: the constitution and 001 only; commit 2 adds 002 (tags c1, c2)."""
    repo = git_repo()
    shutil.copytree(SPECKIT / ".specify", repo / ".specify")
    shutil.copytree(SPECKIT / "specs/001-user-tasks", repo / "specs/001-user-tasks")
    commit(repo, "001")
    run_git(repo, "tag", "c1")
    shutil.copytree(SPECKIT / F2, repo / F2)
    commit(repo, "add 002")
    run_git(repo, "tag", "c2")
    return repo


def test_adding_002_is_a_new_feature_with_everything_added(repo: Path) -> None:
    change = delta(repo, "c1", "c2")
    assert [(f.path, f.status, f.is_work) for f in change.features] == [(F2, "added", True)]
    assert change.is_work
    new = change.features[0]
    assert [c.key for c in new.requirements] == [f"FR-{i:03}" for i in range(1, 12)] + [
        f"SC-{i:03}" for i in range(1, 5)
    ]
    assert {c.change for c in new.requirements + new.tasks + new.stories} == {"added"}
    assert [c.key for c in new.stories] == ["US1", "US2", "US3"]
    assert len(new.scenarios) == 13
    assert new.new_open_tasks == tuple(f"T{i:03}" for i in range(1, 22))
    assert [str(c) for c in new.contracts[:3]] == [
        "added path /api/tasks: /api/tasks",
        "added path /api/tasks/{task_id}: /api/tasks/{task_id}",
        "added operation DELETE /api/tasks/{task_id}: DELETE /api/tasks/{task_id}",
    ]
    assert sorted(p.path for p in new.patch) == [
        f"{F2}/checklists/requirements.md",
        f"{F2}/contracts/openapi.yaml",
        f"{F2}/data-model.md",
        f"{F2}/plan.md",
        f"{F2}/spec.md",
        f"{F2}/tasks.md",
    ]
    assert all(p.is_added_file for p in new.patch)
    assert not change.constitution_changed


def test_editing_an_fr_is_a_changed_requirement_with_a_raw_diff(repo: Path) -> None:
    edit(repo / F2 / "spec.md", "MUST continue to work unchanged.", "MUST continue to work.")
    head = commit(repo, "edit FR-011")
    change = delta(repo, "c2", head)
    (edited,) = change.features
    assert (edited.status, edited.is_work, edited.other_files) == ("edited", True, ("spec.md",))
    (fr,) = edited.requirements
    assert (fr.change, fr.key, fr.line) == ("changed", "FR-011", 102)
    assert fr.before is not None
    assert fr.before.endswith("MUST continue to work unchanged.")
    assert fr.after is not None
    assert fr.after.endswith("MUST continue to work.")
    assert (edited.stories, edited.scenarios, edited.tasks, edited.contracts) == ((), (), (), ())
    (patched,) = edited.patch
    assert (patched.path, patched.added, patched.removed) == (f"{F2}/spec.md", 1, 1)


def test_ticking_boxes_only_is_no_work(repo: Path) -> None:
    tasks = repo / F2 / "tasks.md"
    tasks.write_bytes(tick_tasks(tasks.read_bytes(), ["T001", "T002", "T003"]))
    head = commit(repo, "specship: tick T001-T003")
    change = delta(repo, "c2", head)
    (ticked,) = change.features
    assert (ticked.status, ticked.is_work, ticked.ticked) == ("edited", False, ("T001", "T002", "T003"))
    assert (ticked.tasks, ticked.other_files, ticked.reopened) == ((), (), ())
    assert not change.is_work
    assert change.work == ()


def test_unticking_or_adding_a_task_is_work(repo: Path) -> None:
    edit(repo / "specs/001-user-tasks/tasks.md", "- [X] T028", "- [ ] T028")
    edit(
        repo / F2 / "tasks.md",
        "- [ ] T021 Run",
        "- [ ] T022 [P] Add a CHANGELOG entry in backend/CHANGELOG.md\n- [ ] T021 Run",
    )
    change = delta(repo, "c2", commit(repo, "reopen and add"))
    one, two = change.features
    assert (one.reopened, one.is_work, one.tasks) == (("T028",), True, ())
    assert (two.is_work, two.new_open_tasks) == (True, ("T022",))
    assert [(c.change, c.key, c.after) for c in two.tasks] == [
        ("added", "T022", "[P] Add a CHANGELOG entry in backend/CHANGELOG.md")
    ]


def test_story_scenario_and_task_edits_are_keyed(repo: Path) -> None:
    spec = repo / F2 / "spec.md"
    edit(spec, "Sort by due date (Priority: P3)", "Sort by due date (Priority: P2)")
    edit(spec, "**Then** they see exactly the 3 open tasks.", "**Then** they see the 3 open tasks.")
    edit(repo / F2 / "tasks.md", "T018 [P] Document", "T018 Document")
    change = delta(repo, "c2", commit(repo, "edits"))
    (f,) = change.features
    assert [(c.change, c.key, c.before, c.after) for c in f.stories] == [
        ("changed", "US3", "Sort by due date (P3)", "Sort by due date (P2)")
    ]
    assert [(c.change, c.key) for c in f.scenarios] == [("changed", "US2-1")]
    assert [(c.change, c.key, c.before) for c in f.tasks] == [
        ("changed", "T018", "[P] Document due_date and the new list query parameters in backend/README.md")
    ]
    assert f.ticked == ()


def test_contract_change_lists_paths_methods_statuses_and_fields(repo: Path) -> None:
    contract = repo / F2 / "contracts/openapi.yaml"
    edit(
        contract,
        '        description:\n          type: [string, "null"]\n          maxLength: 1000\n'
        '        due_date:\n          type: [string, "null"]\n          format: date\n'
        "          description: Added in 1.1.0. Calendar date",
        '        description:\n          type: [string, "null"]\n          maxLength: 1000\n'
        "        priority:\n          type: integer\n"
        '        due_date:\n          type: [string, "null"]\n          format: date\n'
        "          description: Added in 1.1.0. Calendar date",
    )
    edit(
        contract,
        '        "204":\n          description: Deleted\n',
        '        "200":\n          description: Deleted\n',
    )
    tags = '  /api/tags:\n    get:\n      responses:\n        "200":\n          description: ok\n'
    edit(contract, "  /api/tasks/{task_id}:\n", tags + "  /api/tasks/{task_id}:\n")
    change = delta(repo, "c2", commit(repo, "contract"))
    (f,) = change.features
    assert f.is_work
    assert {(c.change, c.aspect, c.target, c.name) for c in f.contracts} == {
        ("added", "path", "/api/tags", "/api/tags"),
        ("added", "operation", "GET /api/tags", "GET /api/tags"),
        ("added", "request field", "POST /api/tasks", "priority"),
        ("added", "status", "DELETE /api/tasks/{task_id}", "200"),
        ("removed", "status", "DELETE /api/tasks/{task_id}", "204"),
    }
    assert all(c.file == f"{F2}/contracts/openapi.yaml" for c in f.contracts)
    post = next(c for c in f.contracts if c.name == "priority")
    assert post.line == 95
    assert str(post) == "added request field priority of POST /api/tasks: integer"


def test_contract_diff_between_001_and_002_resolves_refs() -> None:
    old = parse_contract((SPECKIT / "specs/001-user-tasks/contracts/openapi.yaml").read_bytes(), "a")
    new = parse_contract((SPECKIT / F2 / "contracts/openapi.yaml").read_bytes(), "b")
    changes = diff_contracts(old, new)
    req, date = "string|null (date), required", "string|null (date)"
    assert [(c.change, c.aspect, c.target, c.name, c.after) for c in changes] == [
        ("changed", "version", "", "info.version", "1.1.0"),
        ("added", "parameter", "GET /api/tasks", "query status", "string enum[all,pending,completed]"),
        ("added", "parameter", "GET /api/tasks", "query due_from", "string (date)"),
        ("added", "parameter", "GET /api/tasks", "query due_to", "string (date)"),
        ("added", "parameter", "GET /api/tasks", "query overdue", "boolean"),
        ("added", "parameter", "GET /api/tasks", "query sort", "string enum[created_at,due_date]"),
        ("added", "parameter", "GET /api/tasks", "query order", "string enum[asc,desc]"),
        ("added", "response field", "GET /api/tasks 200", "items[].due_date", req),
        ("added", "response field", "GET /api/tasks/{task_id} 200", "due_date", req),
        ("added", "request field", "PATCH /api/tasks/{task_id}", "due_date", date),
        ("added", "response field", "PATCH /api/tasks/{task_id} 200", "due_date", req),
        ("added", "request field", "POST /api/tasks", "due_date", date),
        ("added", "response field", "POST /api/tasks 201", "due_date", req),
    ]  # fmt: skip


def test_crlf_conversion_is_no_work_and_crlf_edits_are_found(repo: Path) -> None:
    spec = repo / F2 / "spec.md"
    spec.write_bytes(spec.read_bytes().replace(b"\n", b"\r\n"))
    crlf = commit(repo, "crlf")
    (converted,) = delta(repo, "c2", crlf).features
    assert (converted.is_work, converted.requirements, converted.other_files) == (False, (), ())
    edit(spec, "System MUST accept due dates in the past.", "System MUST reject due dates in the past.")
    (edited,) = delta(repo, crlf, commit(repo, "crlf edit")).features
    assert [(c.key, c.line) for c in edited.requirements] == [("FR-004", 95)]
    assert edited.is_work
    (patched,) = edited.patch
    assert (patched.added, patched.removed) == (1, 1)


def test_deleted_feature_is_not_work(repo: Path) -> None:
    run_git(repo, "rm", "-r", "-q", "specs/001-user-tasks")
    (gone,) = delta(repo, "c2", commit(repo, "drop 001")).features
    assert (gone.path, gone.status, gone.is_work) == ("specs/001-user-tasks", "deleted", False)
    assert {c.change for c in gone.requirements} == {"removed"}


def test_work_tree_changes_and_untracked_features_count(repo: Path) -> None:
    edit(repo / F2 / "spec.md", "FR-004**: System MUST accept", "FR-004**: System MUST refuse")
    shutil.copytree(SPECKIT / "specs/001-user-tasks", repo / "specs/003-copy")
    change = delta(repo, "c2")
    assert change.head is None
    assert [(f.path, f.status) for f in change.features] == [(F2, "edited"), ("specs/003-copy", "added")]
    assert [c.key for c in change.features[0].requirements] == ["FR-004"]
    assert len(change.features[1].patch) == 6
    assert all(p.is_added_file for p in change.features[1].patch)


def test_zero_sha_base_makes_everything_new(repo: Path) -> None:
    change = delta(repo, ZERO_SHA, "c2")
    assert [(f.path, f.status) for f in change.features] == [
        ("specs/001-user-tasks", "added"),
        (F2, "added"),
    ]
    assert change.constitution_changed


def test_unknown_revision_is_a_spec_error(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="fetch-depth: 0"):
        delta(repo, "no-such-rev", "c2")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SpecError, match="not a git repository"):
        delta(plain, "c1")
