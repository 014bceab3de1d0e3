"""Drafts GitHub will not give, and the `Specship` check run that decides instead (issue 14).

`run` as a subprocess against the emulators, which refuse what GitHub refuses: the GraphQL
draft mutations to GITHUB_TOKEN, and draft pull requests on a plan without them (422). Each run
is a short session whose gates fail (002's contracts are not implemented by it), so the PR must
say "not yet" without being a draft.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.pipeline.publish import DO_NOT_MERGE_LABEL, DRAFT_REFUSED, DRAFTS_UNSUPPORTED
from bot.report.checks import MERGE_SIGNAL
from tests.e2e import BRANCH, FEATURE, NO_REPAIR, SHORT_SUBMIT, World, log, new_world, play
from tests.fakes.github_checks import CheckRun
from tests.fakes.github_faults import RecordedRequest
from tests.fakes.github_fixture import BOT, REPO

CONTRACT = f"specs/{FEATURE}/contracts/openapi.yaml"


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


def issue(world: World) -> int:
    return world.github.add_issue(REPO, f"Implement specs/{FEATURE}", body="Due dates.", author="alice")


def tracking(world: World, number: int) -> str:
    comments = world.github.repo(REPO).comments.values()
    (body,) = [c.body for c in comments if c.login == BOT and "specship:tracking:" in c.body]
    return body


def check_runs(world: World, sha: str | None) -> list[CheckRun]:
    return [r for r in world.github.repo(REPO).check_runs.values() if r.head_sha == sha]


def pr_posts(world: World) -> list[RecordedRequest]:
    """The pull requests Specship asked for (not preflight's deliberately empty probe)."""
    return [r for r in world.github.calls("POST", r"/pulls$") if (r.json or {}).get("head")]


def the_pr(world: World) -> int:
    (number,) = world.github.repo(REPO).pulls
    return number


@pytest.mark.slow
def test_a_plan_without_drafts_gets_a_ready_pr_a_failing_check_and_the_label(world: World) -> None:
    world.github.set_drafts_supported(REPO, False)  # a private repository on GitHub Free
    number = issue(world)
    play(world.anthropic, SHORT_SUBMIT)
    result = world.run("issues", world.label_payload(number), **NO_REPAIR)
    assert result.returncode == 1, log(result)  # the gates fail: the step fails
    assert world.outputs()["conclusion"] == "draft"
    refused, created = pr_posts(world)
    assert refused.status == 422
    assert refused.response_json["message"] == "Draft pull requests are not supported in this repository."
    assert (created.status, created.json["draft"]) == (201, False)
    pull = world.github.repo(REPO).pulls[the_pr(world)]
    assert pull.draft is False
    assert DO_NOT_MERGE_LABEL in pull.issue.labels
    (run,) = check_runs(world, world.sha(BRANCH))
    assert (run.name, run.conclusion, run.app) == ("Specship", "failure", BOT)
    assert DRAFTS_UNSUPPORTED.format(failing="")[:60] in tracking(world, number)
    assert f"`{DO_NOT_MERGE_LABEL}` label" in tracking(world, number)


@pytest.mark.slow
def test_github_token_cannot_make_a_ready_pr_a_draft_so_the_label_and_check_say_it(world: World) -> None:
    """A person marked Specship's PR ready; a later run fails its gates. GITHUB_TOKEN may not run
    convertPullRequestToDraft ("Resource not accessible by integration"): Specship says so, labels
    the PR and fails its check run, and the run itself does not fail on it."""
    number = world.seed_pr(files={"backend/EARLIER.md": "An earlier run.\n"})
    world.github.repo(REPO).pulls[number].draft = False
    play(world.anthropic, SHORT_SUBMIT)
    result = world.run("issue_comment", world.command(number, "/specship retry"), **NO_REPAIR)
    assert result.returncode == 1, log(result)
    assert world.outputs()["conclusion"] == "draft", "the gates' verdict, not an error about drafts"
    (mutation,) = world.github.calls("POST", r"^/graphql$", 200)[-1:]
    assert "convertPullRequestToDraft" in mutation.json["query"]
    assert mutation.response_json["errors"][0]["message"] == "Resource not accessible by integration"
    pull = world.github.repo(REPO).pulls[number]
    assert pull.draft is False
    assert DO_NOT_MERGE_LABEL in pull.issue.labels
    why = "Resource not accessible by integration"
    assert DRAFT_REFUSED.format(why=why, label=DO_NOT_MERGE_LABEL) in tracking(world, number)
    (run,) = check_runs(world, world.sha(BRANCH))
    assert run.conclusion == "failure"


@pytest.mark.slow
def test_the_check_run_annotates_each_finding_with_file_and_line(world: World) -> None:
    number = world.seed_pr(files={"backend/EARLIER.md": "An earlier run.\n"})
    play(world.anthropic, SHORT_SUBMIT)
    result = world.run("issue_comment", world.command(number, "/specship retry"), **NO_REPAIR)
    assert result.returncode == 1, log(result)
    (run,) = check_runs(world, world.sha(BRANCH))
    assert (run.name, run.status, run.conclusion) == ("Specship", "completed", "failure")
    assert run.details_url is not None
    assert run.details_url.endswith("/actions/runs/4242")
    assert run.title is not None
    assert "contracts" in run.title
    assert run.summary is not None
    assert MERGE_SIGNAL in run.summary
    assert "| `contracts` | ❌ failed |" in run.summary
    on_contract = [a for a in run.annotations if a["path"] == CONTRACT]
    assert on_contract, run.annotations
    assert all(a["annotation_level"] in ("failure", "warning", "notice") for a in run.annotations)
    assert all(isinstance(a["start_line"], int) and a["start_line"] >= 1 for a in run.annotations)
    assert all(a["title"].split(":")[0] in run.summary for a in run.annotations)
    assert any(a["annotation_level"] == "failure" for a in on_contract)
    # The label says the same: the PR is a draft here, so no do-not-merge label is needed.
    pull = world.github.repo(REPO).pulls[number]
    assert pull.draft is True
    assert DO_NOT_MERGE_LABEL not in pull.issue.labels


@pytest.mark.slow
def test_draft_false_opens_a_ready_pr_and_never_asks_for_drafts(world: World) -> None:
    number = issue(world)
    play(world.anthropic, SHORT_SUBMIT)
    result = world.run("issues", world.label_payload(number), **NO_REPAIR, **{"INPUT_DRAFT": "false"})
    assert result.returncode == 1, log(result)
    (created,) = pr_posts(world)
    assert created.json["draft"] is False
    assert not [r for r in world.github.calls("POST", r"^/graphql$") if "mutation" in r.json["query"]]
    pull = world.github.repo(REPO).pulls[the_pr(world)]
    assert (pull.draft, DO_NOT_MERGE_LABEL in pull.issue.labels) == (False, True)
    (run,) = check_runs(world, world.sha(BRANCH))
    assert run.conclusion == "failure"
