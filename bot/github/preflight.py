"""Preflight before any model call: can this token read the repository, push, open PRs and comment?"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.exceptions import FatalError
from bot.github.retry import (
    ACTIONS_SETTING,
    ActionsCannotCreatePullRequests,
    Call,
    GitHubApiError,
    MissingPermission,
    permission_fix,
)
from bot.github.types import Problem


class PreflightHost(Protocol):
    """What preflight needs of the GitHub host (bot.github.host.GitHubHost)."""

    full_name: str
    identity: str | None  # the `bot-login` setting, when given

    def request(self, call: Call, method: str, path: str, body: Any = None, **kw: Any) -> Any: ...
    def rate_budget(self) -> tuple[int, int, int]: ...
    def token_user(self) -> str | None: ...
    def viewer(self) -> str: ...
    def whoami(self) -> str: ...


LOW_BUDGET = 100  # requests; a run needs a few dozen
ACTIONS_BOT = "github-actions[bot]"

# (check, permission, method, path, a body GitHub must refuse with 422 when the token is allowed)
PROBES: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("push", "contents: write", "POST", "git/refs", {"ref": "refs/heads/..", "sha": "0" * 40}),
    ("pull-requests", "pull-requests: write", "POST", "pulls", {"head": "", "base": "", "title": ""}),
    ("comments", "issues: write", "POST", "issues", {"title": ""}),
)
# Installation tokens only: a personal token can never create check runs (see NO_CHECKS_FOR_USERS).
CHECKS_PROBE = ("checks", "checks: write", "POST", "check-runs", {"name": "", "head_sha": ""})
NO_CHECKS_FOR_USERS = (
    "The token is a personal token ({user}); GitHub lets only GitHub Apps create check runs, so "
    "Specship's pull requests get no `Specship` check run and only their draft state and labels "
    "say whether the gates passed."
)
NO_CHECKS_FIX = "Pass GITHUB_TOKEN (with `checks: write`) or a GitHub App token as `github-token`."
WRONG_BOT_LOGIN = (
    "bot-login is {given!r}, but GitHub says the token acts as {actual!r}: Specship would not find "
    "its own comments."
)


def run_preflight(host: PreflightHost, branch_prefix: str) -> list[Problem]:
    """Findings (blocking ones stop the run); raises FatalError when the repository is unreachable.

    Checked (GitHub has no endpoint that lists an installation token's permissions):
      - the repository is visible (GET /repos/{o}/{r}; 401/403/404 stop the run), not archived;
      - user tokens (GET /user answers): `permissions.push` of GET /repos/{o}/{r};
      - `contents`, `pull-requests` and `issues` write (and `checks` write for an installation
        token), by dry writes whose body GitHub must refuse (a ref "refs/heads/..", a pull request,
        an issue and a check run without fields): GitHub checks the token's permissions before the
        body, so 422 means allowed and 403 "Resource not accessible by integration" names the
        missing permission. Nothing is ever created. A personal token cannot create check runs at
        all (a warning);
      - the account the token acts as: `bot-login`, when set, must be what GitHub says (GET /user,
        or the GraphQL viewer for an installation token); unset, it is asked, and a token whose
        account cannot be told stops the run (FatalError) before it could post a second comment;
      - GITHUB_TOKEN only: "Allow GitHub Actions to create and approve pull requests", from the dry
        pull request (403 "GitHub Actions is not permitted...") and, when the token may read it
        (`actions: read`), GET /repos/{o}/{r}/actions/permissions/workflow;
      - no branch is named like the prefix ("specship"), which would block "specship/..." branches;
      - the primary rate-limit budget left (a non-blocking warning when low).
    Not checked: branch protection or rulesets (seen at push time), the `workflows` permission
    (Specship never writes workflows), an organization policy GitHub enforces only on a real pull
    request (create_pr then raises ActionsCannotCreatePullRequests with the compare URL), whether
    reviewers are collaborators (a warning at request time), and token expiry during the run.
    """
    repo = _repository(host)
    problems: list[Problem] = []
    if repo.get("archived"):
        problems.append(Problem("repository", f"{host.full_name} is archived (read-only).", "Unarchive it."))
    user = host.token_user()
    push = (repo.get("permissions") or {}).get("push") if user is not None else None
    if push is False:
        problems.append(
            Problem(
                "push",
                f"The token acts as {user}, who cannot push to {host.full_name}.",
                f"Give {user} the Write role on the repository, or pass a token that has it "
                "(the workflow's GITHUB_TOKEN with `permissions: {contents: write}`).",
            )
        )
    else:
        probes = PROBES if user is not None else (*PROBES, CHECKS_PROBE)
        problems.extend(p for p in (_probe(host, probe) for probe in probes) if p is not None)
    if user is not None:
        cause = NO_CHECKS_FOR_USERS.format(user=user)
        problems.append(Problem("checks", cause, NO_CHECKS_FIX, blocking=False))
    problems.extend(_identity(host, user))
    if user is None and host.whoami() == ACTIONS_BOT and not any(p.check == "actions" for p in problems):
        problems.extend(_actions_setting(host))
    problems.extend(_branch_prefix(host, branch_prefix))
    problems.extend(_budget(host))
    return problems


def _identity(host: PreflightHost, user: str | None) -> list[Problem]:
    """`bot-login` against what GitHub says; with no bot-login, whoami() asks (or stops the run)."""
    given = host.identity
    if not given:
        host.whoami()
        return []
    try:
        actual = user if user is not None else host.viewer()
    except GitHubApiError as err:
        cause = f"Could not verify bot-login {given!r} against GitHub: {err.cause}"
        return [Problem("identity", cause, "", blocking=False)]
    if actual.lower() == given.lower():
        return []
    cause = WRONG_BOT_LOGIN.format(given=given, actual=actual)
    return [
        Problem("identity", cause, f"Set `bot-login: {actual}` or leave it empty (Specship asks GitHub).")
    ]


def _repository(host: PreflightHost) -> dict[str, Any]:
    try:
        data: dict[str, Any] = host.request(Call("read the repository"), "GET", "")
    except GitHubApiError as err:
        if err.status == 401:
            raise FatalError(
                "GitHub rejected the token (401 Bad credentials).",
                "Pass a valid token: `github-token: ${{ secrets.GITHUB_TOKEN }}` or a GitHub App token.",
            ) from None
        if err.status in (403, 404):
            raise FatalError(
                f"The repository {host.full_name} is not visible to this token ({err.status}).",
                "Check the repository name, and that the token may read it (`permissions: {contents: read}`, "
                "or install the GitHub App on this repository).",
            ) from None
        raise
    return data


def _probe(host: PreflightHost, probe: tuple[str, str, str, str, dict[str, Any]]) -> Problem | None:
    check, permission, method, path, body = probe
    try:
        host.request(Call(f"check `{permission}`", permission, mutating=True), method, path, body)
    except ActionsCannotCreatePullRequests as err:
        return Problem("actions", err.message.rstrip(".") + ".", ACTIONS_SETTING)
    except MissingPermission as err:
        return Problem(check, f"The token lacks `{permission}` ({err.message}).", permission_fix(permission))
    except GitHubApiError as err:
        if err.status == 422:
            return None  # allowed: GitHub got past the permission check and refused the empty body
        if err.status == 404:
            return Problem(
                check,
                f"The token cannot write to {host.full_name} (404 on {path}).",
                permission_fix(permission),
            )
        return Problem(
            check, f"Could not verify `{permission}`: {err.cause}", permission_fix(permission), blocking=False
        )
    return Problem(
        check, f"GitHub accepted a deliberately invalid {path} request.", "Report this run.", blocking=False
    )


def _actions_setting(host: PreflightHost) -> list[Problem]:
    try:
        data = host.request(
            Call("read the Actions workflow permissions", "actions: read"),
            "GET",
            "actions/permissions/workflow",
        )
    except GitHubApiError:
        return []  # needs `actions: read`; the dry pull request above covers what it can
    if data.get("can_approve_pull_request_reviews") is False:
        cause = f"GitHub Actions may not create pull requests in {host.full_name} (repository setting)."
        return [Problem("actions", cause, ACTIONS_SETTING)]
    return []


def _branch_prefix(host: PreflightHost, prefix: str) -> list[Problem]:
    top = prefix.split("/", 1)[0]
    if not prefix.rstrip("/") or "/" not in prefix:
        return []
    try:
        host.request(
            Call("read a branch", "contents: read"),
            "GET",
            f"git/ref/heads/{urllib.parse.quote(top, safe='')}",
        )
    except GitHubApiError as err:
        if err.status == 404:
            return []
        return [
            Problem(
                "branch-prefix",
                f"Could not check for a branch named {top!r}: {err.cause}",
                "",
                blocking=False,
            )
        ]
    return [
        Problem(
            "branch-prefix",
            f"A branch named {top!r} exists; git cannot create {prefix}… branches beside it.",
            f"Rename or delete the branch {top!r}, or set `branch-prefix` to another name.",
        )
    ]


def _budget(host: PreflightHost) -> list[Problem]:
    remaining, limit, reset = host.rate_budget()
    if limit <= 0 or remaining >= LOW_BUDGET:
        return []
    until = datetime.fromtimestamp(reset, UTC).strftime("%H:%M:%S UTC")
    cause = f"Only {remaining} of {limit} GitHub API requests are left until {until}."
    return [Problem("rate-limit", cause, "Re-run after the reset if this run fails.", blocking=False)]
