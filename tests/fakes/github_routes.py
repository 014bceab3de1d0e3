"""Routing, request context and error shapes of the GitHub REST emulator; shared access checks."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.github_render import Json, Renderer
from tests.fakes.github_state import Issue, IssueComment, PullRequest, Repo, Token, World, role_at_least

DOCS = "https://docs.github.com/rest"
BODY_LIMIT = 65536
ZERO_SHA = "0" * 40


class ApiError(Exception):
    """An error response: GitHub's `{"message", "documentation_url", "status"}` shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Json] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def body(self, docs: str = DOCS) -> Json:
        """GitHub's error object; docs is the operation's documentation page, as GitHub links it."""
        data: Json = {"message": self.message}
        if self.errors is not None:
            data["errors"] = self.errors
        data["documentation_url"] = docs
        data["status"] = str(self.status)
        return data


def not_found(message: str = "Not Found") -> ApiError:
    return ApiError(404, message)


def invalid(resource: str, code: str, field: str | None = None, message: str | None = None) -> ApiError:
    """422 Validation Failed with one error entry."""
    error: Json = {"resource": resource, "code": code}
    if field is not None:
        error["field"] = field
    if message is not None:
        error["message"] = message
    return ApiError(422, "Validation Failed", errors=[error])


@dataclass
class Reply:
    """A handler's answer; body None means no body (204)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """One request as the handlers see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    token: Token | None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def login(self) -> str | None:
        return self.token.login if self.token else None

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None


_NUMERIC = {"issue_number", "pull_number", "comment_id", "reaction_id", "check_run_id"}
_GREEDY = {"ref", "branch", "name"}


def compile_template(template: str) -> re.Pattern[str]:
    """`/repos/{owner}/{repo}/git/ref/{ref}` -> a regex with named groups."""

    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        body = r"\d+" if name in _NUMERIC else ".+" if name in _GREEDY else "[^/]+"
        return f"(?P<{name}>{body})"

    return re.compile("^" + re.sub(r"\{(\w+)\}", group, template) + "$")


class HandlerBase:
    """Lookups and access control shared by the handlers."""

    def __init__(self, world: World, render: Renderer) -> None:
        self.world = world
        self.r = render

    # ---- access control -------------------------------------------------------------------

    def repo(self, ctx: Ctx) -> Repo:
        """The addressed repository, 404 when missing or private and unreadable."""
        repo = self.world.repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
        if repo is None:
            raise not_found()
        if repo.private and not self._can_read(ctx, repo):
            raise not_found()
        return repo

    def _can_read(self, ctx: Ctx, repo: Repo) -> bool:
        if ctx.token is None:
            return False
        if ctx.token.installation:
            return True
        return role_at_least(self.world.role(repo, ctx.token.login), "read")

    def need(self, ctx: Ctx, repo: Repo, app_perms: tuple[str, ...], role: str, write: bool) -> None:
        """Installation tokens need one of app_perms (read/write); user tokens need role."""
        tok = ctx.token
        if tok is None:
            if write or repo.private:
                raise ApiError(401, "Requires authentication")
            return
        if tok.installation:
            if tok.permissions is None:
                return
            granted = {k.replace("-", "_"): v for k, v in tok.permissions.items()}
            level = "write" if write else "read"
            if not any(role_at_least(granted.get(p), level) for p in app_perms):
                raise ApiError(403, "Resource not accessible by integration")
            return
        if not repo.private and role == "read":
            return
        if not role_at_least(self.world.role(repo, tok.login), role):
            if not role_at_least(self.world.role(repo, tok.login), "read"):
                raise not_found()
            raise ApiError(403, "Resource not accessible by personal access token")

    def issue(self, repo: Repo, ctx: Ctx) -> Issue:
        issue = repo.issues.get(int(ctx.params["issue_number"]))
        if issue is None:
            raise not_found()
        return issue

    def pull(self, repo: Repo, ctx: Ctx) -> PullRequest:
        pull = repo.pulls.get(int(ctx.params["pull_number"]))
        if pull is None:
            raise not_found()
        return pull

    def comment(self, repo: Repo, ctx: Ctx) -> IssueComment:
        comment = repo.comments.get(int(ctx.params["comment_id"]))
        if comment is None:
            raise not_found()
        return comment

    def _issue_perms(self, issue: Issue) -> tuple[str, ...]:
        return ("issues", "pull_requests") if issue.is_pull else ("issues",)

    def touch(self, issue: Issue) -> None:
        issue.updated_at = self.world.clock()

    @staticmethod
    def check_body(resource: str, body: Any, required: bool) -> None:
        if body is None:
            if required:
                raise invalid(resource, "missing_field", "body")
            return
        if not isinstance(body, str):
            raise invalid(resource, "invalid", "body")
        if len(body) > BODY_LIMIT:
            message = f"body is too long (maximum is {BODY_LIMIT} characters)"
            raise invalid(resource, "custom", "body", message)


