"""The two shared example features parse exactly: every story, requirement, task and operation."""

from __future__ import annotations

import pytest

from bot.speckit.api import Feature, Project, read_project
from tests.conftest import FIXTURES

SPECKIT = FIXTURES / "speckit"

# (id, [P], story, depends on, paths) for every task, in document order.
TASKS_001 = [
    ("T001", False, None, (), ("backend/src/models/", "backend/src/services/", "backend/src/api/",
                               "backend/tests/contract/", "backend/tests/integration/",
                               "backend/tests/unit/", "__init__.py")),
    ("T002", False, None, (), ("backend/pyproject.toml",)),
    ("T003", True, None, (), ("backend/pyproject.toml",)),
    ("T004", False, None, (), ("backend/src/config.py",)),
    ("T005", False, None, (), ("backend/src/db.py",)),
    ("T006", True, None, (), ("backend/src/auth.py",)),
    ("T007", True, None, (), ("alembic.ini", "env.py", "backend/alembic/env.py")),
    ("T008", False, None, (), ("backend/src/main.py",)),
    ("T009", False, None, (), ("backend/tests/conftest.py",)),
    ("T010", True, None, (), ("backend/tests/unit/test_auth.py",)),
    ("T011", True, 1, (), ("contracts/openapi.yaml", "backend/tests/contract/test_tasks_contract.py")),
    ("T012", True, 1, (), ("backend/tests/integration/test_create_list_tasks.py",)),
    ("T013", False, 1, (), ("backend/src/models/task.py",)),
    ("T014", False, 1, ("T013",), ("backend/alembic/versions/0001_create_tasks.py",)),
    ("T015", False, 1, ("T013",), ("backend/src/services/task_service.py",)),
    ("T016", False, 1, (), ("backend/src/api/tasks.py",)),
    ("T017", True, 2, (), ("backend/tests/contract/test_update_task_contract.py",)),
    ("T018", True, 2, (), ("backend/tests/integration/test_update_tasks.py",)),
    ("T019", False, 2, (), ("backend/src/models/task.py",)),
    ("T020", False, 2, ("T019",), ("backend/src/services/task_service.py",)),
    ("T021", False, 2, (), ("backend/src/api/tasks.py",)),
    ("T022", True, 3, (), ("backend/tests/contract/test_delete_task_contract.py",)),
    ("T023", True, 3, (), ("backend/tests/integration/test_delete_tasks.py",)),
    ("T024", False, 3, (), ("backend/src/services/task_service.py",)),
    ("T025", False, 3, (), ("backend/src/api/tasks.py",)),
    ("T026", True, None, (), ("backend/README.md",)),
    ("T027", False, None, (), ("specs/001-user-tasks/contracts/openapi.yaml",
                               "backend/tests/contract/test_openapi_matches_contract.py")),
    ("T028", False, None, (), ("backend/",)),
]  # fmt: skip

TASKS_002 = [
    ("T001", False, None, (), ("backend/tests/",)),
    ("T002", False, None, (), ("backend/src/models/task.py",)),
    ("T003", False, None, ("T002",), ("backend/alembic/versions/0002_add_task_due_date.py",)),
    ("T004", True, None, (), ("backend/src/core/clock.py",)),
    ("T005", True, None, (), ("backend/tests/conftest.py",)),
    ("T006", True, 1, (), ("contracts/openapi.yaml",
                           "backend/tests/contract/test_tasks_due_date_contract.py")),
    ("T007", True, 1, (), ("backend/tests/integration/test_task_due_dates.py",)),
    ("T008", False, 1, (), ("backend/src/services/task_service.py",)),
    ("T009", False, 1, (), ("backend/src/api/tasks.py",)),
    ("T010", True, 2, (), ("backend/tests/contract/test_tasks_filter_contract.py",)),
    ("T011", True, 2, (), ("backend/tests/integration/test_task_filters.py",)),
    ("T012", True, 2, (), ("backend/src/models/task_query.py",)),
    ("T013", False, 2, ("T012", "T004"), ("backend/src/services/task_service.py",)),
    ("T014", False, 2, ("T013",), ("backend/src/api/tasks.py",)),
    ("T015", True, 3, (), ("backend/tests/integration/test_task_sorting.py",)),
    ("T016", False, 3, (), ("backend/src/models/task_query.py",)),
    ("T017", False, 3, (), ("backend/src/services/task_service.py",)),
    ("T018", True, None, (), ("backend/README.md",)),
    ("T019", False, None, (), ("specs/002-task-due-dates/contracts/openapi.yaml",
                               "backend/tests/contract/test_openapi_matches_contract.py")),
    ("T020", False, None, (), ()),
    ("T021", False, None, (), ("backend/",)),
]  # fmt: skip

