"""Issue 14 on the GitHub host: who the token is, check runs, drafts a plan refuses, inert posts.

The real PyGithub client against the emulator, which answers as GitHub does for each token type
(the sources are cited in tests/fakes/github_checks.py and github_graphql.py).
"""

from __future__ import annotations

from typing import Any

import github
import pytest

from bot.exceptions import FatalError
from bot.github.checks import ANNOTATIONS_PER_REQUEST
from bot.github.host import POSTS_COMMAND, GitHubHost
from bot.github.people import UNKNOWN_IDENTITY_FIX
from bot.github.retry import GitHubApiError, MissingPermission
from bot.github.types import Annotation, CheckRunSpec
from tests.fakes.github_api import Fault, GitHubEmulator
from tests.fakes.github_fixture import ACTIONS_TOKEN, APP_BOT, APP_TOKEN, BOT, REPO, USER_TOKENS, client

BRANCH = "specship/002-tasks"
NO_CHECKS = "ghs_" + "N" * 36


def host_for(emu: GitHubEmulator, token: str = ACTIONS_TOKEN, **kw: Any) -> GitHubHost:
    return GitHubHost(token, REPO, emu.url, sleep=lambda _: None, **kw)


def spec(sha: str, count: int = 0, conclusion: str = "failure") -> CheckRunSpec:
    notes = tuple(Annotation("app.py", i + 1, "failure", f"finding {i}", "guard") for i in range(count))
    return CheckRunSpec("Specship", sha, conclusion, "t", "s", annotations=notes)  # type: ignore[arg-type]


# ---- who the token acts as -----------------------------------------------------------------------


@pytest.mark.parametrize(("token", "login"), [(ACTIONS_TOKEN, BOT), (APP_TOKEN, APP_BOT)])
def test_an_installation_token_learns_its_login_from_the_graphql_viewer(
    github_emu: GitHubEmulator, token: str, login: str
) -> None:
    host = host_for(github_emu, token)
    assert host.whoami() == login
    assert host.whoami() == login  # asked once
    assert [r.path for r in github_emu.requests] == ["/user", "/graphql"]
    assert github_emu.calls("GET", "^/user$")[0].status == 403  # REST has no such question for it
    assert github_emu.requests[1].json["query"] == "query { viewer { login } }"


def test_a_token_that_cannot_be_told_stops_loudly(github_emu: GitHubEmulator) -> None:
    github_emu.inject("POST", r"^/graphql$", Fault.not_accessible(), times=None)
    with pytest.raises(FatalError) as caught:
        host_for(github_emu, APP_TOKEN).whoami()
    assert "could not tell which account" in caught.value.cause
    assert caught.value.fix == UNKNOWN_IDENTITY_FIX
    assert "bot-login" in caught.value.fix
    assert github_emu.calls("POST", r"/comments$") == []


def test_a_given_bot_login_asks_nothing_and_preflight_checks_it(github_emu: GitHubEmulator) -> None:
    right = host_for(github_emu, APP_TOKEN, identity=APP_BOT)
    assert right.whoami() == APP_BOT
    assert github_emu.requests == []
    assert right.preflight("specship/") == []
    wrong = host_for(github_emu, APP_TOKEN, identity="specship[bot]")
    (problem,) = wrong.preflight("specship/")
    assert (problem.check, problem.blocking) == ("identity", True)
    assert APP_BOT in problem.cause
    assert f"bot-login: {APP_BOT}" in problem.fix


# ---- nothing Specship posts reads as a command ------------------------------------------------------


def test_text_that_would_read_as_a_command_is_never_posted(github_emu: GitHubEmulator) -> None:
    host = host_for(github_emu)
    issue = github_emu.add_issue(REPO, "x", author="alice")
    marker = "<!-- specship:tracking:x -->"
    with pytest.raises(FatalError) as caught:
        host.upsert_comment(issue, marker, f"\n  /specship retry\n{marker}")
    assert caught.value.cause == POSTS_COMMAND
    with pytest.raises(FatalError):
        host.create_pr(BRANCH, "main", "t", "/specship revise everything", True)
    # without the marker in it, the marker becomes the first line: harmless
    info = host.upsert_comment(issue, marker, "/specship retry, as you asked")
    assert info.body.splitlines()[0] == marker
    assert [r.json["body"] for r in github_emu.calls("POST", r"/comments$")] == [info.body]


# ---- drafts a plan does not offer -------------------------------------------------------------------


