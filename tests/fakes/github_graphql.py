"""POST /graphql for the emulator: only markPullRequestReadyForReview and convertPullRequestToDraft."""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.github_handlers import Handlers
from tests.fakes.github_routes import ApiError, Ctx, Reply
from tests.fakes.github_state import PullRequest, Repo

MUTATIONS = {"markPullRequestReadyForReview": False, "convertPullRequestToDraft": True}
_MUTATION = re.compile(r"\b(" + "|".join(MUTATIONS) + r")\s*\(")


def _errors(name: str | None, kind: str, message: str) -> Reply:
    """GitHub answers GraphQL errors with 200 and an `errors` list (data null for the field)."""
    error: dict[str, Any] = {"type": kind, "message": message, "locations": [{"line": 1, "column": 1}]}
    body: dict[str, Any] = {"errors": [error]}
    if name is not None:
        error["path"] = [name]
        body["data"] = {name: None}
    return Reply(200, body)


class GraphQLHandlers(Handlers):
    """The REST handlers plus a GraphQL endpoint for the two draft-state mutations PyGithub uses."""

    def graphql(self, ctx: Ctx) -> Reply:
        if ctx.token is None:
            raise ApiError(401, "This endpoint requires you to be authenticated.")
        query = ctx.field("query")
        found = _MUTATION.search(query) if isinstance(query, str) else None
        if found is None:
            return _errors(None, "UNSUPPORTED", "The emulator supports only the draft-state mutations.")
        name = found.group(1)
        variables = ctx.field("variables")
        given = variables.get("input") if isinstance(variables, dict) else None
        node_id = given.get("pullRequestId") if isinstance(given, dict) else None
        located = self._pull_by_node(node_id)
        if located is None:
            return _errors(
                name, "NOT_FOUND", f"Could not resolve to a node with the global id of '{node_id}'"
            )
        repo, pull = located
        try:
            self.need(ctx, repo, ("pull_requests",), "write", True)
        except ApiError as err:
            kind = "NOT_FOUND" if err.status == 404 else "FORBIDDEN"
            return _errors(name, kind, err.message)
        pull.draft = MUTATIONS[name]
        self.touch(pull.issue)
        mutation_id = given.get("clientMutationId") if isinstance(given, dict) else None
        payload = {"clientMutationId": mutation_id, "pullRequest": {"isDraft": pull.draft}}
        return Reply(200, {"data": {name: payload}})

    def _pull_by_node(self, node_id: Any) -> tuple[Repo, PullRequest] | None:
        for repo in self.world.repos.values():
            for pull in repo.pulls.values():
                if f"PR_kwDO{pull.id:08d}" == node_id:
                    return repo, pull
        return None