PHASES = [
    ("1", "Setup (Shared Infrastructure)", None, None, False),
    ("2", "Foundational (Blocking Prerequisites)", None, None, False),
    ("3", "User Story 1 - {0} (Priority: P1)", 1, "P1", True),
    ("4", "User Story 2 - {1} (Priority: P2)", 2, "P2", False),
    ("5", "User Story 3 - {2} (Priority: P3)", 3, "P3", False),
    ("6", "Polish & Cross-Cutting Concerns", None, None, False),
]
STORIES = {
    "001-user-tasks": [
        ("Create and view my tasks", "P1", 5),
        ("Update and complete my tasks", "P2", 4),
        ("Delete my tasks", "P3", 2),
    ],
    "002-task-due-dates": [
        ("Give a task a due date", "P1", 5),
        ("Filter my list and see what is overdue", "P2", 5),
        ("Sort by due date", "P3", 3),
    ],
}
OPERATIONS = [
    "GET /api/tasks",
    "POST /api/tasks",
    "GET /api/tasks/{task_id}",
    "PATCH /api/tasks/{task_id}",
    "DELETE /api/tasks/{task_id}",
]


@pytest.fixture(scope="module")
def project() -> Project:
    return read_project(SPECKIT)


def feature(project: Project, name: str) -> Feature:
    found = project.feature(name)
    assert found is not None
    return found


def test_both_features_are_found_with_their_files(project: Project) -> None:
    assert [f.path for f in project.features] == ["specs/001-user-tasks", "specs/002-task-due-dates"]
    assert feature(project, "001-user-tasks").files == (
        "specs/001-user-tasks/checklists/requirements.md",
        "specs/001-user-tasks/contracts/openapi.yaml",
        "specs/001-user-tasks/data-model.md",
        "specs/001-user-tasks/plan.md",
        "specs/001-user-tasks/spec.md",
        "specs/001-user-tasks/tasks.md",
    )
    assert [d.path for d in feature(project, "002-task-due-dates").documents] == [
        "specs/002-task-due-dates/data-model.md"
    ]


@pytest.mark.parametrize("name", ["001-user-tasks", "002-task-due-dates"])
def test_stories_priorities_and_scenario_counts(project: Project, name: str) -> None:
    spec = feature(project, name).spec
    assert spec is not None
    got = [(s.key, s.title, s.priority, len(s.scenarios)) for s in spec.stories]
    want = [(f"US{i}", t, p, n) for i, (t, p, n) in enumerate(STORIES[name], start=1)]
    assert got == want
    for story in spec.stories:
        assert [s.number for s in story.scenarios] == list(range(1, len(story.scenarios) + 1))
        assert all(s.story == story.key and s.given and s.when and s.then for s in story.scenarios)


