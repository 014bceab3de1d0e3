"""The push flow end to end: a push to the default branch that changes specs/<feature>/ becomes one
PR per feature; re-runs reuse it; tick-only, bot and branch pushes are ignored (TC-6, TC-49).

`run` is a subprocess against the GitHub and Anthropic emulators; pushes are real commits in the
emulator's bare repository with GitHub's push payload (before, after, the listed commits).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.report.markers import marker_of
from tests.conftest import run_git
from tests.e2e import NO_REPAIR, World, log, new_world, play, user_texts, writes
from tests.fakes.github_fixture import BOT, REPO

NEW = "003-task-notes"
SPEC_003 = """# Feature Specification: Task notes

**Feature Branch**: `003-task-notes`

**Created**: 2026-02-01

**Status**: Draft

## User Scenarios & Testing *(mandatory)*

### User Story 1 - Deleted tasks stay deleted (Priority: P1)

A user deletes a task and it is gone for good; the backend keeps a note saying so.

**Acceptance Scenarios**:

1. **Given** a user's task, **When** they delete it, **Then** fetching it again returns not-found.

## Requirements *(mandatory)*

### Functional Requirements

- **FR-001**: The backend MUST keep backend/NOTES.md describing permanent deletion.
"""
TASKS_003 = """# Tasks: Task notes

## Phase 1: Notes

- [ ] T001 Write backend/NOTES.md
- [ ] T002 Link backend/NOTES.md from backend/README.md
"""
PROVEN = "tests/unit/test_task_service.py::test_delete_is_permanent"


def session(path: str, tests: list[str]) -> str:
    """The turns of one agent session: write a file, then report with these tests as proof."""
    return f"""
  - tool_calls:
      - name: str_replace_based_edit_tool
        input: {{command: create, path: {path}, file_text: "Deleting a task is permanent.\\n"}}
  - tool_calls:
      - name: submit_report
        input:
          summary: "Adds {path}."
          files: [{{path: {path}, purpose: "A note"}}]
          acceptance_criteria: [{{id: US1-AS1, criterion: "deleted stays deleted", tests: {tests}}}]
