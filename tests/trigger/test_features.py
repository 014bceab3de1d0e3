"""Which feature an event names, by the one definition: nested pushes, specs-dir, issue text, a
workflow_dispatch `feature` input, and `plan` refusing a feature that does not exist."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.exceptions import FatalError
from bot.trigger.events import git_callables, parse_event
from bot.trigger.plan import feature_from_text
from bot.trigger.types import FeatureDispatched, Ignored, SpecsPushed
from tests.conftest import run_git
from tests.trigger.test_events import _validator, commit, load, no_diff, push_payload
from tests.trigger.test_plan import plan_process, run_plan

SPEC = "# Feature Specification: X\n\n- **FR-001**: System MUST work.\n"


# ---- push: nested folders and a specs-dir -------------------------------------------------------


def test_a_push_into_nested_folders_names_each_feature_by_its_folder() -> None:
    payload = push_payload(
        commit(
            added=("specs/Phase-2/001-user-tasks/spec.md", "specs/Phase-2/001-user-tasks/contracts/api.yaml"),
            modified=("specs/Phase-1/002-tags/tasks.md", "specs/Phase-2/README.md", "specs/README.md"),
        )
    )
    trigger = parse_event("push", payload, diff=no_diff)
    assert isinstance(trigger, SpecsPushed)
    assert [(f.name, f.folder, f.kind) for f in trigger.features] == [
        ("001-user-tasks", "specs/Phase-2/001-user-tasks", "new"),
        ("002-tags", "specs/Phase-1/002-tags", "edited"),
    ]
    assert trigger.features[0].paths == (
        "specs/Phase-2/001-user-tasks/contracts/api.yaml",
        "specs/Phase-2/001-user-tasks/spec.md",
    )


def test_an_unnumbered_nested_feature_is_found_through_the_tree(git_repo: Callable[..., Path]) -> None:
    """A push that only edits plan.md of `specs/copilot/custom-feature/`: its spec.md is in the tree."""
    repo = git_repo({"specs/copilot/custom-feature/spec.md": SPEC, "specs/copilot/notes.md": "x\n"})
    before = run_git(repo, "rev-parse", "HEAD").strip()
    (repo / "specs/copilot/custom-feature/plan.md").write_text("# Plan\n")
    (repo / "specs/copilot/notes.md").write_text("y\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-qm", "plan")
    after = run_git(repo, "rev-parse", "HEAD").strip()
    payload = push_payload(
        commit(added=("specs/copilot/custom-feature/plan.md",), modified=("specs/copilot/notes.md",))
    )
    payload.update(before=before, after=after)
    diff, tree_has = git_callables(repo)
    trigger = parse_event("push", payload, diff=diff, tree_has=tree_has)
    assert isinstance(trigger, SpecsPushed)
    assert [(f.name, f.folder, f.kind) for f in trigger.features] == [
        ("custom-feature", "specs/copilot/custom-feature", "edited")
    ]
    # without a checkout nothing says it is a feature: it is not guessed
    assert parse_event("push", payload, diff=no_diff) == Ignored(
        "push touches nothing under specs/<feature>/"
    )


def test_a_push_reads_the_configured_specs_dir_only() -> None:
    payload = push_payload(commit(added=("services/api/specs/001-a/spec.md", "specs/002-b/spec.md")))
    trigger = parse_event("push", payload, diff=no_diff, specs_dir="services/api/specs")
    assert isinstance(trigger, SpecsPushed)
    assert [(f.name, f.folder) for f in trigger.features] == [("001-a", "services/api/specs/001-a")]
    assert trigger.specs_dir == "services/api/specs"
    assert parse_event(
        "push", push_payload(commit(added=("specs/002-b/spec.md",))), specs_dir="api/specs"
    ) == (Ignored("push touches nothing under api/specs/<feature>/"))


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("specs/Phase 2/001-x/spec.md", "folder 'Phase 2' fails"),
        ("specs/$(id)/001-x/spec.md", "folder '$(id)' fails"),
        ("specs/Phase-2/Feature/spec.md", "folder name 'Feature' fails"),
        ("specs/Phase-2/../001-x/spec.md", "is not a plain relative path"),
    ],
)
def test_nested_names_are_refused_like_top_level_ones(path: str, reason: str) -> None:
    """TC-10 for nested folders: a grouping folder may be any plain name, never a shell word."""
    trigger = parse_event("push", push_payload(commit(added=(path,))), diff=no_diff)
    assert isinstance(trigger, Ignored)
    assert trigger.reason.startswith("push touches no valid spec folder: ")
    assert reason in trigger.reason


# ---- issue text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Implement specs/Phase-2/002-task-tags please", "002-task-tags"),
        ("see specs/Phase-2/002-task-tags/spec.md", "002-task-tags"),
        ("implement specs/copilot/custom-feature", "custom-feature"),
        ("implement specs/copilot/custom-feature/contracts/api.yaml", "custom-feature"),
        ("first services/api/specs/001-a then 002-b", "001-a"),
        ("implement 002-b, not specs/copilot/custom-feature", "002-b"),
        ("specs/Phase 2", None),
        ("specs/Upper/Case", None),
    ],
)
def test_an_issue_names_a_feature_by_its_folder(text: str, expected: str | None) -> None:
    assert feature_from_text(text) == expected


# ---- workflow_dispatch ------------------------------------------------------------------------


def dispatch_payload(feature: Any = "002-task-due-dates", ref: str = "refs/heads/master") -> dict[str, Any]:
    """octokit's real workflow_dispatch payload with Specship's `feature` input."""
    payload = copy.deepcopy(load("workflow_dispatch/payload.json"))
    payload["inputs"] = {"feature": feature}
    payload["ref"] = ref
    payload["repository"]["default_branch"] = "master"
    return payload


def test_workflow_dispatch_with_a_feature_is_a_trigger() -> None:
    payload = dispatch_payload(" specs/Phase-2/002-task-tags/ ")
    assert list(_validator("workflow_dispatch", payload).iter_errors(payload)) == []
    trigger = parse_event("workflow_dispatch", payload)
    assert trigger == FeatureDispatched(
        repo="octo-org/octo-repo",
        feature="specs/Phase-2/002-task-tags",
        ref="refs/heads/master",
        default_branch="master",
        actor="Codertocat",
        actor_type="User",
        sender_login="Codertocat",
    )


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ("", "the feature input is empty"),
        ("  ", "the feature input is empty"),
        ("../../etc", "is not a feature folder name"),
        ("$(id)", "is not a feature folder name"),
        ("a b", "is not a feature folder name"),
        ("x\n::error::pwned", "is not a feature folder name"),
        ("a" * 64, "is not a feature folder name"),
    ],
)
def test_a_bad_feature_input_is_one_clear_error(feature: str, message: str) -> None:
    with pytest.raises(FatalError) as info:
        parse_event("workflow_dispatch", dispatch_payload(feature))
    assert message in info.value.cause
    assert "\n" not in info.value.cause
    assert "002-task-due-dates" in info.value.fix


def test_a_dispatch_on_another_branch_is_refused() -> None:
    with pytest.raises(FatalError) as info:
        parse_event("workflow_dispatch", dispatch_payload(ref="refs/heads/feature/x"))
    assert "'refs/heads/feature/x'" in info.value.cause
    assert "'master'" in info.value.fix


def test_a_dispatch_by_specships_own_account_is_ignored() -> None:
    payload = dispatch_payload()
    payload["sender"].update(login="github-actions[bot]", type="Bot")
    trigger = parse_event("workflow_dispatch", payload)
    assert isinstance(trigger, Ignored)
    assert "Specship's own account" in trigger.reason


# ---- plan: the jobs, and features that do not exist ---------------------------------------------


@pytest.fixture
def nested_repo(git_repo: Callable[..., Path]) -> Path:
    return git_repo(
        {
            "specs/Phase-1/001-user-tasks/spec.md": SPEC,
            "specs/Phase-2/002-task-tags/spec.md": SPEC,
        }
    )


def _dispatch_file(tmp_path: Path, feature: str) -> Path:
    path = tmp_path / "dispatch.json"
    path.write_text(json.dumps(dispatch_payload(feature)))
    return path


def test_plan_of_a_dispatch_is_one_job_on_the_folder_branch(tmp_path: Path, nested_repo: Path) -> None:
    result, output = run_plan(
        "workflow_dispatch", _dispatch_file(tmp_path, "Phase-2/002-task-tags"), tmp_path, nested_repo
    )
    assert [(j["kind"], j["feature"], j["branch"]) for j in result["jobs"]] == [
        ("implement", "Phase-2/002-task-tags", "specship/002-task-tags")
    ]
    assert "job-count=1" in output


def test_plan_refuses_a_dispatched_feature_that_does_not_exist(tmp_path: Path, nested_repo: Path) -> None:
    done = plan_process("workflow_dispatch", _dispatch_file(tmp_path, "002-tags"), tmp_path, nested_repo, {})
    assert done.returncode == 1
    assert "There is no feature '002-tags' under specs/" in done.stderr
    assert "Phase-1/001-user-tasks, Phase-2/002-task-tags" in done.stderr
    assert "Did you mean '002-task-tags'?" in done.stderr
    assert (tmp_path / "github_output").read_text() == ""  # no matrix for it


def test_plan_refuses_an_issue_naming_a_feature_that_does_not_exist(
    tmp_path: Path, nested_repo: Path
) -> None:
    payload = load("issues/labeled.payload.json")
    payload["label"]["name"] = "specship"
    payload["issue"]["body"] = "Please implement specs/003-export."
    path = tmp_path / "issue.json"
    path.write_text(json.dumps(payload))
    done = plan_process("issues", path, tmp_path, nested_repo, {})
    assert done.returncode == 1
    assert "There is no feature '003-export'" in done.stderr
    # the same issue naming one that exists plans its job
    payload["issue"]["body"] = "Please implement specs/Phase-2/002-task-tags."
    result, _ = run_plan("issues", payload, tmp_path, nested_repo)
    assert [(j["feature"], j["branch"]) for j in result["jobs"]] == [
        ("002-task-tags", "specship/002-task-tags")
    ]


def test_plan_at_a_missing_repository_says_so(tmp_path: Path) -> None:
    done = plan_process(
        "workflow_dispatch", _dispatch_file(tmp_path, "001-x"), tmp_path, tmp_path / "nope", {}
    )
    assert done.returncode == 1
    assert f"--repo {tmp_path / 'nope'} does not exist." in done.stderr
    assert "git is not installed" not in done.stderr
