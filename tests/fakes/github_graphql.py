"""POST /graphql for the emulator: `viewer` and the two draft-state mutations, refused like GitHub does.

What GitHub answers, and where that was observed:
- `{ viewer { login } }` works with every token; an installation token gets its App's bot,
  e.g. `github-actions[bot]` for GITHUB_TOKEN (fullsend-ai/fullsend#1953,
  joshjohanning/bulk-github-repo-settings-sync-action#194, CatChen/token-who-am-i-action).
- GITHUB_TOKEN may not run `markPullRequestReadyForReview` or `convertPullRequestToDraft`:
  "GraphQL: Resource not accessible by integration (markPullRequestReadyForReview)", even with
  `pull-requests: write` (cli/cli#8910). Another App's installation token needs
  `pull_requests: write` and `contents: write` (cli/cli discussion #6924).
- GraphQL errors come with HTTP 200, `data` null for the field, and `errors` entries with a
  `type` (FORBIDDEN, NOT_FOUND, ...), `path`, `locations` and `message`.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.github_checks import CheckHandlers
from tests.fakes.github_handlers import Handlers
from tests.fakes.github_routes import ApiError, Ctx, Reply
from tests.fakes.github_state import PullRequest, Repo, role_at_least

MUTATIONS = {"markPullRequestReadyForReview": False, "convertPullRequestToDraft": True}
_MUTATION = re.compile(r"\b(" + "|".join(MUTATIONS) + r")\s*\(")
_VIEWER = re.compile(r"^\s*(?:query\b[^{]*)?\{\s*viewer\s*\{(?P<fields>[^{}]*)\}\s*\}\s*$")
ACTIONS_LOGIN = "github-actions[bot]"
NOT_ACCESSIBLE = "Resource not accessible by integration"
DRAFTS_UNSUPPORTED = "Draft pull requests are not supported in this repository."


def _errors(name: str | None, kind: str, message: str) -> Reply:
    """GitHub answers GraphQL errors with 200 and an `errors` list (data null for the field)."""
    error: dict[str, Any] = {"type": kind, "message": message, "locations": [{"line": 1, "column": 1}]}
    body: dict[str, Any] = {"errors": [error]}
    if name is not None:
        error["path"] = [name]
        body["data"] = {name: None}
    if kind == "FORBIDDEN":
        error["extensions"] = {"saml_failure": False}
    return Reply(200, body)


class GraphQLHandlers(CheckHandlers, Handlers):
    """Every REST handler, the check runs, and the GraphQL endpoint."""

    def graphql(self, ctx: Ctx) -> Reply:
        if ctx.token is None:
            raise ApiError(401, "This endpoint requires you to be authenticated.")
        query = ctx.field("query")
        if not isinstance(query, str):
            raise ApiError(400, "A query attribute must be specified and must be a string.")
        viewer = _VIEWER.match(query)
        if viewer is not None:
            return self._viewer(ctx, viewer.group("fields").split())
        found = _MUTATION.search(query)
        if found is None:
            return _errors(None, "UNSUPPORTED", "The emulator supports only viewer and the draft mutations.")
        return self._draft_mutation(ctx, found.group(1))

    def _viewer(self, ctx: Ctx, fields: list[str]) -> Reply:
        assert ctx.token is not None
        user = self.world.ensure_user(ctx.token.login)
        values = {"login": user.login, "id": user.node_id, "databaseId": user.id}
        unknown = [f for f in fields if f not in values]
        if unknown:
            message = f"Field '{unknown[0]}' doesn't exist on type 'User'"
            return Reply(200, {"errors": [{"message": message, "locations": [{"line": 1, "column": 1}]}]})
        return Reply(200, {"data": {"viewer": {f: values[f] for f in fields}}})

    def _draft_mutation(self, ctx: Ctx, name: str) -> Reply:
        variables = ctx.field("variables")
        given = variables.get("input") if isinstance(variables, dict) else None
        node_id = given.get("pullRequestId") if isinstance(given, dict) else None
        located = self._pull_by_node(node_id)
        if located is None:
            return _errors(
                name, "NOT_FOUND", f"Could not resolve to a node with the global id of '{node_id}'"
            )
        repo, pull = located
        refusal = self._draft_refusal(ctx, repo)
        if refusal is not None:
            return _errors(name, *refusal)
        if MUTATIONS[name] and not repo.drafts_supported:
            return _errors(name, "UNPROCESSABLE", DRAFTS_UNSUPPORTED)
        pull.draft = MUTATIONS[name]
        self.touch(pull.issue)
        mutation_id = given.get("clientMutationId") if isinstance(given, dict) else None
        payload = {"clientMutationId": mutation_id, "pullRequest": {"isDraft": pull.draft}}
        return Reply(200, {"data": {name: payload}})

    def _draft_refusal(self, ctx: Ctx, repo: Repo) -> tuple[str, str] | None:
        tok = ctx.token
        assert tok is not None
        if tok.installation and tok.login.lower() == ACTIONS_LOGIN:
            return "FORBIDDEN", NOT_ACCESSIBLE
        if tok.installation and tok.permissions is not None:
            granted = {k.replace("-", "_"): v for k, v in tok.permissions.items()}
            if not all(role_at_least(granted.get(p), "write") for p in ("pull_requests", "contents")):
                return "FORBIDDEN", NOT_ACCESSIBLE
            return None
        try:
            self.need(ctx, repo, ("pull_requests",), "write", True)
        except ApiError as err:
            return ("NOT_FOUND" if err.status == 404 else "FORBIDDEN"), err.message
        return None

    def _pull_by_node(self, node_id: Any) -> tuple[Repo, PullRequest] | None:
        for repo in self.world.repos.values():
            for pull in repo.pulls.values():
                if f"PR_kwDO{pull.id:08d}" == node_id:
                    return repo, pull
        return None