def test_spec_001_header_scenarios_requirements_entities_clarifications(project: Project) -> None:
    spec = feature(project, "001-user-tasks").spec
    assert spec is not None
    assert spec.title == "User Tasks"
    assert spec.metadata["Feature Branch"] == "001-user-tasks"
    assert spec.metadata["Created"] == "2026-01-06"
    assert spec.metadata["Status"] == "Draft"
    assert spec.metadata["Input"].startswith('User description: "Signed-in users can create')
    first = spec.stories[0].scenarios[0]
    assert (first.key, first.line) == ("US1-1", 35)
    assert first.given == "a signed-in user with no tasks"
    assert first.when == 'they create a task titled "Buy milk"'
    assert first.then == ("the task is stored as not completed with a creation time and is returned to them.")
    last = spec.stories[2].scenarios[1]
    assert last.key == "US3-2"
    assert last.text == (
        "Given user B's task, When user A tries to delete it, Then user A gets a not-found "
        "response and user B's task still exists."
    )
    ids = [r.id for r in spec.requirements]
    assert ids == [f"FR-{i:03}" for i in range(1, 11)] + [f"SC-{i:03}" for i in range(1, 5)]
    fr9 = spec.requirement("FR-009")
    assert fr9 is not None
    assert fr9.line == 100
    assert fr9.text == (
        "System MUST NOT reveal, change, or delete another user's tasks; such requests MUST "
        "behave exactly as if the task did not exist."
    )
    assert [(e.name, e.line) for e in spec.entities] == [("Task", 105), ("User", 106)]
    assert [(c.session, c.line) for c in spec.clarifications] == [("2026-01-06", n) for n in (15, 16, 17)]
    assert spec.clarifications[1].question == "Is deletion permanent or recoverable?"
    assert spec.clarifications[1].answer == "Permanent; there is no trash or undo in this feature."
    assert spec.markers == ()
    assert spec.problems == ()


def test_spec_002_keeps_its_own_ids_and_entity_notes(project: Project) -> None:
    spec = feature(project, "002-task-due-dates").spec
    assert spec is not None
    assert spec.title == "Task Due Dates and Filtering"
    assert [r.id for r in spec.requirements] == [f"FR-{i:03}" for i in range(1, 12)] + [
        f"SC-{i:03}" for i in range(1, 5)
    ]
    assert spec.requirement("FR-009") is not None
    assert "(FR-004, FR-009 there)" in spec.requirement("FR-009").text  # type: ignore[union-attr]
    scenario = spec.stories[1].scenarios[3]
    assert (scenario.key, scenario.given, scenario.when) == (
        "US2-4",
        "any user",
        "they ask for tasks due from 2026-03-15 to 2026-03-01",
    )
    assert [(e.name, e.note) for e in spec.entities] == [("Task", "changed"), ("Task list query", "")]
    assert len(spec.clarifications) == 3


@pytest.mark.parametrize(
    ("name", "rows", "expected"),
    [("001-user-tasks", TASKS_001, True), ("002-task-due-dates", TASKS_002, False)],
)
def test_every_task_with_markers_dependencies_paths_and_state(
    project: Project, name: str, rows: list[tuple[object, ...]], expected: bool
) -> None:
    tasks = feature(project, name).tasks
    assert tasks is not None
    assert [(t.id, t.parallel, t.story, t.depends_on, t.paths) for t in tasks.all] == rows
    assert all(t.done is expected for t in tasks.all)
    assert tasks.problems == ()


def test_task_counts_001_all_done_002_has_21_open(project: Project) -> None:
    one, two = feature(project, "001-user-tasks").tasks, feature(project, "002-task-due-dates").tasks
    assert one is not None
    assert two is not None
    assert (len(one.all), len(one.done), len(one.open)) == (28, 28, 0)
    assert (len(two.all), len(two.done), len(two.open)) == (21, 0, 21)


@pytest.mark.parametrize("name", ["001-user-tasks", "002-task-due-dates"])
def test_phase_titles_stories_and_mvp(project: Project, name: str) -> None:
    tasks = feature(project, name).tasks
    assert tasks is not None
    titles = [t for t, _, _ in STORIES[name]]
    got = [(p.number, p.title, p.story, p.priority, p.mvp) for p in tasks.phases]
    assert got == [(n, t.format(*titles), s, p, m) for n, t, s, p, m in PHASES]
    assert tasks.phases[2].story_title == titles[0]


def test_task_lines_and_first_description(project: Project) -> None:
    tasks = feature(project, "002-task-due-dates").tasks
    assert tasks is not None
    t013 = tasks.task("T013")
    assert t013 is not None
    assert (t013.line, t013.phase) == (86, "4")
    assert t013.description.startswith("Build status, due-range and overdue predicates")
    assert t013.description.endswith("(depends on T012, T004)")