def test_a_draft_refused_by_the_plan_is_opened_ready_with_a_warning(github_emu: GitHubEmulator) -> None:
    github_emu.set_drafts_supported(REPO, False)
    github_emu.commit_files(REPO, BRANCH, {"a.py": "A = 1\n"})
    host = host_for(github_emu)
    pr = host.create_pr(BRANCH, "main", "t", "b", draft=True)
    assert pr.draft is False
    refused, created = github_emu.calls("POST", r"/pulls$")
    assert (refused.status, created.status) == (422, 201)
    assert refused.response_json["message"] == "Draft pull requests are not supported in this repository."
    assert refused.response_json["documentation_url"].endswith("#create-a-pull-request")
    assert (refused.json["draft"], created.json["draft"]) == (True, False)
    assert host.warnings == [
        "Draft pull requests are not supported in this repository: Specship opened the pull request "
        "ready for review."
    ]
    assert host.mark_draft(pr.number).refused == "Resource not accessible by integration"


# ---- check runs -----------------------------------------------------------------------------------


def test_check_run_annotations_go_fifty_per_request(github_emu: GitHubEmulator) -> None:
    sha = github_emu.commit_files(REPO, BRANCH, {"app.py": "x = 1\n" * 200})
    host = host_for(github_emu)
    info = host.publish_check_run(spec(sha, 120))
    assert (info.name, info.conclusion, info.head_sha, info.app_slug) == (
        "Specship",
        "failure",
        sha,
        "github-actions",
    )
    assert info.annotations == 120
    post, *patches = [
        r for r in github_emu.requests if r.path.endswith(("/check-runs", f"/check-runs/{info.id}"))
    ]
    assert [len(r.json["output"]["annotations"]) for r in (post, *patches)] == [50, 50, 20]
    assert [r.method for r in patches] == ["PATCH", "PATCH"]
    stored = github_emu.repo(REPO).check_runs[info.id]
    assert [a["message"] for a in stored.annotations] == [f"finding {i}" for i in range(120)]
    assert stored.annotations[0]["annotation_level"] == "failure"
    assert [r.id for r in host.check_runs(sha, "Specship")] == [info.id]
    assert host.check_runs(sha, "Other") == []


def test_the_emulator_refuses_more_than_fifty_annotations_like_github(github_emu: GitHubEmulator) -> None:
    sha = github_emu.commit_files(REPO, BRANCH, {"app.py": "x\n"})
    notes = [a.to_json() for a in spec(sha, ANNOTATIONS_PER_REQUEST + 1).annotations]
    with pytest.raises(github.GithubException) as caught:
        client(github_emu).get_repo(REPO).create_check_run(
            "Specship", sha, conclusion="failure", output={"title": "t", "summary": "s", "annotations": notes}
        )
    assert caught.value.status == 422
    assert (
        caught.value.data["message"]
        == "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
    )
    assert github_emu.repo(REPO).check_runs == {}


def test_check_runs_need_checks_write(github_emu: GitHubEmulator) -> None:
    sha = github_emu.commit_files(REPO, BRANCH, {"app.py": "x\n"})
    github_emu.add_token(
        NO_CHECKS, BOT, installation=True, permissions={"contents": "write", "metadata": "read"}
    )
    with pytest.raises(MissingPermission) as caught:
        host_for(github_emu, NO_CHECKS).publish_check_run(spec(sha))
    assert caught.value.permission == "checks: write"
    assert "permissions: {checks: write}" in caught.value.fix
    assert github_emu.repo(REPO).check_runs == {}


def test_a_personal_token_can_never_create_check_runs(github_emu: GitHubEmulator) -> None:
    sha = github_emu.commit_files(REPO, BRANCH, {"app.py": "x\n"})
    with pytest.raises(GitHubApiError) as caught:
        host_for(github_emu, USER_TOKENS["alice"]).publish_check_run(spec(sha))
    assert "only for GitHub Apps" in caught.value.cause
    (refused,) = github_emu.calls("POST", r"/check-runs$")
    assert (refused.status, refused.response_json["message"]) == (
        403,
        "You must authenticate via a GitHub App.",
    )


def test_only_the_app_that_made_a_check_run_may_update_it(github_emu: GitHubEmulator) -> None:
    sha = github_emu.commit_files(REPO, BRANCH, {"app.py": "x\n"})
    mine = host_for(github_emu).publish_check_run(spec(sha, conclusion="success"))
    other = client(github_emu, APP_TOKEN).get_repo(REPO).get_check_run(mine.id)
    with pytest.raises(github.GithubException) as caught:
        other.edit(conclusion="failure")
    assert caught.value.status == 403
    assert github_emu.repo(REPO).check_runs[mine.id].conclusion == "success"


def test_the_viewer_answers_a_personal_token_with_its_user(github_emu: GitHubEmulator) -> None:
    _, data = client(github_emu, USER_TOKENS["alice"]).requester.graphql_query(
        "query { viewer { login databaseId } }", {}
    )
    assert data["data"]["viewer"]["login"] == "alice"
    assert isinstance(data["data"]["viewer"]["databaseId"], int)
    _, unknown = client(github_emu).requester.requestJsonAndCheck(
        "POST", f"{github_emu.url}/graphql", input={"query": "query { viewer { secrets } }"}
    )
    assert "doesn't exist on type" in unknown["errors"][0]["message"]
