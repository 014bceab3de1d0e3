"""Pytest fixtures: a started GitHub emulator with a standard cast, and PyGithub clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import github
import pytest
from github import Auth

from tests.fakes.github_api import GitHubEmulator
from tests.fakes.github_openapi import conformance_errors

REPO = "octo-org/taskboard"
ACTIONS_TOKEN = "ghs_" + "A" * 36
BOT = "github-actions[bot]"
# A GitHub App installed on the repository, as actions/create-github-app-token mints its token.
APP_SLUG = "specship-app"
APP_BOT = f"{APP_SLUG}[bot]"
APP_TOKEN = "ghs_" + "P" * 36
TOKEN_PERMISSIONS = {
    "contents": "write",
    "issues": "write",
    "pull-requests": "write",
    "checks": "write",
    "metadata": "read",
}
USER_TOKENS = {"alice": "ghp_alice", "bob": "ghp_bob", "carol": "ghp_carol", "dave": "ghp_dave"}
ROLES = {"alice": "admin", "bob": "write", "mallory": "maintain", "carol": "read", "dave": "triage"}


def standard_emulator() -> GitHubEmulator:
    """Started emulator: repo octo-org/taskboard (main, README), GITHUB_TOKEN-like ACTIONS_TOKEN
    for github-actions[bot] (contents/issues/pull-requests/checks: write), the App specship-app
    with APP_TOKEN (the same permissions), users alice=admin, bob=write, mallory=maintain,
    carol=read, dave=triage, eve (no role), bot accounts Copilot and evil-app[bot] (type Bot),
    and personal tokens USER_TOKENS."""
    emu = GitHubEmulator().start()
    emu.add_repo(REPO, description="Spec Kit example app")
    emu.add_app("github-actions", name="GitHub Actions", owner="github")
    emu.add_app(APP_SLUG, name="Specship App", owner="octo-org")
    emu.add_user("Copilot", type="Bot")
    emu.add_user("evil-app[bot]", type="Bot")
    emu.add_user("eve")
    for login, role in ROLES.items():
        emu.set_permission(REPO, login, role)
    emu.add_token(ACTIONS_TOKEN, BOT, installation=True, permissions=TOKEN_PERMISSIONS)
    emu.add_token(APP_TOKEN, APP_BOT, installation=True, permissions=TOKEN_PERMISSIONS)
    for login, token in USER_TOKENS.items():
        emu.add_token(token, login)
    return emu


def client(
    emu: GitHubEmulator,
    token: str = ACTIONS_TOKEN,
    retry: github.GithubRetry | int | None = None,
    *,
    throttle: bool = False,
) -> github.Github:
    """A real PyGithub client for the emulator: no retries unless given, and without PyGithub's
    default throttle (0.25 s between requests, 1 s between writes) unless throttle=True."""
    if throttle:
        return github.Github(auth=Auth.Token(token), base_url=emu.url, retry=retry, timeout=10)
    return github.Github(
        auth=Auth.Token(token),
        base_url=emu.url,
        retry=retry,
        timeout=10,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


@contextmanager
def running_emulator(*, check_conformance: bool = True) -> Iterator[GitHubEmulator]:
    """The standard emulator; on a clean exit every response it gave must conform to GitHub's
    OpenAPI schemas (unless check_conformance or `emu.check_conformance` is False)."""
    emu = standard_emulator()
    emu.check_conformance = check_conformance
    try:
        yield emu
        if emu.check_conformance:
            errors = conformance_errors(emu.requests)
            assert not errors, "emulator responses violate the OpenAPI description:\n" + "\n".join(errors)
    finally:
        emu.stop()


@pytest.fixture
def github_emu() -> Iterator[GitHubEmulator]:
    """The standard emulator (see standard_emulator), conformance-checked at teardown
    (set `github_emu.check_conformance = False` in a test that corrupts responses on purpose)."""
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def gh(github_emu: GitHubEmulator) -> github.Github:
    """PyGithub client authenticated with the GITHUB_TOKEN-like installation token."""
    return client(github_emu)
