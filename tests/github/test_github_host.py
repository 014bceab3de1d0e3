"""bot.github.host with the real PyGithub client against the GitHub emulator (TC-2..5, TC-28..38)."""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bot.exceptions import FatalError
from bot.github.failures import failure_of
from bot.github.host import GitHubHost
from bot.github.retry import (
    RATE_LIMIT_TRIES,
    SERVER_TRIES,
    ActionsCannotCreatePullRequests,
    Calls,
    ContentCapReached,
    GitHubApiError,
    MissingPermission,
    Policy,
    RateLimited,
)
from bot.github.types import WRITE_ROLES, DraftChange
from tests.conftest import ROOT
from tests.fakes.github_api import Fault, GitHubEmulator
from tests.fakes.github_fixture import ACTIONS_TOKEN, APP_TOKEN, BOT, REPO, USER_TOKENS

MARKER = "<!-- specship:tracking:002-tasks -->"
BRANCH = "specship/002-tasks"
LIMITED_TOKEN = "ghs_" + "L" * 36


class FakeTime:
    """Wall-clock time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake(github_emu: GitHubEmulator) -> FakeTime:
    """The injected clock; the emulator stamps objects and rate-limit resets with it too."""
    clock = FakeTime()
    github_emu.world.clock = clock.clock
    return clock


def make_host(emu: GitHubEmulator, fake: FakeTime, token: str = ACTIONS_TOKEN, **kw: Any) -> GitHubHost:
    return GitHubHost(token, REPO, emu.url, clock=fake.clock, sleep=fake.sleep, **kw)


@pytest.fixture
def host(github_emu: GitHubEmulator, fake: FakeTime) -> GitHubHost:
    return make_host(github_emu, fake)


def limited_token(emu: GitHubEmulator, **levels: str | None) -> str:
    """An installation token like GITHUB_TOKEN with some permissions changed (None: removed)."""
    granted: dict[str, str | None] = {
        "contents": "write",
        "issues": "write",
        "pull-requests": "write",
        "checks": "write",
    }
    granted.update({k.replace("_", "-"): v for k, v in levels.items()})
    permissions = {k: v for k, v in granted.items() if v is not None} | {"metadata": "read"}
    emu.add_token(LIMITED_TOKEN, BOT, installation=True, permissions=permissions)
    return LIMITED_TOKEN


def open_pr(emu: GitHubEmulator, host: GitHubHost, draft: bool = True) -> int:
    emu.commit_files(REPO, BRANCH, {"backend/app/tasks.py": "TASKS = []\n"})
    return host.create_pr(BRANCH, "main", "Implement 002-tasks", "body", draft).number


def comments(emu: GitHubEmulator, number: int) -> list[str]:
    return [c.body for c in emu.repo(REPO).comments.values() if c.issue_number == number]


def no_token_in(exc: BaseException) -> None:
    text = " ".join([str(exc), repr(exc), getattr(exc, "cause", ""), getattr(exc, "fix", "")])
    assert ACTIONS_TOKEN not in text
    assert LIMITED_TOKEN not in text


# ---- TC-28 .. TC-31: rate limits ---------------------------------------------------------------


def test_tc28_secondary_limit_with_retry_after_waits_then_one_comment(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.inject("POST", r"/issues/\d+/comments$", Fault.secondary_rate_limit(retry_after=3))
    host.upsert_comment(issue, MARKER, "working on it")
    posts = github_emu.calls("POST", r"/comments$")
    assert [p.status for p in posts] == [403, 201]
    assert 3 in fake.sleeps
    sent = host.pacer.sent_at
    assert sent[-1] - sent[-2] >= 3
    assert len(comments(github_emu, issue)) == 1


def test_tc29_secondary_limit_without_retry_after_backs_off_then_gives_up(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.inject("POST", r"/issues/\d+/comments$", Fault.secondary_rate_limit(), times=None)
    with pytest.raises(RateLimited, match="GitHub secondary rate limit, retry later") as caught:
        host.upsert_comment(issue, MARKER, "working on it")
    posts = github_emu.calls("POST", r"/comments$")
    assert len(posts) == RATE_LIMIT_TRIES
    assert all(int(p.response_headers["x-ratelimit-remaining"]) > 0 for p in posts)
    assert fake.sleeps[:3] == [60, 120, 240]  # at least a minute, then exponential
    assert comments(github_emu, issue) == []
    no_token_in(caught.value)


def test_tc29_secondary_limit_twice_then_success_gives_one_comment(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.inject("POST", r"/issues/\d+/comments$", Fault.secondary_rate_limit(), times=2)
    host.upsert_comment(issue, MARKER, "working on it")
    assert [s for s in fake.sleeps if s >= 60] == [60, 120]
    assert len(comments(github_emu, issue)) == 1


def test_tc30_429_with_reset_sleeps_until_reset(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.inject("GET", r"/issues/\d+$", Fault.too_many_requests(reset_in=30))
    assert host.get_issue(issue).title == "Implement 002"
    assert fake.sleeps == [31]
    assert [r.status for r in github_emu.calls("GET", r"/issues/\d+$")] == [429, 200]


def test_tc30_429_reset_beyond_deadline_fails_fast(github_emu: GitHubEmulator, fake: FakeTime) -> None:
    host = make_host(github_emu, fake, deadline=fake.now + 10)
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.inject("GET", r"/issues/\d+$", Fault.too_many_requests(reset_in=30))
    until = datetime.fromtimestamp(int(fake.now) + 30, UTC).strftime("%H:%M:%S")
    with pytest.raises(RateLimited, match=f"rate limited until {until} UTC") as caught:
        host.get_issue(issue)
    assert fake.sleeps == []
    assert caught.value.until == int(fake.now) + 30
    no_token_in(caught.value)


def test_tc31_primary_limit_two_hours_away_is_a_clear_error_not_a_sleep(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    github_emu.inject("GET", r"/pulls/\d+$", Fault.primary_rate_limit(reset_in=7200))
    with pytest.raises(RateLimited, match=r"rate limited until \d\d:\d\d:\d\d UTC"):
        host.get_pr(1)
    assert fake.sleeps == []
    assert len(github_emu.calls("GET", r"/pulls/\d+$")) == 1


def test_tc31_primary_limit_within_max_wait_is_waited_out(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    pr = open_pr(github_emu, host)
    github_emu.inject("GET", r"/pulls/\d+$", Fault.primary_rate_limit(reset_in=30))
    assert host.get_pr(pr).number == pr
    assert 31 in fake.sleeps


# ---- TC-32 / TC-33: permissions are never retried ---------------------------------------------


@pytest.mark.parametrize(
    ("missing", "action", "permission"),
    [
        ("pull_requests", "create_pr", "pull-requests: write"),
        ("issues", "comment", "issues: write"),
        ("issues", "labels", "issues: write"),
        ("issues", "reaction", "issues: write"),
    ],
)
def test_tc32_resource_not_accessible_names_the_permission_and_is_not_retried(
    github_emu: GitHubEmulator, fake: FakeTime, missing: str, action: str, permission: str
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.commit_files(REPO, BRANCH, {"a.py": "A = 1\n"})
    host = make_host(github_emu, fake, limited_token(github_emu, **{missing: "read"}))
    run = {
        "create_pr": lambda: host.create_pr(BRANCH, "main", "t", "b", True),
        "comment": lambda: host.upsert_comment(issue, MARKER, "hi"),
        "labels": lambda: host.add_labels(issue, ["specship"]),
        "reaction": lambda: host.react_issue(issue, "eyes"),
    }[action]
    github_emu.clear_requests()
    with pytest.raises(MissingPermission) as caught:
        run()
    assert caught.value.permission == permission
    assert f"`{permission}`" in caught.value.cause
    assert "permissions:" in caught.value.fix
    writes = [r for r in github_emu.requests if r.method != "GET" and r.path != "/graphql"]
    assert [r.status for r in writes] == [403]
    assert not [s for s in fake.sleeps if s > 1]
    no_token_in(caught.value)


def test_tc33_actions_may_not_create_prs_is_distinct_and_carries_compare_url(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    github_emu.set_actions_can_create_prs(REPO, False)
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    sha = github_emu.commit_files(REPO, BRANCH, {"a.py": "A = 1\n"})
    with pytest.raises(ActionsCannotCreatePullRequests) as caught:
        host.create_pr(BRANCH, "main", "t", "b", True)
    err = caught.value
    assert err.compare_url == host.compare_url("main", BRANCH)
    assert err.compare_url in err.cause
    assert "Settings → Actions → General → Workflow permissions" in err.fix
    assert "Allow GitHub Actions to create and approve pull requests" in err.fix
    assert "organization" in err.fix
    assert len(github_emu.calls("POST", r"/pulls$")) == 1
    assert github_emu.repo(REPO).pulls == {}
    assert github_emu.repo(REPO).git.branch_sha(BRANCH) == sha  # the branch stays pushed
    host.upsert_comment(issue, "<!-- specship:blocked:002-tasks -->", f"Open it by hand: {err.compare_url}")
    assert len(comments(github_emu, issue)) == 1
    no_token_in(err)


# ---- TC-34 / TC-35: idempotent pull request creation ------------------------------------------


def test_tc34_502_after_create_then_422_exists_is_success_with_one_pr(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    github_emu.commit_files(REPO, BRANCH, {"a.py": "A = 1\n"})
    github_emu.inject("POST", r"/pulls$", Fault.server_error(502, after_effect=True))
    pr = host.create_pr(BRANCH, "main", "Implement 002-tasks", "body", True)
    assert [r.status for r in github_emu.calls("POST", r"/pulls$")] == [502, 422]
    assert list(github_emu.repo(REPO).pulls) == [pr.number]
    assert (pr.head_ref, pr.base_ref, pr.draft, pr.author) == (BRANCH, "main", True, BOT)
    assert github_emu.bare_head_queries() == []
    heads = [r.query.get("head") for r in github_emu.calls("GET", r"/pulls$")]
    assert heads == [[f"octo-org:{BRANCH}"]]


def test_tc34_rerun_reuses_the_pr_and_updates_title_and_body(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    first = open_pr(github_emu, host)
    again = host.create_pr(BRANCH, "main", "Implement 002-tasks (v2)", "new body", True)
    assert again.number == first
    assert (again.title, again.body) == ("Implement 002-tasks (v2)", "new body")
    assert len(github_emu.repo(REPO).pulls) == 1
    assert host.find_pr(BRANCH) == again
    assert host.find_pr("specship/other") is None
    assert github_emu.bare_head_queries() == []


def test_tc35_unresolvable_node_on_labels_and_review_request_is_retried(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    pr = open_pr(github_emu, host)
    for name in ("specship", "needs-review"):  # the emulator renders a None description non-conformingly
        label = github_emu.world.label(github_emu.repo(REPO), name)
        assert label is not None
        label.description = "Specship"
    github_emu.inject("POST", r"/issues/\d+/labels$", Fault.unresolvable_node(), times=2)
    github_emu.inject("POST", r"/requested_reviewers$", Fault.unresolvable_node(), times=2)
    fake.sleeps.clear()
    host.add_labels(pr, ["specship", "needs-review"])
    assert host.request_reviewers(pr, ["alice"]) == ["alice"]
    assert [r.status for r in github_emu.calls("POST", r"/labels$")] == [422, 422, 200]
    assert [r.status for r in github_emu.calls("POST", r"/requested_reviewers$")] == [422, 422, 201]
    assert fake.sleeps == [1, 1, 2, 1, 1, 2]  # per call: 1 s write spacing, then backoff 1 s, 2 s
    assert github_emu.repo(REPO).issues[pr].labels == ["specship", "needs-review"]
    assert github_emu.repo(REPO).pulls[pr].requested_reviewers == ["alice"]
    assert len(github_emu.repo(REPO).pulls) == 1


def test_tc35_unresolvable_node_on_graphql_mark_ready_is_retried(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    pr = open_pr(github_emu, host)
    app = make_host(github_emu, fake, APP_TOKEN)  # GITHUB_TOKEN may not run the mutation at all
    github_emu.inject("POST", r"^/graphql$", Fault.unresolvable_node(), times=1)
    assert app.mark_ready(pr).changed is True
    assert github_emu.repo(REPO).pulls[pr].draft is False


# ---- TC-36: one status comment, edited in place, paced and capped ------------------------------


def test_tc36_twenty_updates_edit_one_comment_with_spaced_patches(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    for step in range(20):
        info = host.upsert_comment(issue, MARKER, f"step {step + 1}/20")
    assert comments(github_emu, issue) == [f"{MARKER}\nstep 20/20"]
    assert info.body.endswith("step 20/20")
    writes = [r for r in github_emu.requests if r.method != "GET" and r.path != "/graphql"]
    assert [r.method for r in writes] == ["POST"] + ["PATCH"] * 19
    stamps = [datetime.fromisoformat(r.response_json["updated_at"]) for r in writes]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 1  # spaced on the injected clock, as the emulator saw them
    sent = host.pacer.sent_at
    assert len(sent) == 20
    assert min(b - a for a, b in itertools.pairwise(sent)) >= 1
    assert host.pacer.created == 1
    # looked for once, listed again right after the create (a concurrent run's duplicate), then remembered
    assert len(github_emu.calls("GET", r"/comments$")) == 2


def test_tc36_a_new_host_finds_its_comment_and_never_edits_a_humans(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    human = github_emu.add_comment(REPO, issue, f"quoting {MARKER} to trick the bot", author="bob")
    other = host.upsert_comment(issue, "<!-- specship:reply:42 -->", "help text").id
    mine = host.upsert_comment(issue, MARKER, "first run").id
    assert mine not in (human, other)
    rerun = make_host(github_emu, fake)
    assert rerun.upsert_comment(issue, MARKER, "second run").id == mine
    assert github_emu.repo(REPO).comments[human].body == f"quoting {MARKER} to trick the bot"
    assert github_emu.repo(REPO).comments[other].body == "<!-- specship:reply:42 -->\nhelp text"
    assert len(comments(github_emu, issue)) == 3


def test_tc36_deleted_status_comment_is_recreated(github_emu: GitHubEmulator, host: GitHubHost) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    first = host.upsert_comment(issue, MARKER, "one").id
    del github_emu.repo(REPO).comments[first]
    second = host.upsert_comment(issue, MARKER, "two")
    assert second.id != first
    assert comments(github_emu, issue) == [f"{MARKER}\ntwo"]


def test_tc36_ambiguous_5xx_on_comment_create_never_duplicates(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.inject("POST", r"/issues/\d+/comments$", Fault.server_error(502, after_effect=True))
    host.upsert_comment(issue, MARKER, "working")
    assert comments(github_emu, issue) == [f"{MARKER}\nworking"]
    writes = [r for r in github_emu.requests if r.method != "GET" and r.path != "/graphql"]
    assert [r.method for r in writes] == ["POST", "PATCH"]


def test_tc36_content_creation_is_capped_per_run(github_emu: GitHubEmulator, fake: FakeTime) -> None:
    host = make_host(github_emu, fake, content_cap=3)
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    for content in ("eyes", "rocket", "+1"):
        host.react_issue(issue, content)
    with pytest.raises(ContentCapReached, match="cap"):
        host.react_issue(issue, "heart")
    assert len(github_emu.calls("POST")) == 3


# ---- TC-37: conditional polling ----------------------------------------------------------------


def test_tc37_poll_sends_if_none_match_and_treats_304_as_unchanged(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    first = host.poll(f"issues/{issue}")
    assert first.changed
    assert first.etag
    assert first.data["title"] == "Implement 002"
    same = host.poll(f"issues/{issue}", first.etag)
    assert (same.changed, same.etag, same.data) == (False, first.etag, None)
    last = github_emu.requests[-1]
    assert (last.status, last.headers["if-none-match"]) == (304, first.etag)
    github_emu.repo(REPO).issues[issue].title = "Implement 002 (edited)"
    moved = host.poll(f"issues/{issue}", first.etag)
    assert moved.changed
    assert moved.etag != first.etag
    assert moved.data["title"] == "Implement 002 (edited)"


# ---- TC-38: 5xx ---------------------------------------------------------------------------------


def test_tc38_502_503_on_get_three_times_then_200_within_deadline(
    github_emu: GitHubEmulator, fake: FakeTime
) -> None:
    host = make_host(github_emu, fake, deadline=fake.now + 60)
    pr = open_pr(github_emu, host)
    fake.sleeps.clear()
    github_emu.inject("GET", r"/pulls/\d+$", Fault.server_error(502), times=2)
    github_emu.inject("GET", r"/pulls/\d+$", Fault.server_error(503), times=1)
    assert host.get_pr(pr).number == pr
    assert [r.status for r in github_emu.calls("GET", r"/pulls/\d+$")] == [502, 502, 503, 200]
    assert fake.sleeps == [1, 2, 4]


def test_tc38_5xx_on_patch_is_retried_explicitly(github_emu: GitHubEmulator, host: GitHubHost) -> None:
    pr = open_pr(github_emu, host)
    github_emu.inject("PATCH", r"/pulls/\d+$", Fault.server_error(502, after_effect=True))
    assert host.update_pr(pr, body="new body").body == "new body"
    assert [r.status for r in github_emu.calls("PATCH")] == [502, 200]


def test_tc38_persistent_5xx_is_reported_clearly(github_emu: GitHubEmulator, host: GitHubHost) -> None:
    pr = open_pr(github_emu, host)
    github_emu.inject("PATCH", r"/pulls/\d+$", Fault.server_error(500), times=None)
    with pytest.raises(
        GitHubApiError, match=rf"update the pull request after {SERVER_TRIES} tries \(HTTP 500"
    ):
        host.update_pr(pr, title="x")
    assert len(github_emu.calls("PATCH")) == SERVER_TRIES


def test_tc38_5xx_retry_never_crosses_the_deadline(github_emu: GitHubEmulator, fake: FakeTime) -> None:
    host = make_host(github_emu, fake, deadline=fake.now + 2.5)
    github_emu.inject("GET", r"/issues/\d+$", Fault.server_error(503), times=None)
    with pytest.raises(GitHubApiError, match="longer than the run has left"):
        host.get_issue(1)
    assert sum(fake.sleeps) <= 2.5


def test_no_answer_is_retried_for_reads_then_reported(fake: FakeTime) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: connections are refused
    host = GitHubHost(ACTIONS_TOKEN, REPO, f"http://127.0.0.1:{port}", clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(GitHubApiError, match=r"no answer from GitHub \(ConnectionError\)") as caught:
        host.get_issue(1)
    assert fake.sleeps == [1, 2, 4, 8]
    no_token_in(caught.value)


def test_exhausted_transport_retries_are_not_retried_again() -> None:
    failure = failure_of(requests.exceptions.RetryError("too many 502 error responses"))
    assert failure is not None
    assert (failure.status, failure.exhausted) == (0, True)
    with pytest.raises(GitHubApiError, match="transport retries exhausted"):
        Policy().wait_before_retry(failure, Calls.READ_PR, attempt=1)


# ---- TC-2 .. TC-5: permissions at the host level -----------------------------------------------


@pytest.mark.parametrize(
    ("login", "expected", "may_write"),
    [
        ("alice", "admin", True),
        ("bob", "write", True),
        ("mallory", "maintain", True),  # the legacy `permission` field says "write"
        ("dave", "triage", False),  # legacy "read"
        ("carol", "read", False),
        ("eve", "read", False),  # public repository, not a collaborator
        ("nobody-at-all", "none", False),
        ("Copilot", "bot", False),  # 404 "Copilot is not a user"
        ("evil-app[bot]", "bot", False),
        (BOT, "bot", False),
    ],
)
def test_tc2_tc4_permission_values(
    github_emu: GitHubEmulator, host: GitHubHost, login: str, expected: str, may_write: bool
) -> None:
    assert host.permission(login) == expected
    assert (expected in WRITE_ROLES) is may_write
    assert [r.operation for r in github_emu.requests] == [
        "GET /repos/{owner}/{repo}/collaborators/{username}/permission"
    ]


def test_tc3_permission_ignores_author_association(github_emu: GitHubEmulator, host: GitHubHost) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.add_comment(REPO, issue, "/specship revise", author="carol", author_association="MEMBER")
    github_emu.add_comment(REPO, issue, "/specship retry", author="bob", author_association="CONTRIBUTOR")
    listed = {c.author: c.author_association for c in host.list_comments(issue)}
    assert listed == {"carol": "MEMBER", "bob": "CONTRIBUTOR"}
    assert host.permission("carol") == "read"
    assert host.permission("bob") == "write"


def test_tc4_user_type_tells_bots_from_humans(host: GitHubHost) -> None:
    assert host.user_type("Copilot") == "Bot"
    assert host.user_type("evil-app[bot]") == "Bot"
    assert host.user_type("alice") == "User"
    assert host.user_type("nobody-at-all") == "none"


def test_tc5_actor_and_triggering_actor_are_both_looked_up(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    actor, triggering = host.permission("bob"), host.permission("carol")
    assert (actor in WRITE_ROLES, triggering in WRITE_ROLES) == (True, False)
    asked = [r.path.rsplit("/", 2)[-2] for r in github_emu.requests]
    assert asked == ["bob", "carol"]


# ---- pull request operations ----------------------------------------------------------------------


def test_mark_ready_and_draft_use_graphql_mutations(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    pr = open_pr(github_emu, host)
    app = make_host(github_emu, fake, APP_TOKEN)
    assert app.mark_ready(pr) == DraftChange(True)
    assert github_emu.repo(REPO).pulls[pr].draft is False
    assert app.mark_ready(pr) == DraftChange(False)  # already ready: no mutation
    assert app.mark_draft(pr) == DraftChange(True)
    assert app.get_pr(pr).draft is True
    sent = [r.json["query"] for r in github_emu.calls("POST", r"^/graphql$")]
    assert len(sent) == 2
    assert "markPullRequestReadyForReview" in sent[0]
    assert "convertPullRequestToDraft" in sent[1]


def test_github_token_may_not_change_the_draft_state_and_that_is_no_error(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    """GITHUB_TOKEN: "GraphQL: Resource not accessible by integration (markPullRequestReadyForReview)"
    even with pull-requests: write (cli/cli#8910). Specship never depends on it."""
    pr = open_pr(github_emu, host)
    change = host.mark_ready(pr)
    assert change == DraftChange(False, refused="Resource not accessible by integration")
    assert github_emu.repo(REPO).pulls[pr].draft is True
    sent = github_emu.calls("POST", r"^/graphql$", 200)[-1]
    assert sent.response_json["errors"][0]["type"] == "FORBIDDEN"
    assert sent.response_json["errors"][0]["path"] == ["markPullRequestReadyForReview"]
    github_emu.repo(REPO).pulls[pr].draft = False
    assert host.mark_draft(pr).refused == "Resource not accessible by integration"
    assert github_emu.repo(REPO).pulls[pr].draft is False


def test_an_app_token_without_contents_write_is_refused_the_mutation(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    pr = open_pr(github_emu, host)
    github_emu.add_token(
        "ghs_" + "R" * 36,
        "specship-app[bot]",
        installation=True,
        permissions={"pull-requests": "write", "contents": "read", "metadata": "read"},
    )
    weak = make_host(github_emu, fake, "ghs_" + "R" * 36)
    assert weak.mark_ready(pr).refused == "Resource not accessible by integration"
    assert github_emu.repo(REPO).pulls[pr].draft is True


def test_request_reviewers_skips_author_and_bots_and_tolerates_422(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    pr = open_pr(github_emu, host)
    asked = host.request_reviewers(pr, ["alice", "alice", BOT, "Copilot", "evil-app[bot]"])
    assert asked == ["alice"]
    assert github_emu.calls("POST", r"/requested_reviewers$")[0].json == {"reviewers": ["alice"]}
    assert host.request_reviewers(pr, ["eve"]) == []  # not a collaborator: 422
    assert any("eve" in w and "collaborators" in w for w in host.warnings)


def test_labels_and_reactions(github_emu: GitHubEmulator, host: GitHubHost) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    comment = github_emu.add_comment(REPO, issue, "/specship retry", author="bob")
    host.add_labels(issue, ["specship", "in-progress"])
    assert host.remove_label(issue, "in-progress") is True
    assert host.remove_label(issue, "in-progress") is False  # 404 tolerated
    assert github_emu.repo(REPO).issues[issue].labels == ["specship"]
    assert host.react(comment, "eyes") is True
    assert host.react_issue(issue, "rocket") is True
    assert [r.content for r in github_emu.repo(REPO).comments[comment].reactions] == ["eyes"]
    assert host.react(999, "eyes", kind="review_comment") is False
    assert github_emu.calls("POST", r"/reactions$")[-1].path == f"/repos/{REPO}/pulls/comments/999/reactions"
    with pytest.raises(ValueError, match="reaction"):
        host.react(comment, "thumbsup")


def test_reviews_review_comments_and_since(
    github_emu: GitHubEmulator, host: GitHubHost, fake: FakeTime
) -> None:
    pr = open_pr(github_emu, host)
    github_emu.add_review(REPO, pr, author="alice", state="CHANGES_REQUESTED", body="please fix")
    github_emu.add_review_comment(
        REPO, pr, author="alice", body="/specship revise add tests", path="a.py", line=3
    )
    github_emu.add_comment(REPO, pr, "old", author="bob")
    fake.now += 100
    github_emu.add_comment(REPO, pr, "new", author="bob")
    (review,) = host.reviews(pr)
    assert (review.author, review.state, review.body) == ("alice", "CHANGES_REQUESTED", "please fix")
    (note,) = host.review_comments(pr)
    assert (note.author, note.path, note.line, note.in_reply_to_id) == ("alice", "a.py", 3, None)
    since = datetime.fromtimestamp(fake.now - 10, UTC)
    assert [c.body for c in host.list_comments(pr, since=since)] == ["new"]
    assert github_emu.calls("GET", r"/comments$")[-1].query["since"] == [since.strftime("%Y-%m-%dT%H:%M:%SZ")]
    issue = host.get_issue(pr)
    assert (issue.is_pull, issue.author) == (True, BOT)


def test_secret_in_outgoing_text_is_never_posted(github_emu: GitHubEmulator, host: GitHubHost) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    with pytest.raises(FatalError, match="Secret detected") as caught:
        host.upsert_comment(issue, MARKER, f"debug: {ACTIONS_TOKEN}")
    with pytest.raises(FatalError, match="Secret detected"):
        host.create_pr(BRANCH, "main", "t", f"x ghp_{'a' * 36}", True)
    assert github_emu.calls("POST") == []
    no_token_in(caught.value)


def test_token_echoed_by_github_is_redacted(github_emu: GitHubEmulator, host: GitHubHost) -> None:
    body = {"message": f"Bad thing with {ACTIONS_TOKEN}", "documentation_url": "https://docs.github.com/rest"}
    github_emu.inject("GET", r"/issues/\d+$", Fault(400, body))
    with pytest.raises(GitHubApiError, match=r"\[REDACTED\]") as caught:
        host.get_issue(1)
    no_token_in(caught.value)


def test_links_work_for_github_com_and_enterprise_server() -> None:
    dotcom = GitHubHost(ACTIONS_TOKEN, REPO)
    assert dotcom.compare_url("main", BRANCH) == f"https://github.com/{REPO}/compare/main...{BRANCH}?expand=1"
    ghes = GitHubHost(ACTIONS_TOKEN, REPO, "https://ghe.example/api/v3/")
    assert ghes.compare_url("main", BRANCH) == f"https://ghe.example/{REPO}/compare/main...{BRANCH}?expand=1"
    assert ghes._gh.requester.graphql_url == "https://ghe.example/api/graphql"
    assert ghes._gh.requester.base_url == "https://ghe.example/api/v3"
    with pytest.raises(FatalError, match="owner/name"):
        GitHubHost(ACTIONS_TOKEN, "not a repo")


def test_importing_the_host_does_not_import_pygithub() -> None:
    code = "import sys, bot.github.host, bot; print('github' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# ---- preflight ------------------------------------------------------------------------------------


def test_preflight_passes_for_github_token_and_creates_nothing(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    refs = github_emu.repo(REPO).git.refs("refs/")
    assert host.preflight("specship/") == []
    state = github_emu.repo(REPO)
    assert (state.pulls, state.issues, state.git.refs("refs/")) == ({}, {}, refs)
    probes = [r for r in github_emu.requests if r.method == "POST" and r.path != "/graphql"]
    assert [r.status for r in probes] == [422, 422, 422, 422]
    assert probes[-1].path == f"/repos/{REPO}/check-runs"
    assert state.check_runs == {}


@pytest.mark.parametrize(
    ("missing", "check", "permission"),
    [
        ("contents", "push", "contents: write"),
        ("pull_requests", "pull-requests", "pull-requests: write"),
        ("issues", "comments", "issues: write"),
    ],
)
def test_preflight_names_each_missing_permission(
    github_emu: GitHubEmulator, fake: FakeTime, missing: str, check: str, permission: str
) -> None:
    host = make_host(github_emu, fake, limited_token(github_emu, **{missing: "read"}))
    (problem,) = host.preflight("specship/")
    assert (problem.check, problem.blocking) == (check, True)
    assert f"`{permission}`" in problem.cause
    assert f"permissions: {{{permission}}}" in problem.fix
    no_token_in(FatalError(problem.cause, problem.fix))


def test_preflight_reports_the_actions_pull_request_setting(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    github_emu.set_actions_can_create_prs(REPO, False)
    (problem,) = host.preflight("specship/")
    assert problem.check == "actions"
    assert "Settings → Actions → General → Workflow permissions" in problem.fix


def test_preflight_user_tokens_use_repository_push_permission(
    github_emu: GitHubEmulator, fake: FakeTime
) -> None:
    reader = make_host(github_emu, fake, USER_TOKENS["carol"])
    problem, checks = reader.preflight("specship/")
    assert (problem.check, problem.blocking, checks.blocking) == ("push", True, False)
    assert "carol" in problem.cause
    assert "Write role" in problem.fix
    writer = make_host(github_emu, fake, USER_TOKENS["bob"])
    (warning,) = writer.preflight("specship/")
    assert (warning.check, warning.blocking) == ("checks", False)
    assert "only GitHub Apps create check runs" in warning.cause
    assert writer.whoami() == "bob"
    assert not github_emu.calls("POST", r"/check-runs$"), "no probe: a personal token never can"


def test_preflight_finds_a_branch_that_blocks_the_prefix(
    github_emu: GitHubEmulator, host: GitHubHost
) -> None:
    github_emu.commit_files(REPO, "specship", {"x.txt": "x\n"})
    (problem,) = host.preflight("specship/")
    assert problem.check == "branch-prefix"
    assert "branch-prefix" in problem.fix


def test_preflight_warns_about_a_low_rate_budget(github_emu: GitHubEmulator, host: GitHubHost) -> None:
    github_emu.set_rate_limit(ACTIONS_TOKEN, remaining=50)
    (problem,) = host.preflight("specship/")
    assert (problem.check, problem.blocking) == ("rate-limit", False)


def test_preflight_stops_on_bad_token_or_invisible_repository(
    github_emu: GitHubEmulator, fake: FakeTime
) -> None:
    with pytest.raises(FatalError, match="401") as caught:
        make_host(github_emu, fake, "ghs_" + "Z" * 36).preflight("specship/")
    assert "Z" * 36 not in str(caught.value)
    other = GitHubHost(ACTIONS_TOKEN, "octo-org/missing", github_emu.url, clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(FatalError, match="not visible"):
        other.preflight("specship/")