"""


@dataclass
class Step:
    log: str
    outputs: dict[str, str]
    summary: str
    writes: int
    prompts: list[str]
    heads: dict[str, str | None]
    comments: dict[str, list[str]]  # branch -> the bodies of the comments on its PR


@dataclass
class Story:
    world: World
    pushes: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)

    def push(self, name: str, files: dict[str, str | bytes | None]) -> dict[str, Any]:
        before = self.world.sha("main")
        assert before is not None
        after = self.world.commit("main", files, f"specs: {name}")
        self.pushes[name] = self.world.push_payload(before, after)
        return self.pushes[name]

    def run(self, name: str, payload: dict[str, Any]) -> Step:
        world = self.world
        seen_writes, seen_prompts = len(writes(world.github)), len(world.anthropic.message_requests)
        result = world.run("push", payload, world.checkout(), **NO_REPAIR)
        heads = {b: world.sha(b) for b in world.branches()}
        repo = world.github.repo(REPO)
        comments = {
            pull.head_ref: [c.body for c in repo.comments.values() if c.issue_number == pull.number]
            for pull in repo.pulls.values()
        }
        step = Step(
            log(result),
            world.outputs(),
            world.summary(),
            len(writes(world.github)) - seen_writes,
            user_texts(world.anthropic)[seen_prompts:],
            heads,
            comments,
        )
        self.steps[name] = step
        return step


@pytest.fixture(scope="module")
def story() -> Iterator[Story]:
    with new_world() as world:
        s = Story(world)
        play(world.anthropic, "turns:" + session("backend/NOTES.md", [PROVEN]))
        s.run(
            "new feature",
            s.push("new feature", {f"specs/{NEW}/spec.md": SPEC_003, f"specs/{NEW}/tasks.md": TASKS_003}),
        )
        s.run("same push again", s.pushes["new feature"])
        edits = {
            "specs/001-user-tasks/spec.md": _edited(world, "specs/001-user-tasks/spec.md"),
            "specs/002-task-due-dates/spec.md": _edited(world, "specs/002-task-due-dates/spec.md"),
        }
        play(
            world.anthropic,
            "turns:" + session("backend/NOTES-001.md", []) + session("backend/NOTES-002.md", []),
        )
        s.run("two features", s.push("two features", edits))
        ticked = TASKS_003.replace("- [ ] T001", "- [X] T001").replace("- [ ] T002", "- [x] T002")
        s.run("ticks only", s.push("ticks only", {f"specs/{NEW}/tasks.md": ticked}))
        yield s


def _edited(world: World, path: str) -> str:
    text = run_git(world.github.bare_repo_path, "show", f"main:{path}")
    return text.replace(
        "## Edge Cases", "## Edge Cases\n\n- A title of exactly 200 characters is accepted.\n", 1
    )


def pulls_by_branch(story: Story) -> dict[str, Any]:
    return {p.head_ref: p for p in story.world.github.repo(REPO).pulls.values()}


@pytest.mark.slow
def test_a_push_adding_a_feature_opens_one_pr_for_it(story: Story) -> None:
    step = story.steps["new feature"]
    assert step.log.endswith("exit=0"), step.log[-4000:]
    assert step.outputs["conclusion"] == "success"
    pr = pulls_by_branch(story)[f"specship/{NEW}"]
    assert step.outputs["pr-number"] == str(pr.number)
    assert step.outputs["branch"] == f"specship/{NEW}"
    assert f"| implement | {NEW} | success |" in step.summary
    marker = marker_of(pr.issue.body or "")
    assert marker is not None
    assert marker["feature"] == NEW
    assert "Closes #" not in (pr.issue.body or ""), "a push has no issue to close"
    assert pr.requested_reviewers == ["bob"], "the pusher reviews"
    assert len(step.prompts) == 2
    assert f"## Specification (specs/{NEW}/spec.md)" in step.prompts[0]
    # The tracking comment lives on the PR once it exists, edited in place.
    (tracking,) = step.comments[f"specship/{NEW}"]
    assert "every gate passed" in tracking
    assert f"<!-- specship:tracking:pr-{pr.number}:{NEW} -->" in tracking
    assert all(c.login == BOT for c in story.world.github.repo(REPO).comments.values())
    # The PR branch ticks the feature's tasks, in a commit of its own.
    head = step.heads[f"specship/{NEW}"]
    tasks = run_git(story.world.github.bare_repo_path, "show", f"{head}:specs/{NEW}/tasks.md")
    assert "- [X] T001" in tasks
    assert "- [X] T002" in tasks


@pytest.mark.slow
def test_the_same_push_again_reuses_the_pr_and_does_nothing(story: Story) -> None:
    """TC-49."""
    first, again = story.steps["new feature"], story.steps["same push again"]
    assert again.log.endswith("exit=0"), again.log[-3000:]
    assert again.prompts == []
    assert again.outputs["conclusion"] == "unchanged"
    assert again.heads[f"specship/{NEW}"] == first.heads[f"specship/{NEW}"], "no empty commit"
    assert len([p for p in pulls_by_branch(story) if p == f"specship/{NEW}"]) == 1
    assert not any(b.endswith("-try2") for b in again.heads)
    (tracking,) = again.comments[f"specship/{NEW}"]
    assert "Nothing changed" in tracking, "the same comment, edited"


@pytest.mark.slow
def test_a_push_touching_two_features_opens_two_prs(story: Story) -> None:
    step = story.steps["two features"]
    assert step.log.endswith("exit=1"), step.log[-4000:]  # short sessions: drafts
    assert step.outputs["conclusion"] == "draft"
    pulls = pulls_by_branch(story)
    assert sorted(pulls) == ["specship/001-user-tasks", "specship/002-task-due-dates", f"specship/{NEW}"]
    assert pulls["specship/001-user-tasks"].draft
    assert pulls["specship/002-task-due-dates"].draft
    tasks = list(dict.fromkeys(step.prompts))  # one task prompt per session, two requests each
    assert len(tasks) == 2
    assert "## Specification (specs/001-user-tasks/spec.md)" in tasks[0]
    assert "## Specification (specs/002-task-due-dates/spec.md)" in tasks[1]
    for feature in ("001-user-tasks", "002-task-due-dates"):
        assert f"| implement | {feature} | draft |" in step.summary
        head = step.heads[f"specship/{feature}"]
        note = f"backend/NOTES-{feature[:3]}.md"
        assert run_git(story.world.github.bare_repo_path, "show", f"{head}:{note}")
    # Each prompt says what changed in that spec, not only what the spec is.
    for task in tasks:
        change = task.split("## What changed in the specification\n", 1)[1].split("\n## Specification", 1)[0]
        assert "+- A title of exactly 200 characters is accepted." in change


@pytest.mark.slow
def test_a_push_that_only_ticks_task_boxes_is_ignored(story: Story) -> None:
    step = story.steps["ticks only"]
    assert step.log.endswith("exit=0"), step.log[-3000:]
    assert "ignored:" in step.log
    assert step.outputs["conclusion"] == "ignored"
    assert step.prompts == []
    assert step.writes == 0


# ---- TC-6: pushes Specship never acts on ------------------------------------------------------


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


def spec_push(world: World, branch: str = "main", **kw: Any) -> dict[str, Any]:
    before = world.sha("main")
    assert before is not None
    path = "specs/002-task-due-dates/spec.md"
    text = run_git(world.github.bare_repo_path, "show", f"main:{path}") + "\nOne more line.\n"
    if branch != "main":
        run_git(world.github.bare_repo_path, "branch", branch, "main")
    after = world.commit(branch, {path: text}, "spec edit")
    return world.push_payload(before, after, branch=branch, **kw)


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ({"pusher": "github-actions[bot]"}, "push by Specship's own account"),
        ({"author": ("specship[bot]", "specship[bot]@users.noreply.github.com")}, "every commit"),
        ({"branch": "specship/002-task-due-dates"}, "push to Specship's own branch"),
        ({"branch": "feature/x"}, "not the default branch"),
    ],
)
def test_tc6_pushes_by_the_bot_or_to_other_branches_are_ignored(
    world: World, case: dict[str, Any], why: str
) -> None:
    payload = spec_push(world, **case)
    result = world.run("push", payload)
    assert result.returncode == 0, log(result)
    assert why in result.stdout
    assert world.github.requests == []
    assert world.anthropic.requests == []
    assert world.outputs()["conclusion"] == "ignored"
