"""A push whose run GitHub dropped is caught up by the next push run (issue 14, concurrency).

GitHub cancels a pending run when a newer one queues in its concurrency group, so in the
single-job workflow (one group for every push to main) a push can lose its run before it
starts. Here push A (a new feature 003) never gets a run; push B (an edit of 001) does, and
implements 003 as well. A third push implements only its own feature: 003 is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.pipeline.catchup import PUSH_CHECK
from bot.report.markers import marker_of
from tests.conftest import run_git
from tests.e2e import NO_REPAIR, World, log, new_world, play, user_texts
from tests.fakes.github_fixture import BOT, REPO, client
from tests.pipeline.test_run_push import NEW, PROVEN, SPEC_003, TASKS_003, session

SPEC_001 = "specs/001-user-tasks/spec.md"


def edited(world: World, path: str, line: str) -> str:
    text = run_git(world.github.bare_repo_path, "show", f"main:{path}")
    return text.replace("### Edge Cases", f"### Edge Cases\n\n{line}\n", 1)


@dataclass
class Step:
    log: str
    outputs: dict[str, str]
    summary: str
    prompts: list[str]


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

    def run(self, name: str) -> Step:
        world = self.world
        seen = len(world.anthropic.message_requests)
        result = world.run("push", self.pushes[name], world.checkout(), **NO_REPAIR)
        step = Step(log(result), world.outputs(), world.summary(), user_texts(world.anthropic)[seen:])
        self.steps[name] = step
        return step


def record_earlier_run(world: World) -> None:
    """The record an earlier push run left on main's tip (the Specship push check run)."""
    sha = world.sha("main")
    assert sha is not None
    output = {"title": "Implemented 0 features of this push", "summary": "An earlier push run."}
    client(world.github).get_repo(REPO).create_check_run(PUSH_CHECK, sha, conclusion="success", output=output)


@pytest.fixture(scope="module")
def story() -> Iterator[Story]:
    with new_world() as world:
        s = Story(world)
        record_earlier_run(world)
        s.push("dropped", {f"specs/{NEW}/spec.md": SPEC_003, f"specs/{NEW}/tasks.md": TASKS_003})
        edit = edited(world, SPEC_001, "- A title of exactly 200 characters is accepted.")
        s.push("next", {SPEC_001: edit})
        # The run of "dropped" was cancelled while pending: only "next" runs.
        play(
            world.anthropic,
            "turns:" + session("backend/NOTES-001.md", []) + session("backend/NOTES.md", [PROVEN]),
        )
        s.run("next")
        s.push("third", {SPEC_001: edited(world, SPEC_001, "- An empty title is refused.")})
        play(world.anthropic, "turns:" + session("backend/NOTES-001b.md", []))
        s.run("third")
        yield s


def pulls(story: Story) -> dict[str, Any]:
    return {p.head_ref: p for p in story.world.github.repo(REPO).pulls.values()}


def push_records(story: Story, sha: str) -> list[Any]:
    runs = story.world.github.repo(REPO).check_runs.values()
    return [r for r in runs if r.head_sha == sha and r.name == PUSH_CHECK]


@pytest.mark.slow
def test_the_next_push_run_implements_the_dropped_pushs_feature(story: Story) -> None:
    step = story.steps["next"]
    assert step.log.endswith("exit=1"), step.log[-4000:]  # 001's short session leaves a draft
    assert "catch-up: feature 003-task-notes changed in an earlier push" in step.log
    assert "| implement | 001-user-tasks | draft |" in step.summary
    assert f"| implement | {NEW} | success |" in step.summary
    tasks = list(dict.fromkeys(step.prompts))
    assert len(tasks) == 2
    assert "## Specification (specs/001-user-tasks/spec.md)" in tasks[0]
    assert f"## Specification (specs/{NEW}/spec.md)" in tasks[1]
    prs = pulls(story)
    assert sorted(prs) == ["specship/001-user-tasks", f"specship/{NEW}"]
    marker = marker_of(prs[f"specship/{NEW}"].issue.body or "")
    assert marker is not None
    assert marker["feature"] == NEW
    assert prs[f"specship/{NEW}"].requested_reviewers == [], "the pusher of B did not ask for 003"
    assert prs["specship/001-user-tasks"].requested_reviewers == ["bob"]
    (record,) = push_records(story, story.pushes["next"]["after"])
    assert (record.app, record.conclusion) == (BOT, "failure")
    assert record.summary is not None
    assert f"`{NEW}` (caught up)" in record.summary


@pytest.mark.slow
def test_a_caught_up_feature_is_not_implemented_again(story: Story) -> None:
    step = story.steps["third"]
    assert step.log.endswith("exit=1"), step.log[-4000:]
    assert "catch-up:" not in step.log
    assert len(dict.fromkeys(step.prompts)) == 1
    assert "## Specification (specs/001-user-tasks/spec.md)" in step.prompts[0]
    assert NEW not in step.summary
    assert len(story.world.github.repo(REPO).pulls) == 2
    assert push_records(story, story.pushes["third"]["after"])


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


@pytest.mark.slow
def test_without_any_record_a_feature_without_a_pr_is_never_taken_over(world: World) -> None:
    """First run (or no record readable): 003 may have been implemented by hand; leave it."""
    s = Story(world)
    s.push("old", {f"specs/{NEW}/spec.md": SPEC_003, f"specs/{NEW}/tasks.md": TASKS_003})
    s.push("now", {SPEC_001: edited(world, SPEC_001, "- A title of exactly 200 characters is accepted.")})
    play(world.anthropic, "turns:" + session("backend/NOTES-001.md", []))
    step = s.run("now")
    assert step.log.endswith("exit=1"), step.log[-4000:]
    assert "catch-up:" not in step.log
    assert len(dict.fromkeys(step.prompts)) == 1
    assert sorted(pulls(s)) == ["specship/001-user-tasks"]
    assert push_records(s, s.pushes["now"]["after"]), "this run leaves the record for the next"
