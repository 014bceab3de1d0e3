"""The GitHub REST emulator, driven by the real PyGithub client over HTTP on 127.0.0.1."""

from __future__ import annotations

import copy
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import github
import pytest
import requests

from tests.fakes.github_api import Fault, GitHubEmulator
from tests.fakes.github_fixture import (
    ACTIONS_TOKEN,
    BOT,
    REPO,
    USER_TOKENS,
    client,
    running_emulator,
)
from tests.fakes.github_openapi import (
    conformance_errors,
    operations,
    validate_response,
    validated_operations,
)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


@pytest.fixture
def emu() -> Iterator[GitHubEmulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def gh(emu: GitHubEmulator) -> github.Github:
    return client(emu)


def git(*args: str | Path) -> str:
    done = subprocess.run(
        ["git", *map(str, args)],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def push_branch(bare: Path, work: Path, branch: str, files: dict[str, str]) -> str:
    """Clone the bare repo, commit files on a new branch, `git push` it; return the sha."""
    git("clone", "-q", bare, work)
    git("-C", work, "checkout", "-q", "-b", branch)
    for name, content in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(content, encoding="utf-8")
    git("-C", work, "add", "-A")
    git("-C", work, "commit", "-q", "-m", f"work on {branch}")
    git("-C", work, "push", "-q", "origin", branch)
    return git("-C", work, "rev-parse", "HEAD")


# ---- repository, users, authentication ------------------------------------------------------


def test_repository_and_users_parse_in_pygithub(emu: GitHubEmulator, gh: github.Github) -> None:
    repo = gh.get_repo(REPO)
    assert (repo.full_name, repo.default_branch, repo.private) == (REPO, "main", False)
    assert repo.owner.login == "octo-org"
    assert repo.url == f"{emu.url}/repos/{REPO}"
    assert client(emu, USER_TOKENS["alice"]).get_user().login == "alice"
    copilot = gh.get_user("Copilot")
    assert copilot.type == "Bot"


def test_installation_token_cannot_read_authenticated_user(gh: github.Github) -> None:
    with pytest.raises(github.GithubException) as caught:
        _ = gh.get_user().login
    assert caught.value.status == 403
    assert caught.value.message == "Resource not accessible by integration"


def test_bad_token_is_401_and_recorded(emu: GitHubEmulator) -> None:
    with pytest.raises(github.BadCredentialsException):
        client(emu, "ghp_wrong").get_repo(REPO)
    assert [r.status for r in emu.requests] == [401]


def test_rate_limit_headers_count_down(emu: GitHubEmulator, gh: github.Github) -> None:
    repo = gh.get_repo(REPO)
    repo.get_branch("main")
    remaining = [int(r.response_headers["x-ratelimit-remaining"]) for r in emu.requests]
    assert remaining == [999, 998]
    assert gh.get_rate_limit().resources.core.remaining == 998


# ---- collaborator permission API ------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "permission", "role"),
    [
        ("alice", "admin", "admin"),
        ("mallory", "write", "maintain"),
        ("bob", "write", "write"),
        ("dave", "read", "triage"),
        ("carol", "read", "read"),
        ("eve", "read", "read"),
    ],
)
def test_permission_api_maps_roles_like_github(
    gh: github.Github, login: str, permission: str, role: str
) -> None:
    repo = gh.get_repo(REPO)
    assert repo.get_collaborator_permission(login) == permission
    assert repo.get_collaborator_role_name(login) == role


def test_permission_api_for_private_repo_non_collaborator_is_none(emu: GitHubEmulator) -> None:
    emu.add_repo("octo-org/secret", private=True)
    repo = client(emu).get_repo("octo-org/secret")
    assert repo.get_collaborator_permission("eve") == "none"
    with pytest.raises(github.UnknownObjectException):
        client(emu, USER_TOKENS["carol"]).get_repo("octo-org/secret")


def test_permission_api_unknown_user_and_bot_are_404(gh: github.Github) -> None:
    repo = gh.get_repo(REPO)
    with pytest.raises(github.UnknownObjectException) as unknown:
        repo.get_collaborator_permission("nobody-here")
    assert unknown.value.message is None  # plain "Not Found"
    for bot in ("Copilot", "evil-app[bot]"):
        with pytest.raises(github.GithubException) as caught:
            repo.get_collaborator_permission(bot)
        assert caught.value.status == 404
        assert caught.value.message == f"{bot} is not a user"


# ---- issues, comments, reactions, labels ----------------------------------------------------


def test_comment_is_authored_by_token_user_and_edited_with_patch(
    emu: GitHubEmulator, gh: github.Github
) -> None:
    number = emu.add_issue(REPO, "Implement 002", author="alice")
    issue = gh.get_repo(REPO).get_issue(number)
    comment = issue.create_comment("Specship is working on it")
    assert comment.user.login == BOT
    assert comment.user.type == "Bot"
    comment.edit("Specship finished")
    assert [c.body for c in issue.get_comments()] == ["Specship finished"]
    assert len(emu.calls("POST", r"/comments$")) == 1
    patches = emu.calls("PATCH", rf"/issues/comments/{comment.id}$")
    assert [p.json for p in patches] == [{"body": "Specship finished"}]
    assert gh.get_repo(REPO).get_issue(number).comments == 1


def test_comment_author_association_and_seeded_override(emu: GitHubEmulator, gh: github.Github) -> None:
    number = emu.add_issue(REPO, "x", author="alice")
    emu.add_comment(REPO, number, "/specship revise", author="carol", author_association="MEMBER")
    emu.add_comment(REPO, number, "hi", author="eve")
    emu.add_comment(REPO, number, "owner", author="alice")
    associations = [
        c.raw_data["author_association"] for c in gh.get_repo(REPO).get_issue(number).get_comments()
    ]
    assert associations == ["MEMBER", "NONE", "COLLABORATOR"]


def test_comment_body_over_65536_characters_is_422(emu: GitHubEmulator, gh: github.Github) -> None:
    issue = gh.get_repo(REPO).get_issue(emu.add_issue(REPO, "x"))
    with pytest.raises(github.GithubException) as caught:
        issue.create_comment("x" * 65537)
    assert caught.value.status == 422
    assert "body is too long" in caught.value.data["errors"][0]["message"]


def test_comment_pagination_follows_link_headers(emu: GitHubEmulator, gh: github.Github) -> None:
    number = emu.add_issue(REPO, "busy")
    for i in range(65):
        emu.add_comment(REPO, number, f"c{i}", author="bob")
    comments = list(gh.get_repo(REPO).get_issue(number).get_comments())
    assert [c.body for c in comments] == [f"c{i}" for i in range(65)]
    pages = emu.calls("GET", rf"/issues/{number}/comments$")
    assert [p.query.get("page", ["1"]) for p in pages] == [["1"], ["2"], ["3"]]
    first_link = pages[0].response_headers["link"]
    assert 'rel="next"' in first_link
    assert 'rel="last"' in first_link
    assert "page=3" in first_link
    assert "link" not in pages[0].response_headers or 'rel="prev"' not in first_link
    big = client(emu, ACTIONS_TOKEN)
    big.per_page = 100
    assert len(list(big.get_repo(REPO).get_issue(number).get_comments())) == 65


def test_reactions_on_issue_and_comment(emu: GitHubEmulator, gh: github.Github) -> None:
    number = emu.add_issue(REPO, "x")
    comment_id = emu.add_comment(REPO, number, "/specship retry", author="bob")
    issue = gh.get_repo(REPO).get_issue(number)
    comment = issue.get_comment(comment_id)
    eyes = comment.create_reaction("eyes")
    again = comment.create_reaction("eyes")
    assert again.id == eyes.id
    statuses = [r.status for r in emu.calls("POST", r"/reactions$")]
    assert statuses == [201, 200]
    issue.create_reaction("rocket")
    assert [r.content for r in issue.get_reactions()] == ["rocket"]
    assert issue.get_comment(comment_id).raw_data["reactions"]["eyes"] == 1
    with pytest.raises(github.GithubException) as caught:
        comment.create_reaction("thumbs")
    assert caught.value.status == 422
    assert comment.delete_reaction(eyes.id) is True
    assert list(comment.get_reactions()) == []


def test_labels_are_auto_created_added_and_removed(emu: GitHubEmulator, gh: github.Github) -> None:
    repo = gh.get_repo(REPO)
    issue = repo.get_issue(emu.add_issue(REPO, "x", labels=["specship"]))
    issue.add_to_labels("specship:running", "specship")
    assert [lab.name for lab in repo.get_issue(issue.number).labels] == ["specship", "specship:running"]
    assert repo.get_label("specship:running").color == "ededed"
    issue.remove_from_labels("specship")
    assert [lab.name for lab in repo.get_issue(issue.number).labels] == ["specship:running"]
    with pytest.raises(github.GithubException) as caught:
        issue.remove_from_labels("never-there")
    assert caught.value.status == 404
    assert caught.value.message == "Label does not exist"
    url = f"{issue.url}/labels"
    _, data = gh.requester.requestJsonAndCheck("POST", url, input={"labels": [{"name": "obj"}]})
    assert [lab["name"] for lab in data] == ["specship:running", "obj"]


def test_issue_patch_closes_with_reason(emu: GitHubEmulator, gh: github.Github) -> None:
    issue = gh.get_repo(REPO).get_issue(emu.add_issue(REPO, "x"))
    issue.edit(state="closed", state_reason="not_planned", body="new body")
    fresh = gh.get_repo(REPO).get_issue(issue.number)
    assert (fresh.state, fresh.state_reason, fresh.body) == ("closed", "not_planned", "new body")
    assert fresh.closed_at is not None


def test_installation_permissions_are_enforced(emu: GitHubEmulator) -> None:
    emu.add_token("ghs_readonly", BOT, installation=True, permissions={"issues": "read"})
    retrying = github.GithubRetry(total=3, backoff_factor=0)
    issue = client(emu, "ghs_readonly", retry=retrying).get_repo(REPO).get_issue(emu.add_issue(REPO, "x"))
    with pytest.raises(github.GithubException) as caught:
        issue.create_comment("hello")
    assert (caught.value.status, caught.value.message) == (403, "Resource not accessible by integration")
    assert len(emu.calls("POST")) == 1  # GithubRetry does not retry this 403


# ---- branches, refs and pull requests against the real bare repository ----------------------


def test_pull_request_lifecycle_after_real_git_push(
    emu: GitHubEmulator, gh: github.Github, tmp_path: Path
) -> None:
    sha = push_branch(
        emu.bare_repo_path, tmp_path / "w", "specship/002-tags", {"app/tags.py": "A = 1\nB = 2\n"}
    )
    repo = gh.get_repo(REPO)
    assert repo.get_branch("specship/002-tags").commit.sha == sha
    assert repo.get_git_ref("heads/specship/002-tags").object.sha == sha
    pr = repo.create_pull(base="main", head="specship/002-tags", title="Tags", body="Body", draft=True)
    assert emu.calls("POST", r"/pulls$")[0].status == 201
    assert (pr.number, pr.draft, pr.state, pr.head.sha, pr.head.ref) == (
        1,
        True,
        "open",
        sha,
        "specship/002-tags",
    )
    assert (pr.commits, pr.additions, pr.deletions, pr.changed_files) == (1, 2, 0, 1)
    assert pr.user.login == BOT
    files = list(pr.get_files())
    assert [(f.filename, f.status, f.additions) for f in files] == [("app/tags.py", "added", 2)]
    assert "+A = 1" in files[0].patch
    assert [p.number for p in repo.get_pulls(head="octo-org:specship/002-tags")] == [1]
    assert list(repo.get_pulls(head="octo-org:other")) == []
    assert list(repo.get_pulls(state="closed")) == []
    assert [p.number for p in repo.get_pulls(base="main")] == [1]
    pr.edit(title="Tags v2", body="Body v2")
    assert repo.get_pull(1).title == "Tags v2"
    assert repo.get_issue(1).pull_request is not None
    pr.edit(state="closed")
    assert repo.get_pull(1).state == "closed"
    assert [p.number for p in repo.get_pulls(state="closed")] == [1]


def test_bare_head_filter_is_ignored_and_recorded(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.commit_files(REPO, "specship/a", {"a.py": "a\n"})
    emu.commit_files(REPO, "specship/b", {"b.py": "b\n"})
    repo = gh.get_repo(REPO)
    repo.create_pull(base="main", head="specship/a", title="A")
    repo.create_pull(base="main", head="specship/b", title="B")
    assert emu.bare_head_queries() == []
    assert sorted(p.number for p in repo.get_pulls(head="specship/a")) == [1, 2]  # GitHub ignores it
    assert [r.query["head"] for r in emu.bare_head_queries()] == [["specship/a"]]


def test_create_pull_for_missing_head_branch_is_422(gh: github.Github) -> None:
    with pytest.raises(github.GithubException) as caught:
        gh.get_repo(REPO).create_pull(base="main", head="specship/never-pushed", title="x")
    assert caught.value.status == 422
    assert caught.value.data["errors"] == [{"resource": "PullRequest", "field": "head", "code": "invalid"}]


def test_create_pull_twice_is_422_already_exists(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.commit_files(REPO, "specship/x", {"x.py": "x\n"})
    repo = gh.get_repo(REPO)
    repo.create_pull(base="main", head="specship/x", title="x")
    with pytest.raises(github.GithubException) as caught:
        repo.create_pull(base="main", head="octo-org:specship/x", title="x")
    assert caught.value.status == 422
    assert caught.value.data["message"] == "Validation Failed"
    assert caught.value.data["errors"] == [
        {
            "resource": "PullRequest",
            "code": "custom",
            "message": "A pull request already exists for octo-org:specship/x.",
        }
    ]


def test_create_pull_without_commits_is_422(emu: GitHubEmulator, gh: github.Github) -> None:
    repo = gh.get_repo(REPO)
    repo.create_git_ref("refs/heads/empty", repo.get_branch("main").commit.sha)
    with pytest.raises(github.GithubException) as caught:
        repo.create_pull(base="main", head="empty", title="x")
    assert caught.value.data["errors"][0]["message"] == "No commits between main and empty"


def test_fork_pull_request_has_foreign_head_repo(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.add_user("forker")
    emu.add_repo("forker/taskboard", fork_of=REPO)
    emu.commit_files("forker/taskboard", "evil", {"conftest.py": "import os\n"})
    pr = (
        client(emu, USER_TOKENS["carol"])
        .get_repo(REPO)
        .create_pull(base="main", head="forker:evil", title="x")
    )
    fetched = gh.get_repo(REPO).get_pull(pr.number)
    assert fetched.head.repo.full_name == "forker/taskboard"
    assert fetched.base.repo.full_name == REPO
    assert fetched.head.label == "forker:evil"


def test_git_refs_create_duplicate_and_missing(emu: GitHubEmulator, gh: github.Github) -> None:
    repo = gh.get_repo(REPO)
    main_sha = repo.get_branch("main").commit.sha
    ref = repo.create_git_ref("refs/heads/specship/new", main_sha)
    assert (ref.ref, ref.object.sha, ref.object.type) == ("refs/heads/specship/new", main_sha, "commit")
    assert git("--git-dir", emu.bare_repo_path, "rev-parse", "refs/heads/specship/new") == main_sha
    with pytest.raises(github.GithubException) as dup:
        repo.create_git_ref("refs/heads/specship/new", main_sha)
    assert (dup.value.status, dup.value.message) == (422, "Reference already exists")
    with pytest.raises(github.UnknownObjectException):
        _ = repo.get_git_ref("heads/nope").object
    with pytest.raises(github.GithubException) as branch:
        repo.get_branch("nope")
    assert (branch.value.status, branch.value.message) == (404, "Branch not found")


def test_requested_reviewers_must_be_collaborators(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.commit_files(REPO, "specship/r", {"r.py": "r\n"})
    pr = gh.get_repo(REPO).create_pull(base="main", head="specship/r", title="x")
    pr.create_review_request(reviewers=["bob"])
    assert [u.login for u in gh.get_repo(REPO).get_pull(pr.number).requested_reviewers] == ["bob"]
    with pytest.raises(github.GithubException) as outsider:
        pr.create_review_request(reviewers=["eve"])
    assert outsider.value.status == 422
    assert "not a collaborator" in str(outsider.value.message)


def test_reviews_and_review_comments_are_listed(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.commit_files(REPO, "specship/v", {"v.py": "v\n"})
    pr = gh.get_repo(REPO).create_pull(base="main", head="specship/v", title="x")
    review = emu.add_review(REPO, pr.number, author="bob", state="CHANGES_REQUESTED", body="fix")
    emu.add_review_comment(
        REPO, pr.number, author="bob", body="/specship revise", path="v.py", review_id=review
    )
    reviews = list(pr.get_reviews())
    assert [(r.user.login, r.state, r.body) for r in reviews] == [("bob", "CHANGES_REQUESTED", "fix")]
    comments = list(pr.get_review_comments())
    assert [(c.body, c.path, c.pull_request_review_id) for c in comments] == [
        ("/specship revise", "v.py", review)
    ]


def test_actions_setting_blocks_pull_creation_without_retry(emu: GitHubEmulator) -> None:
    emu.commit_files(REPO, "specship/s", {"s.py": "s\n"})
    emu.set_actions_can_create_prs(REPO, False)
    repo = client(emu, retry=github.GithubRetry(total=3, backoff_factor=0)).get_repo(REPO)
    with pytest.raises(github.GithubException) as caught:
        repo.create_pull(base="main", head="specship/s", title="x")
    assert caught.value.status == 403
    assert caught.value.message == "GitHub Actions is not permitted to create or approve pull requests."
    assert len(emu.calls("POST", r"/pulls$")) == 1
    assert emu.repo(REPO).pulls == {}
    client(emu, USER_TOKENS["alice"]).get_repo(REPO).create_pull(base="main", head="specship/s", title="x")


# ---- ETag -------------------------------------------------------------------------------------


def test_etag_if_none_match_gives_304(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.commit_files(REPO, "specship/e", {"e.py": "e\n"})
    pr = gh.get_repo(REPO).create_pull(base="main", head="specship/e", title="x")
    fetched = gh.get_repo(REPO).get_pull(pr.number)
    assert fetched.etag
    assert fetched.update() is False
    last = emu.requests[-1]
    assert (last.status, last.headers["if-none-match"]) == (304, fetched.etag)
    pr.edit(title="changed")
    assert fetched.update() is True
    assert fetched.title == "changed"


# ---- faults -----------------------------------------------------------------------------------


def test_secondary_limit_with_retry_after_is_waited_out(emu: GitHubEmulator) -> None:
    issue = (
        client(emu, retry=github.GithubRetry(total=3, backoff_factor=0))
        .get_repo(REPO)
        .get_issue(emu.add_issue(REPO, "x"))
    )
    emu.inject("POST", r"/issues/\d+/comments$", Fault.secondary_rate_limit(retry_after=1))
    started = time.monotonic()
    issue.create_comment("once")
    assert time.monotonic() - started >= 1.0
    posts = emu.calls("POST", r"/comments$")
    assert [p.status for p in posts] == [403, 201]
    assert posts[0].response_headers["retry-after"] == "1"
    assert posts[0].response_json["message"].startswith("You have exceeded a secondary rate limit")
    assert len(emu.repo(REPO).comments) == 1


def test_secondary_limit_without_retry_after(emu: GitHubEmulator) -> None:
    issue_number = emu.add_issue(REPO, "x")
    emu.inject("POST", r"/comments$", Fault.secondary_rate_limit(), times=None)
    plain = client(emu).get_repo(REPO).get_issue(issue_number)
    with pytest.raises(github.RateLimitExceededException) as caught:
        plain.create_comment("x")
    headers = caught.value.headers or {}
    assert int(headers["x-ratelimit-remaining"]) > 0
    assert "retry-after" not in headers
    retrying = github.GithubRetry(total=2, backoff_factor=0, secondary_rate_wait=0.05)
    issue = client(emu, retry=retrying).get_repo(REPO).get_issue(issue_number)
    with pytest.raises(requests.exceptions.RetryError):
        issue.create_comment("x")
    assert len(emu.calls("POST", r"/comments$", status=403)) == 4
    assert emu.repo(REPO).comments == {}


def test_429_with_reset_is_a_plain_github_exception(emu: GitHubEmulator) -> None:
    emu.inject("GET", rf"/repos/{REPO}$", Fault.too_many_requests(reset_in=30))
    with pytest.raises(github.GithubException) as caught:
        client(emu, retry=github.GithubRetry(total=3, backoff_factor=0)).get_repo(REPO)
    assert type(caught.value) is github.GithubException
    headers = caught.value.headers or {}
    assert caught.value.status == 429
    assert headers["x-ratelimit-remaining"] == "0"
    assert 25 <= int(headers["x-ratelimit-reset"]) - time.time() <= 31
    assert len(emu.requests) == 1


def test_primary_limit_beyond_max_wait_is_surfaced(emu: GitHubEmulator) -> None:
    emu.inject("GET", rf"/repos/{REPO}$", Fault.primary_rate_limit(reset_in=7200), times=None)
    capped = github.GithubRetry(total=3, backoff_factor=0, max_rate_limit_wait=5)
    with pytest.raises(github.RateLimitExceededExceedsMaxWait) as caught:
        client(emu, retry=capped).get_repo(REPO)
    assert (caught.value.wait or 0) > 7000
    with pytest.raises(github.RateLimitExceededException):
        client(emu).get_repo(REPO)


def test_exhausted_token_budget_gives_primary_limit(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.set_rate_limit(ACTIONS_TOKEN, remaining=1)
    gh.get_repo(REPO)
    with pytest.raises(github.RateLimitExceededException) as caught:
        gh.get_repo(REPO)
    assert caught.value.data["message"].startswith("API rate limit exceeded")


def test_5xx_on_get_is_retried_until_success(emu: GitHubEmulator) -> None:
    for status in (502, 503, 500):
        emu.inject("GET", r"/pulls$", Fault.server_error(status))
    retrying = client(emu, retry=github.GithubRetry(total=5, backoff_factor=0))
    assert list(retrying.get_repo(REPO).get_pulls()) == []
    assert [r.status for r in emu.calls("GET", r"/pulls$")] == [502, 503, 500, 200]


def test_502_after_create_then_retry_gets_already_exists(emu: GitHubEmulator) -> None:
    emu.commit_files(REPO, "specship/x", {"x.py": "x\n"})
    emu.inject("POST", r"/pulls$", Fault.server_error(502, after_effect=True))
    repo = client(emu, retry=github.GithubRetry(total=3, backoff_factor=0)).get_repo(REPO)
    with pytest.raises(github.GithubException) as caught:
        repo.create_pull(base="main", head="specship/x", title="x")
    assert caught.value.status == 422
    assert "A pull request already exists for octo-org:specship/x." in str(caught.value)
    assert [r.status for r in emu.calls("POST", r"/pulls$")] == [502, 422]
    assert len(emu.repo(REPO).pulls) == 1
    assert [p.number for p in repo.get_pulls(head="octo-org:specship/x")] == [1]


def test_5xx_on_patch_is_not_retried_by_pygithub(emu: GitHubEmulator) -> None:
    number = emu.add_issue(REPO, "x")
    comment_id = emu.add_comment(REPO, number, "old", author=BOT)
    emu.inject("PATCH", r"/issues/comments/\d+$", Fault.server_error(503))
    comment = (
        client(emu, retry=github.GithubRetry(total=3, backoff_factor=0))
        .get_repo(REPO)
        .get_issue(number)
        .get_comment(comment_id)
    )
    with pytest.raises(github.GithubException) as caught:
        comment.edit("new")
    assert caught.value.status == 503
    assert len(emu.calls("PATCH")) == 1
    comment.edit("new")
    assert emu.repo(REPO).comments[comment_id].body == "new"


def test_unresolvable_node_twice_then_success(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.commit_files(REPO, "specship/n", {"n.py": "n\n"})
    pr = gh.get_repo(REPO).create_pull(base="main", head="specship/n", title="x")
    emu.inject("POST", r"/issues/\d+/labels$", Fault.unresolvable_node(pr.node_id), times=2)
    for _ in range(2):
        with pytest.raises(github.GithubException) as caught:
            pr.add_to_labels("specship")
        assert caught.value.status == 422
        assert str(caught.value.message).startswith("Could not resolve to a node with the global id of")
    pr.add_to_labels("specship")
    assert [lab.name for lab in gh.get_repo(REPO).get_pull(pr.number).labels] == ["specship"]
    assert len(emu.repo(REPO).pulls) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.not_accessible(), "Resource not accessible by integration"),
        (
            Fault.actions_cannot_create_prs(),
            "GitHub Actions is not permitted to create or approve pull requests.",
        ),
    ],
)
def test_injected_403s_are_not_retried(emu: GitHubEmulator, fault: Fault, message: str) -> None:
    emu.commit_files(REPO, "specship/f", {"f.py": "f\n"})
    emu.inject("POST", r"/pulls$", fault)
    repo = client(emu, retry=github.GithubRetry(total=3, backoff_factor=0)).get_repo(REPO)
    with pytest.raises(github.GithubException) as caught:
        repo.create_pull(base="main", head="specship/f", title="x")
    assert (caught.value.status, caught.value.message) == (403, message)
    assert len(emu.calls("POST")) == 1
    assert emu.calls("POST")[0].fault == fault.kind


def test_injected_already_exists_has_githubs_shape(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.commit_files(REPO, "specship/y", {"y.py": "y\n"})
    emu.inject("POST", r"/pulls$", Fault.pull_request_exists("octo-org:specship/y"))
    with pytest.raises(github.GithubException) as caught:
        gh.get_repo(REPO).create_pull(base="main", head="specship/y", title="x")
    assert (
        caught.value.data["errors"][0]["message"] == "A pull request already exists for octo-org:specship/y."
    )
    assert emu.repo(REPO).pulls == {}


def test_content_creation_limit_answers_secondary_limit(emu: GitHubEmulator, gh: github.Github) -> None:
    emu.limit_content_creation(2, window=60)
    issue = gh.get_repo(REPO).get_issue(emu.add_issue(REPO, "x"))
    issue.create_comment("1")
    issue.create_comment("2")
    with pytest.raises(github.RateLimitExceededException):
        issue.create_comment("3")
    assert len(emu.repo(REPO).comments) == 2


def test_requests_are_recorded_with_headers_body_and_time(emu: GitHubEmulator, gh: github.Github) -> None:
    issue = gh.get_repo(REPO).get_issue(emu.add_issue(REPO, "x"))
    issue.create_comment("hello")
    get_repo, get_issue, post = emu.requests
    assert (get_repo.method, get_repo.operation) == ("GET", "GET /repos/{owner}/{repo}")
    assert post.operation == "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
    assert post.json == {"body": "hello"}
    assert post.headers["authorization"] == f"token {ACTIONS_TOKEN}"
    assert post.login == BOT
    assert get_repo.timestamp <= get_issue.timestamp <= post.timestamp
    assert emu.calls(status=201) == [post]


def test_pygithub_default_throttle_spaces_writes(emu: GitHubEmulator) -> None:
    issue = client(emu, throttle=True).get_repo(REPO).get_issue(emu.add_issue(REPO, "x"))
    issue.create_comment("1")
    issue.create_comment("2")
    first, second = emu.calls("POST")
    assert second.timestamp - first.timestamp >= 0.99


def test_unknown_route_is_404_json(emu: GitHubEmulator, gh: github.Github) -> None:
    with pytest.raises(github.UnknownObjectException):
        gh.requester.requestJsonAndCheck("GET", f"{emu.url}/repos/{REPO}/nothing-here")
    assert emu.requests[-1].response_json["message"] == "Not Found"


# ---- OpenAPI conformance ----------------------------------------------------------------------


def scripted_session(emu: GitHubEmulator, tmp_path: Path) -> None:
    """Exercise every operation of the OpenAPI subset (and a few error responses)."""
    gh = client(emu)
    alice = client(emu, USER_TOKENS["alice"])
    repo = gh.get_repo(REPO)
    number = emu.add_issue(REPO, "Implement 002", body="please", author="alice")
    issue = repo.get_issue(number)
    issue.edit(body="please, now")
    comment = issue.create_comment("working")
    comment.edit("done")
    list(issue.get_comments())
    comment.create_reaction("eyes")
    issue.add_to_labels("specship", "specship:running")
    issue.remove_from_labels("specship:running")
    repo.get_collaborator_permission("bob")
    sha = push_branch(emu.bare_repo_path, tmp_path / "conf", "specship/002", {"app.py": "x = 1\n"})
    repo.get_branch("specship/002")
    repo.get_git_ref("heads/specship/002")
    repo.create_git_ref("refs/heads/specship/002-copy", sha)
    pr = repo.create_pull(base="main", head="specship/002", title="T", body="B")
    list(repo.get_pulls(head="octo-org:specship/002"))
    alice.get_repo(REPO).get_pull(pr.number)
    pr.edit(body="B2")
    list(pr.get_files())
    pr.create_review_request(reviewers=["bob"])
    assert alice.get_user().login == "alice"
    assert gh.get_user("bob").type == "User"
    repo.create_issue(title="A new issue")
    alice.requester.requestJsonAndCheck("GET", f"{emu.url}/repos/{REPO}/actions/permissions/workflow")
    issue.create_reaction("rocket")
    emu.add_review(REPO, pr.number, author="bob", body="looks good")
    review_comment = emu.add_review_comment(REPO, pr.number, author="bob", body="here", path="app.py")
    list(pr.get_reviews())
    list(pr.get_review_comments())
    reactions = f"{emu.url}/repos/{REPO}/pulls/comments/{review_comment}/reactions"
    gh.requester.requestJsonAndCheck("POST", reactions, input={"content": "eyes"})
    annotation = {"path": "app.py", "start_line": 1, "end_line": 1, "annotation_level": "warning"}
    run = repo.create_check_run(
        "Specship",
        sha,
        status="in_progress",
        output={"title": "t", "summary": "s", "annotations": [{**annotation, "message": "m"}]},
    )
    run.edit(conclusion="failure", output={"title": "t", "summary": "s2", "text": "x"})
    repo.get_check_run(run.id)
    list(run.get_annotations())
    gh.requester.requestJsonAndCheck(
        "GET", f"{emu.url}/repos/{REPO}/commits/{sha}/check-runs", parameters={"check_name": "Specship"}
    )
    for call in (
        lambda: repo.get_issue(999),
        lambda: repo.create_pull(base="main", head="nope", title="x"),
        lambda: repo.get_collaborator_permission("nobody"),
        lambda: repo.get_branch("nope"),
    ):
        with pytest.raises(github.GithubException):
            call()


def test_every_subset_operation_conforms_to_openapi(emu: GitHubEmulator, tmp_path: Path) -> None:
    scripted_session(emu, tmp_path)
    assert operations() <= validated_operations(emu.requests)
    assert conformance_errors(emu.requests) == []
    error_statuses = {r.status for r in emu.requests if r.status >= 400}
    assert error_statuses == {404, 422}


def test_corrupted_response_fails_conformance(tmp_path: Path) -> None:
    def drop_head(body: Any) -> Any:
        del body["head"]
        return body

    with running_emulator(check_conformance=False) as emu:
        emu.inject("GET", r"/pulls/\d+$", Fault.corrupt(drop_head), times=None)
        scripted_session(emu, tmp_path)
        errors = conformance_errors(emu.requests)
    assert errors
    assert all(e.startswith("GET /repos/{owner}/{repo}/pulls/{pull_number} -> 200") for e in errors)
    assert any("'head' is a required property" in e for e in errors)


def test_validator_rejects_missing_required_field_and_wrong_types(
    emu: GitHubEmulator, gh: github.Github
) -> None:
    issue = gh.get_repo(REPO).get_issue(emu.add_issue(REPO, "x"))
    issue.create_comment("hello")
    created = emu.calls("POST")[0]
    operation = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
    assert validate_response(operation, 201, created.response_json) == []
    missing = copy.deepcopy(created.response_json)
    del missing["user"]["login"]
    assert any("'login' is a required property" in e for e in validate_response(operation, 201, missing))
    wrong = copy.deepcopy(created.response_json)
    wrong["id"] = "1"
    assert validate_response(operation, 201, wrong) != []
    nulled = copy.deepcopy(created.response_json)
    nulled["node_id"] = None
    assert validate_response(operation, 201, nulled) != []