def test_plan_technical_context_tree_and_gates(project: Project) -> None:
    plan = feature(project, "002-task-due-dates").plan
    assert plan is not None
    assert plan.title == "Task Due Dates and Filtering"
    assert list(plan.context) == [
        "Language/Version", "Primary Dependencies", "Storage", "Testing", "Target Platform",
        "Project Type", "Performance Goals", "Constraints", "Scale/Scope",
    ]  # fmt: skip
    assert plan.context["Language/Version"] == "Python 3.12"
    assert plan.annotated("NEW") == {
        "backend/alembic/versions/0002_add_task_due_date.py",
        "backend/src/core/clock.py",
        "backend/src/models/task_query.py",
        "backend/tests/contract/test_tasks_due_date_contract.py",
        "backend/tests/contract/test_tasks_filter_contract.py",
        "backend/tests/integration/test_task_due_dates.py",
        "backend/tests/integration/test_task_filters.py",
        "backend/tests/integration/test_task_sorting.py",
    }
    assert plan.annotated("MODIFIED") == {
        "backend/src/models/task.py",
        "backend/src/services/task_service.py",
        "backend/src/api/tasks.py",
        "backend/tests/conftest.py",
    }
    assert plan.files == plan.annotated("NEW") | plan.annotated("MODIFIED")
    clock = next(p for p in plan.source_tree if p.path == "backend/src/core/clock.py")
    assert (clock.line, clock.comment) == (74, "NEW: today_utc() dependency (overridable in tests)")
    assert [(g.principle[:4], g.status) for g in plan.constitution_check] == [
        ("I. S", "PASS"), ("II. ", "PASS"), ("III.", "PASS"), ("IV. ", "PASS"), ("V. S", "PASS"),
    ]  # fmt: skip


def test_plan_001_tree_has_directories_and_unannotated_files(project: Project) -> None:
    plan = feature(project, "001-user-tasks").plan
    assert plan is not None
    assert "backend/src/api/tasks.py" in plan.files
    assert "backend/alembic/versions/0001_create_tasks.py" in plan.files
    assert "backend/tests/contract" not in plan.files
    dirs = {p.path for p in plan.source_tree if p.is_dir}
    assert {"backend", "backend/src/models", "backend/tests/unit"} <= dirs
    assert all(p.annotation is None for p in plan.source_tree)


@pytest.mark.parametrize(("name", "version"), [("001-user-tasks", "1.0.0"), ("002-task-due-dates", "1.1.0")])
def test_contracts_paths_and_methods(project: Project, name: str, version: str) -> None:
    contracts = feature(project, name).contracts
    assert [c.path for c in contracts] == [f"specs/{name}/contracts/openapi.yaml"]
    contract = contracts[0]
    assert (contract.kind, contract.version) == ("openapi", version)
    assert contract.paths == ("/api/tasks", "/api/tasks/{task_id}")
    assert [op.key for op in contract.operations] == OPERATIONS
    delete = contract.operation("delete", "/api/tasks/{task_id}")
    assert delete is not None
    assert sorted(delete.responses) == ["204", "401", "404"]
    post = contract.operation("POST", "/api/tasks")
    assert post is not None
    assert post.request["title"] == "string, required"


def test_constitution_and_checklists(project: Project) -> None:
    constitution = project.constitution
    assert constitution is not None
    assert constitution.title == "Todo Backend Constitution"
    assert constitution.version == "1.0.0"
    assert [p.split(".")[0] for p in constitution.principles] == ["I", "II", "III", "IV", "V"]
    assert not constitution.is_template
    checklist = feature(project, "002-task-due-dates").checklists[0]
    assert checklist.path == "specs/002-task-due-dates/checklists/requirements.md"
    assert len(checklist.items) == 16
    assert checklist.open_items == ()


def test_ids_are_keyed_by_feature_folder(project: Project) -> None:
    one = feature(project, "001-user-tasks").ids()
    two = feature(project, "002-task-due-dates").ids()
    assert ("specs/001-user-tasks", "T001") in one
    assert ("specs/002-task-due-dates", "T001") in two
    assert ("specs/002-task-due-dates", "FR-011") in two
    assert not one & two