R = "/repos/{owner}/{repo}"
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/user", "get_authenticated_user"),
    ("GET", "/users/{username}", "get_user"),
    ("GET", "/rate_limit", "rate_limit"),
    ("GET", R, "get_repo"),
    ("GET", R + "/collaborators/{username}/permission", "get_permission"),
    ("GET", R + "/actions/permissions/workflow", "get_workflow_permissions"),
    ("PUT", R + "/actions/permissions/workflow", "set_workflow_permissions"),
    ("GET", R + "/branches/{branch}", "get_branch"),
    ("GET", R + "/git/ref/{ref}", "get_ref"),
    ("GET", R + "/git/refs/{ref}", "get_matching_refs"),
    ("POST", R + "/git/refs", "create_ref"),
    ("PATCH", R + "/git/refs/{ref}", "update_ref"),
    ("DELETE", R + "/git/refs/{ref}", "delete_ref"),
    ("GET", R + "/labels", "list_repo_labels"),
    ("POST", R + "/labels", "create_label"),
    ("GET", R + "/labels/{name}", "get_label"),
    ("GET", R + "/issues", "list_issues"),
    ("POST", R + "/issues", "create_issue"),
    ("GET", R + "/issues/comments/{comment_id}", "get_comment"),
    ("PATCH", R + "/issues/comments/{comment_id}", "edit_comment"),
    ("DELETE", R + "/issues/comments/{comment_id}", "delete_comment"),
    ("GET", R + "/issues/comments/{comment_id}/reactions", "list_comment_reactions"),
    ("POST", R + "/issues/comments/{comment_id}/reactions", "react_comment"),
    ("DELETE", R + "/issues/comments/{comment_id}/reactions/{reaction_id}", "unreact_comment"),
    ("GET", R + "/issues/{issue_number}", "get_issue"),
    ("PATCH", R + "/issues/{issue_number}", "edit_issue"),
    ("GET", R + "/issues/{issue_number}/comments", "list_comments"),
    ("POST", R + "/issues/{issue_number}/comments", "create_comment"),
    ("GET", R + "/issues/{issue_number}/labels", "list_issue_labels"),
    ("POST", R + "/issues/{issue_number}/labels", "add_labels"),
    ("PUT", R + "/issues/{issue_number}/labels", "set_labels"),
    ("DELETE", R + "/issues/{issue_number}/labels", "clear_labels"),
    ("DELETE", R + "/issues/{issue_number}/labels/{name}", "remove_label"),
    ("GET", R + "/issues/{issue_number}/reactions", "list_issue_reactions"),
    ("POST", R + "/issues/{issue_number}/reactions", "react_issue"),
    ("DELETE", R + "/issues/{issue_number}/reactions/{reaction_id}", "unreact_issue"),
    ("GET", R + "/pulls", "list_pulls"),
    ("POST", R + "/pulls", "create_pull"),
    ("GET", R + "/pulls/{pull_number}", "get_pull"),
    ("PATCH", R + "/pulls/{pull_number}", "edit_pull"),
    ("GET", R + "/pulls/{pull_number}/files", "list_files"),
    ("GET", R + "/pulls/{pull_number}/requested_reviewers", "list_requested_reviewers"),
    ("POST", R + "/pulls/{pull_number}/requested_reviewers", "request_reviewers"),
    ("DELETE", R + "/pulls/{pull_number}/requested_reviewers", "remove_requested_reviewers"),
    ("GET", R + "/pulls/{pull_number}/reviews", "list_reviews"),
    ("GET", R + "/pulls/{pull_number}/comments", "list_review_comments"),
    ("POST", R + "/pulls/comments/{comment_id}/reactions", "react_review_comment"),
    ("POST", R + "/check-runs", "create_check_run"),
    ("GET", R + "/check-runs/{check_run_id}", "get_check_run"),
    ("PATCH", R + "/check-runs/{check_run_id}", "update_check_run"),
    ("GET", R + "/check-runs/{check_run_id}/annotations", "list_check_run_annotations"),
    ("GET", R + "/commits/{ref}/check-runs", "list_check_runs_for_ref"),
    ("POST", "/graphql", "graphql"),
]

PAGINATED = {
    "list_repo_labels",
    "list_issues",
    "list_comment_reactions",
    "list_comments",
    "list_issue_labels",
    "list_issue_reactions",
    "list_pulls",
    "list_files",
    "list_reviews",
    "list_review_comments",
    "list_check_run_annotations",
}


@dataclass(frozen=True)
class Route:
    """One compiled route; operation is `METHOD template`, matching the OpenAPI path keys."""

    method: str
    template: str
    handler: str
    pattern: re.Pattern[str]

    @property
    def operation(self) -> str:
        return f"{self.method} {self.template}"


COMPILED = [Route(m, t, h, compile_template(t)) for m, t, h in ROUTES]


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for method and raw path, with percent-decoded parameters."""
    for route in COMPILED:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found:
            params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
            return route, params
    return None
