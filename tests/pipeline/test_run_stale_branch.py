"""A feature's open PR after its spec moved on (issue 14, bug 1): the branch gets the base merged in.

One story on one repository: Specship's PR for 002 exists (its own commits, a task-tick commit,
and a human's commit on top); the spec is then edited on main and pushed, and later main moves
again and a maintainer comments `/specship retry`. Each step is `run` as a subprocess against
the GitHub and Anthropic emulators, with the real PyGithub and anthropic clients.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from bot.pipeline.github import MERGED_BASE, SPEC_CONFLICT
from bot.report.build import spec_hash
from bot.report.markers import marker_of
from tests.conftest import run_git
from tests.e2e import BRANCH, FEATURE, SCENARIO_002, World, log, new_world, play, user_texts
from tests.fakes.github_fixture import BOT, REPO

SPEC = f"specs/{FEATURE}/spec.md"
TASKS = f"specs/{FEATURE}/tasks.md"
EDGE = "- A filter that matches nothing returns an empty page, not an error."
FIRST_EDIT = "- A due date in the year 9999 is accepted like any other calendar date."
SECOND_EDIT = "- A task whose due date is today is not overdue."
T018 = "T018 [P] Document due_date and the new list query parameters in backend/README.md"
T018_REWORDED = "T018 [P] Document due_date, the list filters and the sort options in backend/README.md"
HUMAN_FILE = "backend/HUMAN.md"


def final_report() -> dict[str, Any]:
    """The submit_report of the 002 scenario: the same proof, for a short session on top of it."""
    data = yaml.safe_load(SCENARIO_002.read_text())
    calls = [c for turn in data["turns"] for c in turn.get("tool_calls", []) if c["name"] == "submit_report"]
    report: dict[str, Any] = calls[-1]["input"]
    report["files"] = [*report["files"], {"path": "backend/RETRIED.md", "purpose": "A note of the retry"}]
    return report


def retry_scenario() -> str:
    turns = [
        {
            "tool_calls": [
                {
                    "name": "str_replace_based_edit_tool",
                    "input": {"command": "create", "path": "backend/RETRIED.md", "file_text": "Retried.\n"},
                }
            ]
        },
        {"tool_calls": [{"name": "submit_report", "input": final_report()}]},
    ]
    return yaml.safe_dump({"turns": turns}, sort_keys=False)


@dataclass
class Step:
    log: str
    outputs: dict[str, str]
    head: str
    main: str
    prompts: list[str]
    body: str
    tracking: str


@dataclass
class Story:
    world: World
    pr: int
    specship_head: str
    human: str
    steps: dict[str, Step]

    def run(self, name: str, event: str, payload: dict[str, Any]) -> Step:
        world = self.world
        seen = len(world.anthropic.message_requests)
        result = world.run(event, payload, world.checkout())
        comments = world.github.repo(REPO).comments.values()
        (tracking,) = [
            c.body for c in comments if c.login == BOT and f"specship:tracking:pr-{self.pr}:" in c.body
        ]
        head, main = world.sha(BRANCH), world.sha("main")
        assert head is not None
        assert main is not None
        step = Step(
            log(result),
            world.outputs(),
            head,
            main,
            user_texts(world.anthropic)[seen:],
            world.github.repo(REPO).pulls[self.pr].issue.body or "",
            tracking,
        )
        self.steps[name] = step
        return step


def show(world: World, rev: str, path: str) -> str:
    return run_git(world.github.bare_repo_path, "show", f"{rev}:{path}")


def edit_main(world: World, files: dict[str, tuple[str, str]], message: str) -> dict[str, Any]:
    """A person edits files on main (old text -> new text) and pushes: the push event."""
    before = world.sha("main")
    assert before is not None
    changed: dict[str, str | bytes | None] = {}
    for path, (old, new) in files.items():
        text = show(world, "main", path)
        assert old in text, (path, old)
        changed[path] = text.replace(old, new, 1)
    after = world.commit("main", changed, message)
    return world.push_payload(before, after)


@pytest.fixture(scope="module")
def story() -> Iterator[Story]:
    with new_world() as world:
        # Specship's earlier run: its branch, and its tick commit on tasks.md (all boxes ticked).
        ticked = show(world, "main", TASKS).replace("- [ ]", "- [X]")
        pr = world.seed_pr(files={"backend/NOTES.md": "First draft.\n", TASKS: ticked})
        specship_head = world.sha(BRANCH)
        assert specship_head is not None
        human = world.commit(BRANCH, {HUMAN_FILE: "Reviewed by bob.\n"}, "bob: review notes")
        s = Story(world, pr, specship_head, human, {})
        # The spec changes on main: an edge case, and task T018 reworded (which the branch ticked).
        payload = edit_main(
            world,
            {SPEC: (EDGE, f"{EDGE}\n{FIRST_EDIT}"), TASKS: (T018, T018_REWORDED)},
            "specs: due dates up to 9999",
        )
        play(world.anthropic, SCENARIO_002)
        s.run("spec edit", "push", payload)
        # main moves again (the spec and the README), then a maintainer asks for a retry.
        edit_main(
            world,
            {SPEC: (FIRST_EDIT, f"{FIRST_EDIT}\n{SECOND_EDIT}"), "README.md": ("#", "# (moved on) #")},
            "specs: today is not overdue",
        )
        play(world.anthropic, retry_scenario())
        s.run("retry", "issue_comment", world.command(pr, "/specship retry"))
        yield s


def ancestors(world: World, sha: str) -> set[str]:
    return set(run_git(world.github.bare_repo_path, "rev-list", sha).split())


@pytest.mark.slow
def test_a_spec_edit_turns_the_open_pr_green_and_keeps_the_human_commit(story: Story) -> None:
    world, step = story.world, story.steps["spec edit"]
    assert step.log.endswith("exit=0"), step.log[-4000:]
    assert step.outputs["conclusion"] == "success"
    assert step.outputs["pr-number"] == str(story.pr)
    assert len(world.github.repo(REPO).pulls) == 1, "the same PR, updated"
    history = ancestors(world, step.head)
    assert {story.specship_head, story.human, step.main} <= history, "merged, nothing forced away"
    assert show(world, step.head, HUMAN_FILE) == "Reviewed by bob.\n"
    merges = run_git(world.github.bare_repo_path, "rev-list", "--merges", "--parents", step.head).split()
    assert merges[1:] == [story.human, step.main], "one merge: the branch as people left it, then main"
    # The gates and the body judge against main: the spec is main's, nothing reads as reverted.
    assert run_git(world.github.bare_repo_path, "diff", "--name-only", step.main, step.head, "--", SPEC) == ""
    assert "read-only" not in step.tracking
    assert "every gate passed" in step.tracking
    assert SPEC not in step.body
    marker = marker_of(step.body)
    assert marker is not None
    assert (marker["base"], marker["head"], marker["conclusion"]) == (step.main, step.head, "success")
    assert marker["spec_hash"] == spec_hash(world.checkout(), f"specs/{FEATURE}", step.main)
    # The model worked on the new spec: the edit is in its task, and said to be what changed.
    assert FIRST_EDIT in step.prompts[0]
    changed = step.prompts[0].split("## What changed in the specification\n", 1)[1]
    assert f"+{FIRST_EDIT}" in changed.split("\n## Specification", 1)[0]
    # "green": the Specship check run on the new head passed (GITHUB_TOKEN leaves the draft alone).
    runs = [r for r in world.github.repo(REPO).check_runs.values() if r.head_sha == step.head]
    assert [(r.name, r.conclusion, r.app) for r in runs] == [("Specship", "success", BOT)]
    assert MERGED_BASE.format(base="main", sha=merges[0][:12]) in step.tracking


@pytest.mark.slow
def test_a_task_conflict_takes_mains_text_and_the_ticks_come_back(story: Story) -> None:
    world, step = story.world, story.steps["spec edit"]
    assert SPEC_CONFLICT.format(path=TASKS, base="main") in step.tracking
    tasks = show(world, step.head, TASKS)
    assert f"- [X] {T018_REWORDED}" in tasks, "main's wording, ticked again by the passing run"
    assert T018 not in tasks
    assert "- [ ]" not in tasks


@pytest.mark.slow
def test_retry_after_main_moved_merges_it_again_and_judges_against_it(story: Story) -> None:
    world, first, step = story.world, story.steps["spec edit"], story.steps["retry"]
    assert step.log.endswith("exit=0"), step.log[-4000:]
    assert step.outputs["conclusion"] == "success"
    assert step.main != first.main
    assert {first.head, step.main} <= ancestors(world, step.head)
    assert show(world, step.head, "README.md").startswith("# (moved on) #")
    assert show(world, step.head, "backend/RETRIED.md") == "Retried.\n"
    assert run_git(world.github.bare_repo_path, "diff", "--name-only", step.main, step.head, "--", SPEC) == ""
    # The retry works at main as it is now: its task names that base, and the work tree the model
    # edits (and views the spec in) holds main's newest spec.
    assert f"(base commit {step.main[:12]})" in step.prompts[0]
    assert SECOND_EDIT in show(world, step.head, SPEC)
    marker = marker_of(step.body)
    assert marker is not None
    assert (marker["base"], marker["head"]) == (step.main, step.head)
    assert "read-only" not in step.tracking
    runs = [r for r in world.github.repo(REPO).check_runs.values() if r.head_sha == step.head]
    assert [(r.name, r.conclusion) for r in runs] == [("Specship", "success")]


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


def test_a_conflict_specship_cannot_resolve_stops_with_one_clear_comment(world: World) -> None:
    readme = show(world, "main", "backend/README.md")
    first = readme.splitlines()[0]
    pr = world.seed_pr(files={"backend/README.md": readme.replace(first, f"{first} (Specship)", 1)})
    head = world.sha(BRANCH)
    payload = edit_main(
        world,
        {"backend/README.md": (first, f"{first} (a person)"), SPEC: (EDGE, f"{EDGE}\n{FIRST_EDIT}")},
        "docs and spec",
    )
    result = world.run("push", payload, world.checkout())
    assert result.returncode == 1, log(result)
    assert world.sha(BRANCH) == head, "nothing pushed"
    assert world.anthropic.requests == [], "stopped before any model call"
    comments = [c.body for c in world.github.repo(REPO).comments.values() if c.issue_number == pr]
    (comment,) = comments
    assert "cannot be brought up to date with main" in comment
    assert "backend/README.md" in comment
    assert "git merge origin/main" in comment
    assert "/specship retry" in comment
    assert world.outputs()["conclusion"] == "failure"
