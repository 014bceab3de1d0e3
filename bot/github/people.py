"""Who is who on GitHub: collaborator roles, account types, and the account the token acts as."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.exceptions import FatalError
from bot.github.retry import Call, Calls, GitHubApiError
from bot.github.types import ROLES
from bot.redact import Redactor

if TYPE_CHECKING:
    from github.Requester import Requester

T = TypeVar("T")

VIEWER_QUERY = "query { viewer { login } }"
UNKNOWN_IDENTITY = (
    "Specship could not tell which account its GitHub token acts as ({why}), so it cannot find its "
    "own comments; it stopped rather than post a second tracking comment."
)
UNKNOWN_IDENTITY_FIX = (
    "Set `bot-login` to the account the token acts as: `<app-slug>[bot]` for a GitHub App token "
    "(the `app-slug` output of actions/create-github-app-token), `github-actions[bot]` for GITHUB_TOKEN."
)


class People:
    """Mixed into GitHubHost, which provides the request plumbing declared here."""

    identity: str | None
    redact: Redactor
    _token_user: str | None
    _asked_user: bool

    @property
    def _req(self) -> Requester:
        raise NotImplementedError

    def call(self, call: Call, fn: Callable[[], T]) -> T:
        raise NotImplementedError

    def request(self, call: Call, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        raise NotImplementedError

    def permission(self, login: str) -> str:
        """The collaborator role of login: admin/maintain/write/triage/read/none, or "bot" for an
        account the permission API says is not a user. Never derived from author_association."""
        who = urllib.parse.quote(login, safe="")
        try:
            data = self.request(Calls.READ_PERMISSION, "GET", f"collaborators/{who}/permission")
        except GitHubApiError as err:
            if err.status == 404:
                return "bot" if "is not a user" in err.message.lower() else "none"
            raise
        role, legacy = data.get("role_name"), data.get("permission")
        if role in ROLES:
            return str(role)
        return str(legacy) if legacy in ROLES else "none"  # custom roles: the legacy level

    def user_type(self, login: str) -> str:
        """The account type: "User", "Bot", "Organization", or "none" when there is no such account."""
        try:
            data = self.request(Calls.READ_USER, "GET", f"/users/{urllib.parse.quote(login, safe='')}")
        except GitHubApiError as err:
            if err.status == 404:
                return "none"
            raise
        return str(data.get("type") or "none")

    def token_user(self) -> str | None:
        """The user a personal token belongs to; None for an installation token (GET /user is 403)."""
        if not self._asked_user:
            try:
                self._token_user = str(self.request(Calls.READ_TOKEN_USER, "GET", "/user")["login"])
            except GitHubApiError as err:
                if err.status not in (401, 403):
                    raise
            self._asked_user = True
        return self._token_user

    def viewer(self) -> str:
        """The login GitHub's GraphQL API says this token acts as (any token type)."""
        _, data = self.call(Calls.READ_VIEWER, lambda: self._req.graphql_query(VIEWER_QUERY, {}))
        login = ((data.get("data") or {}).get("viewer") or {}).get("login")
        if not isinstance(login, str) or not login:
            raise GitHubApiError("GitHub's viewer query named no account.", "Report this run.")
        return login

    def whoami(self) -> str:
        """The login this token acts as (see the class docstring); FatalError when it cannot be told."""
        if self.identity is None:
            user = self.token_user()
            if user is None:
                try:
                    user = self.viewer()
                except GitHubApiError as err:
                    why = self.redact(
                        f"GET /user is not allowed for it and the GraphQL viewer query failed: {err.cause}"
                    )
                    raise FatalError(UNKNOWN_IDENTITY.format(why=why), UNKNOWN_IDENTITY_FIX) from None
            self.identity = user
        return self.identity
