"""Plain values the GitHub host returns (never PyGithub objects), so flows and fakes share them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

BODY_LIMIT = 65536  # characters in an issue, pull request or comment body
# Collaborator roles, weakest first; "bot" (not a user: refuse) and "none" are Specship's own values.
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
WRITE_ROLES = frozenset({"write", "maintain", "admin"})
REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})


@dataclass(frozen=True)
class IssueInfo:
    """An issue (or the issue side of a pull request)."""

    number: int
    title: str
    body: str
    state: str
    author: str
    labels: tuple[str, ...]
    is_pull: bool
    html_url: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IssueInfo:
        labels = d.get("labels") or []
        return cls(
            number=int(d["number"]),
            title=_text(d, "title"),
            body=_text(d, "body"),
            state=_text(d, "state"),
            author=_login(d),
            labels=tuple(str(x.get("name")) if isinstance(x, dict) else str(x) for x in labels),
            is_pull="pull_request" in d,
            html_url=_text(d, "html_url"),
        )


@dataclass(frozen=True)
class PrInfo:
    """A pull request; head_repo_full_name is "" when the head repository was deleted."""

    number: int
    head_ref: str
    head_sha: str
    head_repo_full_name: str
    base_ref: str
    draft: bool
    body: str
    state: str
    html_url: str
    author: str
    title: str = ""
    merged: bool = False
    labels: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PrInfo:
        head, base = _obj(d, "head"), _obj(d, "base")
        labels = d.get("labels") or []
        return cls(
            number=int(d["number"]),
            head_ref=_text(head, "ref"),
            head_sha=_text(head, "sha"),
            head_repo_full_name=_text(_obj(head, "repo"), "full_name"),
            base_ref=_text(base, "ref"),
            draft=bool(d.get("draft")),
            body=_text(d, "body"),
            state=_text(d, "state"),
            html_url=_text(d, "html_url"),
            author=_login(d),
            title=_text(d, "title"),
            merged=bool(d.get("merged") or d.get("merged_at")),
            labels=tuple(str(x.get("name")) for x in labels if isinstance(x, dict)),
        )


@dataclass(frozen=True)
class CommentInfo:
    """A conversation comment on an issue or pull request."""

    id: int
    author: str
    author_type: str
    body: str
    html_url: str
    created_at: datetime | None
    updated_at: datetime | None
    author_association: str = ""

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CommentInfo:
        return cls(
            id=int(d["id"]),
            author=_login(d),
            author_type=_text(_obj(d, "user"), "type"),
            body=_text(d, "body"),
            html_url=_text(d, "html_url"),
            created_at=_when(d.get("created_at")),
            updated_at=_when(d.get("updated_at")),
            author_association=_text(d, "author_association"),
        )


@dataclass(frozen=True)
class ReviewInfo:
    """A submitted pull request review."""

    id: int
    author: str
    state: str
    body: str
    commit_id: str
    submitted_at: datetime | None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReviewInfo:
        return cls(
            id=int(d["id"]),
            author=_login(d),
            state=_text(d, "state"),
            body=_text(d, "body"),
            commit_id=_text(d, "commit_id"),
            submitted_at=_when(d.get("submitted_at")),
        )


@dataclass(frozen=True)
class ReviewCommentInfo:
    """A review comment on a diff line."""

    id: int
    author: str
    body: str
    path: str
    line: int | None
    commit_id: str
    in_reply_to_id: int | None
    created_at: datetime | None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReviewCommentInfo:
        line, reply = d.get("line"), d.get("in_reply_to_id")
        return cls(
            id=int(d["id"]),
            author=_login(d),
            body=_text(d, "body"),
            path=_text(d, "path"),
            line=line if isinstance(line, int) else None,
            commit_id=_text(d, "commit_id"),
            in_reply_to_id=reply if isinstance(reply, int) else None,
            created_at=_when(d.get("created_at")),
        )


@dataclass(frozen=True)
class DraftChange:
    """What asking GitHub to change a pull request's draft state did.

    refused holds GitHub's reason when it would not (GITHUB_TOKEN may not run the GraphQL draft
    mutations; a plan without drafts); the PR then keeps its state and the check run decides."""

    changed: bool
    refused: str = ""


AnnotationLevel = Literal["notice", "warning", "failure"]
CheckConclusion = Literal["success", "failure", "neutral", "action_required", "cancelled"]


@dataclass(frozen=True)
class Annotation:
    """One line-level finding on a check run (path relative to the repository root)."""

    path: str
    line: int
    level: AnnotationLevel
    message: str
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "start_line": self.line,
            "end_line": self.line,
            "annotation_level": self.level,
            "message": self.message,
        }
        if self.title:
            data["title"] = self.title
        return data


@dataclass(frozen=True)
class CheckRunSpec:
    """A completed check run to publish on a commit: the verdict branch protection can require."""

    name: str
    head_sha: str
    conclusion: CheckConclusion
    title: str
    summary: str
    text: str = ""
    annotations: tuple[Annotation, ...] = ()
    details_url: str = ""
    external_id: str = ""


@dataclass(frozen=True)
class CheckRunInfo:
    """A check run as GitHub returns it."""

    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    app_slug: str
    html_url: str
    summary: str = ""
    annotations: int = 0

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CheckRunInfo:
        output = _obj(d, "output")
        count = output.get("annotations_count")
        return cls(
            id=int(d["id"]),
            name=_text(d, "name"),
            head_sha=_text(d, "head_sha"),
            status=_text(d, "status"),
            conclusion=d.get("conclusion") if isinstance(d.get("conclusion"), str) else None,
            app_slug=_text(_obj(d, "app"), "slug"),
            html_url=_text(d, "html_url"),
            summary=_text(output, "summary"),
            annotations=count if isinstance(count, int) else 0,
        )


@dataclass(frozen=True)
class Polled:
    """The result of a conditional GET: changed is False on 304 (data None then)."""

    changed: bool
    etag: str | None
    data: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Problem:
    """A preflight finding: what was checked, what is wrong, and the exact change that fixes it.

    blocking False marks something that could not be verified (the run may still work)."""

    check: str
    cause: str
    fix: str
    blocking: bool = True

    def __str__(self) -> str:
        return f"{self.cause} {self.fix}"


def fit_body(body: str) -> str:
    """GitHub's body limit (the report trims properly; this is the last guard before a 422)."""
    note = "\n\n…(truncated to GitHub's size limit)"
    return body if len(body) <= BODY_LIMIT else body[: BODY_LIMIT - len(note)] + note


