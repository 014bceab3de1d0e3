"""A GitHub App token without `bot-login` (issue 14): Specship asks GitHub who it is, keeps one
tracking comment, and its own comments (which start workflows under an App token) never act.

An installation token cannot call GET /user (403) and GET /app needs the App's JWT; the GraphQL
`viewer` answers `<app-slug>[bot]`. `run` as a subprocess against the emulators, which answer so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.trigger.grammar import parse_command
from tests.e2e import NO_REPAIR, World, log, new_world, play, user_texts
from tests.fakes.github_api import Fault
from tests.fakes.github_fixture import APP_BOT, APP_SLUG, APP_TOKEN, REPO
from tests.pipeline.test_run_commands import ANSWER_TEXT, CLARIFY, QUESTIONS, edit_scenario

APP = {"INPUT_GITHUB-TOKEN": APP_TOKEN}


def app_comments(world: World, number: int) -> list[str]:
    comments = sorted(world.github.repo(REPO).comments.values(), key=lambda c: c.id)
    return [c.body for c in comments if c.login == APP_BOT and c.issue_number == number]


@dataclass
class Story:
    world: World
    issue: int
    logs: dict[str, str]
    requests: dict[str, int]
    prompts: list[str]


@pytest.fixture(scope="module")
def story() -> Iterator[Story]:
    with new_world() as world:
        github = world.github
        issue = github.add_issue(
            REPO, "Implement specs/002-task-due-dates", body="Due dates.", author="alice"
        )
        logs, requests = {}, {}
        play(world.anthropic, CLARIFY)
        logs["label"] = log(world.run("issues", world.label_payload(issue), world.checkout(), **APP))
        requests["label"] = len(github.requests)
        # GitHub delivers the App's own tracking comment as an issue_comment event.
        (own,) = [c for c in github.repo(REPO).comments.values() if c.login == APP_BOT]
        payload = world.comment_payload(issue, own.body, APP_BOT, own.id)
        logs["own comment"] = log(world.run("issue_comment", payload, world.checkout(), **APP))
        requests["own comment"] = len(github.requests)
        seen = len(world.anthropic.message_requests)
        play(world.anthropic, edit_scenario("backend/ANSWERED.md", "UTC."))
        answer = world.command(issue, f"/specship answer {ANSWER_TEXT}", on_pr=False)
        logs["answer"] = log(world.run("issue_comment", answer, world.checkout(), **APP, **NO_REPAIR))
        yield Story(world, issue, logs, requests, user_texts(world.anthropic)[seen:])


@pytest.mark.slow
def test_the_app_asks_the_graphql_viewer_who_it_is(story: Story) -> None:
    assert story.logs["label"].endswith("exit=0"), story.logs["label"][-3000:]
    github = story.world.github
    assert github.calls("GET", r"^/user$", 403), "an installation token may not ask GET /user"
    viewers = [r for r in github.calls("POST", r"^/graphql$") if "viewer" in r.json["query"]]
    assert viewers
    assert {r.response_json["data"]["viewer"]["login"] for r in viewers} == {APP_BOT}
    assert not github.calls("GET", r"^/app$")


@pytest.mark.slow
def test_the_apps_own_comment_starts_nothing(story: Story) -> None:
    assert story.logs["own comment"].endswith("exit=0")
    assert "ignored: issue comment is not a /specship command" in story.logs["own comment"]
    assert story.requests["own comment"] == story.requests["label"], "not one API call"


@pytest.mark.slow
def test_one_tracking_comment_keeps_its_state_across_runs(story: Story) -> None:
    assert story.logs["answer"].endswith("exit=1"), story.logs["answer"][-3000:]  # a draft
    comments = app_comments(story.world, story.issue)
    tracking = [b for b in comments if f"specship:tracking:issue-{story.issue}:" in b]
    assert len(tracking) == 1, comments
    posts = story.world.github.calls("POST", rf"/issues/{story.issue}/comments$", 201)
    assert len(posts) == 1, "the answer run edited the comment the label run made"
    # The questions the label run stored on that comment reached the answer's prompt.
    assert all(q in story.prompts[0] for q in QUESTIONS)
    assert ANSWER_TEXT in story.prompts[0]


@pytest.mark.slow
def test_the_pr_and_its_check_run_belong_to_the_app(story: Story) -> None:
    repo = story.world.github.repo(REPO)
    (pull,) = repo.pulls.values()
    assert pull.issue.login == APP_BOT
    (run,) = [r for r in repo.check_runs.values() if r.name == "Specship"]
    assert (run.app, run.conclusion) == (APP_BOT, "failure")
    created = story.world.github.calls("POST", r"/check-runs$", 201)
    assert [r.response_json["app"]["slug"] for r in created] == [APP_SLUG]


@pytest.mark.slow
def test_nothing_specship_posted_reads_as_a_command(story: Story) -> None:
    bodies = [c.body for c in story.world.github.repo(REPO).comments.values() if c.login == APP_BOT]
    assert bodies
    for prefix in ("/specship", "/ship"):
        assert [b[:80] for b in bodies if parse_command(b, prefix) is not None] == []


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


def test_an_app_token_that_cannot_be_told_stops_before_any_model_call(world: World) -> None:
    world.github.inject("POST", r"^/graphql$", Fault.not_accessible(), times=None)
    issue = world.github.add_issue(REPO, "Implement specs/002-task-due-dates", body="x", author="alice")
    result = world.run("issues", world.label_payload(issue), **APP)
    assert result.returncode == 1, log(result)
    assert "could not tell which account its GitHub token acts as" in result.stdout + result.stderr
    assert "bot-login" in result.stdout + result.stderr
    assert app_comments(world, issue) == [], "no comment it could not find again"
    assert world.anthropic.requests == []
    assert world.outputs()["conclusion"] == "failure"
