"""In-memory state of the GitHub emulator: users, tokens, repositories, issues, pull requests."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tests.fakes.github_git import BareRepo

if TYPE_CHECKING:
    from tests.fakes.github_checks import App, CheckRun

ROLES = ("none", "read", "triage", "write", "maintain", "admin")
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
ACTIONS_BOT_ID = 41898282
ACTIONS_APP_ID = 15368  # the GitHub Actions app (its bot is github-actions[bot])


def role_at_least(role: str | None, needed: str) -> bool:
    """Whether role grants at least needed (ROLES order)."""
    return ROLES.index(role or "none") >= ROLES.index(needed)


@dataclass
class User:
    """A GitHub account. type is User, Bot or Organization."""

    id: int
    login: str
    type: str = "User"
    site_admin: bool = False

    @property
    def node_id(self) -> str:
        prefix = {"Bot": "BOT", "Organization": "O"}.get(self.type, "U")
        return f"{prefix}_kgDO{self.id:08d}"


@dataclass
class Token:
    """An access token: a personal token of a user, or an installation token (GITHUB_TOKEN).

    permissions (installation tokens only) maps a GitHub App permission such as `issues`,
    `pull_requests`, `contents` to `read` or `write`; a missing entry means no access and gives
    403 "Resource not accessible by integration" like GitHub.
    """

    token: str
    login: str
    installation: bool = False
    permissions: dict[str, str] | None = None
    limit: int = 5000
    used: int = 0
    reset_at: int = 0


@dataclass
class Label:
    """A repository label."""

    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Reaction:
    """A reaction on an issue, pull request or comment."""

    id: int
    login: str
    content: str
    created_at: float


@dataclass
class IssueComment:
    """A conversation comment on an issue or pull request."""

    id: int
    issue_number: int
    login: str
    body: str
    created_at: float
    updated_at: float
    author_association: str | None = None
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Issue:
    """An issue; pull requests have one too (shared number sequence)."""

    number: int
    id: int
    title: str
    body: str | None
    login: str
    created_at: float
    updated_at: float
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    locked: bool = False
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    author_association: str | None = None
    reactions: list[Reaction] = field(default_factory=list)
    is_pull: bool = False


@dataclass
class Review:
    """A pull request review."""

    id: int
    login: str
    state: str
    body: str
    commit_id: str
    submitted_at: float


@dataclass
class ReviewComment:
    """A pull request review comment (on a diff line)."""

    id: int
    review_id: int | None
    login: str
    body: str
    path: str
    line: int
    commit_id: str
    created_at: float
    updated_at: float
    side: str = "RIGHT"
    in_reply_to_id: int | None = None
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class PullRequest:
    """A pull request; title, body, state and labels live on its Issue."""

    issue: Issue
    id: int
    head_repo: str
    head_ref: str
    base_ref: str
    draft: bool = False
    maintainer_can_modify: bool = False
    merged: bool = False
    merged_at: float | None = None
    merged_by: str | None = None
    frozen_head_sha: str | None = None
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.issue.number


@dataclass
class Repo:
    """A repository and everything in it."""

    id: int
    owner: str
    name: str
    private: bool
    default_branch: str
    git: BareRepo
    created_at: float
    description: str | None = None
    fork_of: str | None = None
    collaborators: dict[str, str] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: dict[int, IssueComment] = field(default_factory=dict)
    actions_can_approve_prs: bool = True
    default_workflow_permissions: str = "write"
    # False for a private repository on a plan without draft pull requests (GitHub Free, Pro).
    drafts_supported: bool = True
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def node_id(self) -> str:
        return f"R_kgDO{self.id:08d}"


class World:
    """Everything the emulator knows; guard every access with `lock`."""

    def __init__(self, root: Path, clock: Callable[[], float] = time.time) -> None:
        self.root = root
        self.clock = clock
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}
        self.apps: dict[str, App] = {}  # by bot login, lower case
        self._ids = itertools.count(1_000_001)

    def next_id(self) -> int:
        """A fresh id, unique across every kind of object."""
        return next(self._ids)

    def iso(self, when: float | None) -> str | None:
        """GitHub's timestamp format."""
        if when is None:
            return None
        return datetime.fromtimestamp(int(when), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def add_user(self, login: str, type: str = "User", site_admin: bool = False) -> User:
        """Register an account (type User, Bot or Organization)."""
        with self.lock:
            uid = ACTIONS_BOT_ID if login == "github-actions[bot]" else self.next_id()
            user = User(id=uid, login=login, type=type, site_admin=site_admin)
            self.users[login.lower()] = user
            return user

    def add_app(self, slug: str, *, name: str | None = None, owner: str = "octo-org") -> App:
        """Register a GitHub App and its bot account `<slug>[bot]` (type Bot)."""
        from tests.fakes.github_checks import App

        with self.lock:
            app_id = ACTIONS_APP_ID if slug == "github-actions" else self.next_id()
            app = App(app_id, slug, name or slug, owner)
            if self.user(owner) is None:
                self.add_user(owner, type="Organization")
            if self.user(app.login) is None:
                self.add_user(app.login, type="Bot")
            self.apps[app.login.lower()] = app
            return app

    def app_of(self, login: str) -> App | None:
        """The App whose bot account is login, or None."""
        return self.apps.get(login.lower())

    def user(self, login: str) -> User | None:
        """The account with this login (case-insensitive), or None."""
        return self.users.get(login.lower())

    def ensure_user(self, login: str) -> User:
        """The account with this login, created as a plain user if unknown."""
        return self.user(login) or self.add_user(login)

    def add_token(
        self,
        token: str,
        login: str,
        *,
        installation: bool = False,
        permissions: dict[str, str] | None = None,
        limit: int | None = None,
    ) -> Token:
        """Register a token acting as login."""
        with self.lock:
            self.ensure_user(login)
            tok = Token(
                token=token,
                login=login,
                installation=installation,
                permissions=dict(permissions) if permissions is not None else None,
                limit=limit if limit is not None else (1000 if installation else 5000),
                reset_at=int(self.clock()) + 3600,
            )
            self.tokens[token] = tok
            return tok

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        private: bool = False,
        description: str | None = None,
        initial_files: dict[str, str | bytes | None] | None = None,
        fork_of: str | None = None,
    ) -> Repo:
        """Create a repository with a bare git repo; initial_files become its first commit."""
        owner, name = full_name.split("/", 1)
        with self.lock:
            owner_user = self.user(owner) or self.add_user(owner, type="Organization")
            git = BareRepo(self.root / owner / f"{name}.git", default_branch)
            git.init()
            readme: dict[str, str | bytes | None] = {"README.md": f"# {name}\n"}
            files = readme if initial_files is None else initial_files
            if files:
                git.commit_files(default_branch, files, "Initial commit")
            repo = Repo(
                id=self.next_id(),
                owner=owner_user.login,
                name=name,
                private=private,
                default_branch=default_branch,
                git=git,
                created_at=self.clock(),
                description=description,
                fork_of=fork_of,
            )
            if owner_user.type == "User":
                repo.collaborators[owner_user.login.lower()] = "admin"
            self.repos[full_name.lower()] = repo
            return repo

    def repo(self, full_name: str) -> Repo | None:
        """The repository (case-insensitive), or None."""
        return self.repos.get(full_name.lower())

    def role(self, repo: Repo, login: str) -> str | None:
        """The collaborator role of login on repo, or None when not a collaborator."""
        return repo.collaborators.get(login.lower())

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        """Give login a collaborator role (admin/maintain/write/triage/read/none)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        with self.lock:
            repo = self._repo(full_name)
            self.ensure_user(login)
            if role == "none":
                repo.collaborators.pop(login.lower(), None)
            else:
                repo.collaborators[login.lower()] = role

    def _repo(self, full_name: str) -> Repo:
        repo = self.repo(full_name)
        if repo is None:
            raise KeyError(f"no repository {full_name}")
        return repo

    def label(self, repo: Repo, name: str, create: bool = True) -> Label | None:
        """The repo label called name (case-insensitive), auto-created when create."""
        found = repo.labels.get(name.lower())
        if found is None and create:
            found = Label(id=self.next_id(), name=name)
            repo.labels[name.lower()] = found
        return found

    def add_issue(
        self,
        full_name: str,
        title: str,
        *,
        body: str | None = None,
        author: str = "octocat",
        labels: list[str] | None = None,
        author_association: str | None = None,
    ) -> Issue:
        """Create an issue directly (no request recorded)."""
        with self.lock:
            repo = self._repo(full_name)
            self.ensure_user(author)
            now = self.clock()
            issue = Issue(
                number=repo.next_number,
                id=self.next_id(),
                title=title,
                body=body,
                login=author,
                created_at=now,
                updated_at=now,
                author_association=author_association,
            )
            repo.next_number += 1
            for name in labels or []:
                issue.labels.append(self._label_name(repo, name))
            repo.issues[issue.number] = issue
            return issue

    def _label_name(self, repo: Repo, name: str) -> str:
        label = self.label(repo, name)
        assert label is not None
        return label.name

    def add_comment(
        self,
        full_name: str,
        number: int,
        body: str,
        *,
        author: str,
        author_association: str | None = None,
    ) -> IssueComment:
        """Create an issue or pull request comment directly (no request recorded)."""
        with self.lock:
            repo = self._repo(full_name)
            self.ensure_user(author)
            issue = repo.issues[number]
            now = self.clock()
            comment = IssueComment(
                id=self.next_id(),
                issue_number=issue.number,
                login=author,
                body=body,
                created_at=now,
                updated_at=now,
                author_association=author_association,
            )
            repo.comments[comment.id] = comment
            return comment

    def open_pull(
        self,
        repo: Repo,
        *,
        author: str,
        title: str,
        body: str | None,
        head_repo: Repo,
        head_ref: str,
        base_ref: str,
        draft: bool = False,
        maintainer_can_modify: bool = False,
    ) -> PullRequest:
        """Create a pull request (the caller has validated it)."""
        now = self.clock()
        issue = Issue(
            number=repo.next_number,
            id=self.next_id(),
            title=title,
            body=body,
            login=author,
            created_at=now,
            updated_at=now,
            is_pull=True,
        )
        repo.next_number += 1
        repo.issues[issue.number] = issue
        pull = PullRequest(
            issue=issue,
            id=self.next_id(),
            head_repo=head_repo.full_name,
            head_ref=head_ref,
            base_ref=base_ref,
            draft=draft,
            maintainer_can_modify=maintainer_can_modify,
        )
        repo.pulls[issue.number] = pull
        return pull

    def head_sha(self, pull: PullRequest) -> str:
        """The pull request's head commit (live while open)."""
        if pull.frozen_head_sha is not None and pull.issue.state == "closed":
            return pull.frozen_head_sha
        head = self._repo(pull.head_repo).git.branch_sha(pull.head_ref)
        if head is not None:
            pull.frozen_head_sha = head
        return pull.frozen_head_sha or "0" * 40

    def base_sha(self, repo: Repo, pull: PullRequest) -> str:
        """The tip of the pull request's base branch."""
        return repo.git.branch_sha(pull.base_ref) or "0" * 40

    def add_review(
        self, full_name: str, number: int, *, author: str, state: str = "COMMENTED", body: str = ""
    ) -> Review:
        """Add a submitted review to a pull request."""
        with self.lock:
            repo = self._repo(full_name)
            self.ensure_user(author)
            pull = repo.pulls[number]
            review = Review(
                id=self.next_id(),
                login=author,
                state=state,
                body=body,
                commit_id=self.head_sha(pull),
                submitted_at=self.clock(),
            )
            pull.reviews.append(review)
            return review

    def add_review_comment(
        self,
        full_name: str,
        number: int,
        *,
        author: str,
        body: str,
        path: str,
        line: int = 1,
        review_id: int | None = None,
    ) -> ReviewComment:
        """Add a review comment on a diff line of a pull request."""
        with self.lock:
            repo = self._repo(full_name)
            self.ensure_user(author)
            pull = repo.pulls[number]
            now = self.clock()
            comment = ReviewComment(
                id=self.next_id(),
                review_id=review_id,
                login=author,
                body=body,
                path=path,
                line=line,
                commit_id=self.head_sha(pull),
                created_at=now,
                updated_at=now,
            )
            pull.review_comments.append(comment)
            return comment

    def merge_pull(self, full_name: str, number: int, *, by: str) -> None:
        """Mark a pull request merged and closed (no git merge is performed)."""
        with self.lock:
            repo = self._repo(full_name)
            pull = repo.pulls[number]
            self.head_sha(pull)
            now = self.clock()
            pull.merged, pull.merged_at, pull.merged_by = True, now, by
            pull.issue.state, pull.issue.closed_at, pull.issue.updated_at = "closed", now, now