def _obj(d: dict[str, Any], key: str) -> dict[str, Any]:
    value = d.get(key)
    return value if isinstance(value, dict) else {}


def _text(d: dict[str, Any], key: str) -> str:
    value = d.get(key)
    return "" if value is None else str(value)


def _login(d: dict[str, Any]) -> str:
    return _text(_obj(d, "user"), "login") or "ghost"  # a deleted account


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


class Host(Protocol):
    """GitHub for the flows (bot.github.host.GitHubHost, or a fake): one repository, typed values.

    Failures raise bot.github.retry.GitHubApiError (a FatalError) or its subclasses RateLimited,
    MissingPermission, ActionsCannotCreatePullRequests (carries compare_url) and ContentCapReached."""

    full_name: str
    warnings: list[str]

    def permission(self, login: str) -> str:
        """admin/maintain/write/triage/read/none, or "bot" when the account is not a user."""
        ...

    def user_type(self, login: str) -> str: ...
    def whoami(self) -> str: ...
    def get_issue(self, number: int) -> IssueInfo: ...
    def get_pr(self, number: int) -> PrInfo: ...
    def find_pr(self, head_branch: str) -> PrInfo | None: ...
    def create_pr(self, head: str, base: str, title: str, body: str, draft: bool) -> PrInfo: ...
    def update_pr(self, number: int, *, title: str | None = None, body: str | None = None) -> PrInfo: ...
    def mark_ready(self, number: int) -> DraftChange: ...
    def mark_draft(self, number: int) -> DraftChange: ...
    def publish_check_run(self, spec: CheckRunSpec) -> CheckRunInfo: ...
    def check_runs(self, ref: str, name: str) -> list[CheckRunInfo]: ...
    def request_reviewers(self, number: int, logins: Iterable[str]) -> list[str]: ...
    def add_labels(self, number: int, labels: Iterable[str]) -> None: ...
    def list_pulls(self, head_branch: str, state: str = "all") -> list[PrInfo]: ...
    def remove_label(self, number: int, label: str) -> bool: ...
    def react(self, comment_id: int, content: str, kind: str = "issue_comment") -> bool: ...
    def react_issue(self, number: int, content: str) -> bool: ...
    def upsert_comment(self, issue_number: int, marker: str, body: str) -> CommentInfo: ...
    def list_comments(self, number: int, since: datetime | None = None) -> list[CommentInfo]: ...
    def reviews(self, pr: int) -> list[ReviewInfo]: ...
    def review_comments(self, pr: int) -> list[ReviewCommentInfo]: ...
    def compare_url(self, base: str, head: str) -> str: ...
    def poll(self, path: str, etag: str | None = None) -> Polled: ...
    def preflight(self, branch_prefix: str) -> list[Problem]: ...
