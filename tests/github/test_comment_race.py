"""Two runs on one issue end with one tracking comment: re-list after create, the younger goes (finding 6)."""

from __future__ import annotations

from typing import Any

from bot.github.host import GitHubHost
from tests.fakes.github_api import GitHubEmulator
from tests.fakes.github_faults import Fault, error_body
from tests.fakes.github_fixture import ACTIONS_TOKEN, BOT, REPO

MARKER = "<!-- specship:tracking:issue-1:002-tasks -->"


def host(emu: GitHubEmulator) -> GitHubHost:
    return GitHubHost(ACTIONS_TOKEN, REPO, emu.url, sleep=lambda seconds: None)


def marked(emu: GitHubEmulator, issue: int) -> dict[int, str]:
    return {
        c.id: c.body for c in emu.repo(REPO).comments.values() if c.issue_number == issue and MARKER in c.body
    }


def rival_comment(emu: GitHubEmulator, issue: int, status: int) -> Fault:
    """The real answer, after which (as a side effect) another run creates its marked comment."""

    def create(body: Any) -> Any:
        emu.add_comment(REPO, issue, f"{MARKER}\nthe other run", author=BOT)
        return body

    return Fault(status, transform=create)


def test_a_rival_created_between_our_look_and_our_create_wins_and_gets_our_text(
    github_emu: GitHubEmulator,
) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    # The other run creates its comment right after we listed the comments and saw none.
    github_emu.inject("GET", rf"/issues/{issue}/comments$", rival_comment(github_emu, issue, 200))
    info = host(github_emu).upsert_comment(issue, MARKER, "this run")
    found = marked(github_emu, issue)
    assert list(found.values()) == [f"{MARKER}\nthis run"]
    assert info.id == min(found)  # the older comment (the rival's) is the one kept
    assert len(github_emu.calls("DELETE", r"/issues/comments/\d+$", 204)) == 1


def test_a_rival_created_after_ours_is_deleted(github_emu: GitHubEmulator) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.inject("POST", rf"/issues/{issue}/comments$", rival_comment(github_emu, issue, 201))
    info = host(github_emu).upsert_comment(issue, MARKER, "this run")
    assert marked(github_emu, issue) == {info.id: f"{MARKER}\nthis run"}


def test_a_duplicate_the_other_run_already_deleted_is_fine(github_emu: GitHubEmulator) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    github_emu.inject("POST", rf"/issues/{issue}/comments$", rival_comment(github_emu, issue, 201))
    github_emu.inject("DELETE", r"/issues/comments/\d+$", Fault(404, error_body(404, "Not Found")))
    info = host(github_emu).upsert_comment(issue, MARKER, "this run")
    assert info.body == f"{MARKER}\nthis run"


def test_a_humans_comment_quoting_the_marker_is_never_deleted(github_emu: GitHubEmulator) -> None:
    issue = github_emu.add_issue(REPO, "Implement 002", author="alice")
    human = github_emu.add_comment(REPO, issue, f"quoting {MARKER}", author="bob")
    info = host(github_emu).upsert_comment(issue, MARKER, "this run")
    assert marked(github_emu, issue) == {human: f"quoting {MARKER}", info.id: f"{MARKER}\nthis run"}
