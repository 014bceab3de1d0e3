"""Whose change `check` judges: the flag, else the pull request's head branch, else the checkout's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.cli.check import author_of
from bot.settings import Settings
from tests.conftest import run_git


def test_the_flag_wins_over_the_branch(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({"a.py": "x = 1\n"})
    head = {"GITHUB_HEAD_REF": "specship/001-x"}
    assert author_of(repo, Settings(), "human", head) == ("human", "--author human")
    assert author_of(repo, Settings(), "agent", {}) == ("agent", "--author agent")


def test_a_pull_requests_head_branch_decides_in_actions(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({"a.py": "x = 1\n"})
    env = {"GITHUB_HEAD_REF": "specship/001-x", "GITHUB_REF_NAME": "7/merge"}
    assert author_of(repo, Settings(), "auto", env)[0] == "agent"
    env = {"GITHUB_HEAD_REF": "alice/fix-spec", "GITHUB_REF_NAME": "7/merge"}
    assert author_of(repo, Settings(), "auto", env) == (
        "human",
        "branch alice/fix-spec is not a specship/ branch",
    )
    # a push to Specship's branch (no pull request): the ref name
    assert author_of(repo, Settings(), "auto", {"GITHUB_REF_NAME": "specship/001-x"})[0] == "agent"


def test_locally_the_checked_out_branch_decides_and_the_prefix_is_the_setting(
    git_repo: Callable[..., Path],
) -> None:
    repo = git_repo({"a.py": "x = 1\n"})
    run_git(repo, "checkout", "-q", "-b", "bot/001-x")
    assert author_of(repo, Settings(), "auto", {})[0] == "human"
    assert author_of(repo, Settings(branch_prefix="bot/"), "auto", {}) == (
        "agent",
        "branch bot/001-x starts with bot/",
    )
    run_git(repo, "checkout", "-q", "--detach")
    assert author_of(repo, Settings(), "auto", {}) == ("human", "branch (detached) is not a specship/ branch")
