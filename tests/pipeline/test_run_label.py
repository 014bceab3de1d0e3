"""The label flow end to end: `run` as a subprocess, real PyGithub and anthropic clients, emulators."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.report.markers import marker_of
from bot.report.validate import HEADINGS
from tests.e2e import BRANCH, FEATURE, SCENARIO_002, World, play, world_dir
from tests.fakes.anthropic_api import AnthropicEmulator
from tests.fakes.github_api import GitHubEmulator
from tests.fakes.github_fixture import REPO
from tests.runner_log import outside_stops

BOT = "github-actions[bot]"


@dataclass(frozen=True)
class LabelRun:
    world: World
    issue: int
    first: str
    second: str
    outputs: dict[str, str]
    summary: str


@pytest.fixture(scope="module")
def label_run() -> Iterator[LabelRun]:
    """One full label run of the 002 scenario, then the same event again."""
    from tests.fakes.github_fixture import running_emulator

    for tmp in world_dir():
        with running_emulator() as github, AnthropicEmulator() as anthropic:
            world = World(github, anthropic, tmp)
            issue = github.add_issue(REPO, f"Implement specs/{FEATURE}", body="due dates", author="alice")
            play(anthropic, SCENARIO_002)
            first = world.run("issues", world.label_payload(issue))
            outputs, summary = world.outputs(), (tmp / "summary").read_text()
            assert anthropic.expectation_failures == []
            second = world.run("issues", world.label_payload(issue), workspace=world.checkout())
            yield LabelRun(
                world,
                issue,
                first.stdout + first.stderr + f"\nexit={first.returncode}",
                second.stdout + second.stderr + f"\nexit={second.returncode}",
                outputs,
                summary,
            )


@pytest.mark.slow
def test_label_run_opens_one_pr_that_closes_the_issue(label_run: LabelRun) -> None:
    world, issue, first = label_run.world, label_run.issue, label_run.first
    assert first.endswith("exit=0"), first[-4000:]
    repo = world.github.repo(REPO)
    pulls = list(repo.pulls.values())
    assert len(pulls) == 1
    pr = pulls[0]
    assert pr.head_ref == BRANCH
    assert pr.base_ref == "main"
    body = pr.issue.body or ""
    positions = [body.index(h) for h in HEADINGS]
    assert positions == sorted(positions)
    assert f"Closes #{issue}" in body
    marker = marker_of(body)
    assert marker is not None
    assert marker["feature"] == FEATURE
    assert marker["conclusion"] == "success"
    assert pr.draft is True, "draft: true is the default, so a human marks it ready"
    assert world.branches() == ["main", BRANCH]
    assert {"specship"} <= set(pr.issue.labels)
    assert pr.requested_reviewers == ["bob"]
    outputs = label_run.outputs
    assert outputs["pr-number"] == str(pr.issue.number)
    assert outputs["branch"] == BRANCH
    assert outputs["conclusion"] == "success"
    assert float(outputs["cost-usd"]) > 0
    assert int(outputs["input-tokens"]) > int(outputs["output-tokens"]) > 0
    summary = label_run.summary
    assert "| implement | 002-task-due-dates | success |" in summary


@pytest.mark.slow
def test_tracking_comment_is_edited_in_place_and_the_issue_gets_eyes(
    label_run: LabelRun,
) -> None:
    world, issue = label_run.world, label_run.issue
    github: GitHubEmulator = world.github
    repo = github.repo(REPO)
    mine = [c for c in repo.comments.values() if c.login == BOT]
    tracking = [c for c in mine if "specship:tracking:issue-" in c.body]
    assert len(tracking) == 1, [c.body[:80] for c in mine]
    edited = [(r.json or {}).get("body", "") for r in github.calls("PATCH", r"/issues/comments/\d+$", 200)]
    assert any("every gate passed" in body for body in edited)
    assert "Nothing changed" in tracking[0].body, "the re-run edits the same comment"
    assert "/actions/runs/4242" in tracking[0].body
    creates = github.calls("POST", rf"/issues/{issue}/comments$", 201)
    edits = github.calls("PATCH", r"/issues/comments/\d+$", 200)
    assert len(creates) == 1
    assert len(edits) >= 3
    assert [r.content for r in repo.issues[issue].reactions] == ["eyes"]


@pytest.mark.slow
def test_same_trigger_again_reuses_the_pr_and_does_nothing(label_run: LabelRun) -> None:
    """TC-49."""
    world, second = label_run.world, label_run.second
    assert second.endswith("exit=0"), second[-3000:]
    assert "Nothing changed" in " ".join(c.body for c in world.github.repo(REPO).comments.values())
    assert len(world.github.repo(REPO).pulls) == 1
    assert world.branches() == ["main", BRANCH]


@pytest.mark.slow
def test_no_secret_reaches_github_or_the_log(label_run: LabelRun) -> None:
    from tests.fakes.anthropic_api import API_KEY
    from tests.fakes.github_fixture import ACTIONS_TOKEN

    world = label_run.world
    posted = " ".join(str(r.json) for r in world.github.requests if r.json is not None)
    for log in (label_run.first, label_run.second):
        lines = log.splitlines()
        masks = [i for i, line in enumerate(lines) if line.startswith("::add-mask::")]
        # TC-17: every mask comes before anything else is printed
        assert masks == list(range(len(masks)))
        assert f"::add-mask::{ACTIONS_TOKEN}" in lines
        rest = "\n".join(line for line in lines if not line.startswith("::add-mask::"))
        for secret in (ACTIONS_TOKEN, API_KEY):
            assert secret not in rest
            assert secret not in posted


@pytest.mark.slow
def test_the_log_follows_every_phase_turn_tool_call_and_gate(label_run: LabelRun) -> None:
    """Issue 15 item 7: the job log says what happens as it happens; the transcript is an output."""
    import json
    import re

    world, log = label_run.world, label_run.first
    path = label_run.outputs["transcript"]
    assert path == f".git/specship/transcripts/{FEATURE}.jsonl"
    records = [json.loads(line) for line in (world.workspace / path).read_text().splitlines()]
    turns = [r for r in records if r["kind"] == "assistant"]
    tools = [r for r in records if r["kind"] == "tool"]
    assert len(turns) > 10
    lines = log.splitlines()
    turn_lines = [
        line for line in lines if re.match(r"\[\d\d:\d\d\.\d\] turn \d+: .* · \$\d+\.\d\d so far", line)
    ]
    assert len(turn_lines) == len(turns)
    tool_lines = [line for line in lines if re.match(r"\[\d\d:\d\d\.\d\]   \S", line)]
    assert len(tool_lines) == len(tools)
    phases = [line.split("phase: ", 1)[1] for line in lines if "] phase: " in line]
    assert phases[:4] == ["preflight", "setup", "implement", "gates"]
    assert phases[-2:] == ["push", "pull request"]
    groups = [line for line in lines if line.startswith("::group::gate ")]
    assert {g.removeprefix("::group::gate ").split(":")[0] for g in groups} >= {
        "pytest", "security", "fastapi_auth", "contracts", "guard", "acceptance",
    }  # fmt: skip
    assert lines.count("::endgroup::") >= len(groups)
    assert f"transcript: {world.workspace.resolve()}/.git/specship/transcripts/{FEATURE}.jsonl" in log
    # Every quoted line sits between ::stop-commands:: and its token: the model's words cannot act.
    outside = [line for line in outside_stops(log) if re.match(r"\[\d\d:\d\d\.\d\] turn ", line)]
    assert outside == [], "turn lines outside stop-commands"
