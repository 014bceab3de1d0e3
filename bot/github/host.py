"""The only PyGithub import: pull requests, comments, reactions, labels and permissions, with retries."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.exceptions import FatalError
from bot.github.checks import CheckRuns
from bot.github.failures import failure_of
from bot.github.people import People
from bot.github.preflight import run_preflight
from bot.github.retry import (
    DEFAULT_CONTENT_CAP,
    DEFAULT_MAX_WAIT,
    Call,
    Calls,
    GitHubApiError,
    MissingPermission,
    Pacer,
    Policy,
)
from bot.github.threads import Threads
from bot.github.types import (
    DraftChange,
    IssueInfo,
    Polled,
    PrInfo,
    Problem,
    fit_body,
)
from bot.redact import Redactor

if TYPE_CHECKING:
    from github.Requester import Requester

    from bot.github.types import Host

T = TypeVar("T")
log = logging.getLogger(__name__)

ACTIONS_BOT = "github-actions[bot]"
_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
DRAFTS_UNSUPPORTED = "draft pull requests are not supported"
# The first non-empty line of anything Specship posts may not read as a `/<prefix> <verb>` command:
# under an App token its own comments start workflows (command prefixes always start with "/").
POSTS_COMMAND = (
    "Specship was about to post text that reads as a command (its first line starts with '/'); "
    "nothing was posted."
)


class GitHubHost(People, Threads, CheckRuns):
    """One repository through PyGithub, with Specship's retry, rate-limit and pacing policy.

    clock is wall-clock epoch seconds; deadline (epoch) bounds every wait; identity is the login
    the token acts as when it is known (the `bot-login` setting); otherwise GitHub is asked:
    GET /user for a user token, the GraphQL `viewer` for an installation token (GITHUB_TOKEN
    answers "github-actions[bot]", an App token "<app-slug>[bot]"). REST has no such question for
    an installation token: GET /user is 403 and GET /app needs the App's JWT."""

    def __init__(
        self,
        token: str,
        repo_full_name: str,
        base_url: str = "https://api.github.com",
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float | None = None,
        max_rate_limit_wait: float = DEFAULT_MAX_WAIT,
        content_cap: int = DEFAULT_CONTENT_CAP,
        identity: str | None = None,
        redactor: Redactor | None = None,
        timeout: int = 30,
        web_url: str | None = None,
    ) -> None:
        import github
        from github import Auth

        if not _REPO_NAME.match(repo_full_name):
            raise FatalError(f"Not a repository name: {repo_full_name!r}.", "Use the form owner/name.")
        self.full_name = repo_full_name
        # GITHUB_SERVER_URL in Actions; derived from the API URL otherwise (github.com or GHES)
        self.web_url = (web_url or "").rstrip("/") or None
        self.owner = repo_full_name.split("/", 1)[0]
        self.base_url = base_url.rstrip("/")
        self.redact = redactor if redactor is not None else Redactor()
        self.redact.add(token)
        self.policy = Policy(
            clock=clock, sleep=sleep, deadline=deadline, max_wait=max_rate_limit_wait, redact=self.redact
        )
        self.pacer = Pacer(clock=clock, sleep=sleep, cap=content_cap)
        self.identity = identity
        self.warnings: list[str] = []
        # No transport retries and no PyGithub throttle (both use time.sleep and ignore the run's
        # deadline; GithubRetry also repeats POSTs after a 5xx): the policy above does both.
        self._gh = github.Github(
            auth=Auth.Token(token),
            base_url=self.base_url,
            timeout=timeout,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
            user_agent="specship",
        )
        self._repo = self._gh.get_repo(repo_full_name)
        self._path = f"/repos/{repo_full_name}"
        self._tracking: dict[tuple[int, str], int] = {}
        self._token_user: str | None = None
        self._asked_user = False

    # ---- the call wrapper ---------------------------------------------------------------------

    @property
    def _req(self) -> Requester:
        return self._gh.requester

    def call(self, call: Call, fn: Callable[[], T]) -> T:
        """Run fn (one GitHub request) under the retry and pacing policy."""
        attempt = 1
        while True:
            self.pacer.before(call)
            try:
                return fn()
            except Exception as exc:
                failure = failure_of(exc)
                if failure is None:
                    raise
            finally:
                self.pacer.after(call)
            self.policy.pause(self.policy.wait_before_retry(failure, call, attempt), failure, call)
            attempt += 1

    def request(self, call: Call, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        """One JSON request; path is repository-relative ("" is the repository) unless it starts with /."""
        url = path if path.startswith("/") else f"{self._path}/{path}".rstrip("/")
        return self.call(call, lambda: self._req.requestJsonAndCheck(method, url, input=body, **kw)[1])

    def _pages(self, call: Call, pages: Iterable[Any]) -> list[dict[str, Any]]:
        """Every item of a PyGithub PaginatedList as raw JSON (no lazy completion requests)."""
        return self.call(call, lambda: [item._rawData for item in pages])

    def _warn(self, text: str) -> None:
        text = self.redact(text)
        self.warnings.append(text)
        log.warning("%s", text)

    def rate_budget(self) -> tuple[int, int, int]:
        """(remaining, limit, reset epoch) of the primary rate limit, from the last response."""
        remaining, limit = self._req.rate_limiting
        return remaining, limit, self._req.rate_limiting_resettime

    # ---- issues and pull requests ------------------------------------------------------------

    def get_issue(self, number: int) -> IssueInfo:
        return IssueInfo.from_json(self.request(Calls.READ_ISSUE, "GET", f"issues/{number}"))

    def get_pr(self, number: int) -> PrInfo:
        return PrInfo.from_json(self.request(Calls.READ_PR, "GET", f"pulls/{number}"))

    def list_pulls(self, head_branch: str, state: str = "all") -> list[PrInfo]:
        """Pull requests from this repository's head_branch (newest first), of any state by default."""
        pulls = self._repo.get_pulls(state=state, head=f"{self.owner}:{head_branch}")
        found = [PrInfo.from_json(d) for d in self._pages(Calls.LIST_PRS, pulls)]
        same = self.full_name.lower()
        mine = [p for p in found if p.head_ref == head_branch and p.head_repo_full_name.lower() == same]
        return sorted(mine, key=lambda p: -p.number)

    def find_pr(self, head_branch: str) -> PrInfo | None:
        """The open pull request from this repository's head_branch, filtered as `owner:branch`
        (GitHub ignores a bare branch filter and would list every pull request)."""
        pulls = self._repo.get_pulls(state="open", head=f"{self.owner}:{head_branch}")
        found = [PrInfo.from_json(d) for d in self._pages(Calls.LIST_PRS, pulls)]
        same = self.full_name.lower()
        mine = [p for p in found if p.head_ref == head_branch and p.head_repo_full_name.lower() == same]
        return min(mine, key=lambda p: p.number) if mine else None

    def create_pr(self, head: str, base: str, title: str, body: str, draft: bool) -> PrInfo:
        """Open a pull request; one that already exists for head (GitHub's 422, also when a retry
        follows a 5xx that created it) is returned - updated to title and body - instead.

        A draft on a plan without drafts (422 "Draft pull requests are not supported in this
        repository") is opened ready for review instead, with a warning: the returned PrInfo then
        has draft False, and the caller's check run and label say it may not be merged."""
        body = fit_body(body)
        self._guard(title, body)
        create = dataclasses.replace(Calls.CREATE_PR, compare_url=self.compare_url(base, head))
        qualified = f"{self.owner}:{head}"

        def post(as_draft: bool) -> dict[str, Any]:
            pull = self._repo.create_pull(base=base, head=qualified, title=title, body=body, draft=as_draft)
            data: dict[str, Any] = pull._rawData
            return data

        try:
            try:
                return PrInfo.from_json(self.call(create, lambda: post(draft)))
            except GitHubApiError as err:
                if not (draft and err.status == 422 and DRAFTS_UNSUPPORTED in err.message.lower()):
                    raise
                self._warn(f"{err.message.rstrip('.')}: Specship opened the pull request ready for review.")
            return PrInfo.from_json(self.call(create, lambda: post(False)))
        except GitHubApiError as err:
            exists = err.status == 422 and "a pull request already exists" in err.message.lower()
            found = self.find_pr(head) if exists or err.status == 0 or err.status >= 500 else None
            if found is None:
                raise
        if (found.title, found.body) != (title, body):
            return self.update_pr(found.number, title=title, body=body)
        return found

    def update_pr(self, number: int, *, title: str | None = None, body: str | None = None) -> PrInfo:
        fields: dict[str, str] = {}
        if title is not None:
            fields["title"] = title
        if body is not None:
            fields["body"] = fit_body(body)
        self._guard(*fields.values())
        return PrInfo.from_json(self.request(Calls.UPDATE_PR, "PATCH", f"pulls/{number}", fields))

    def mark_ready(self, number: int) -> DraftChange:
        """Take the pull request out of draft (GraphQL); unchanged when it already was ready."""
        return self._set_draft(number, False)

    def mark_draft(self, number: int) -> DraftChange:
        """Turn the pull request into a draft (GraphQL); unchanged when it already was one."""
        return self._set_draft(number, True)

    def _set_draft(self, number: int, draft: bool) -> DraftChange:
        """Only GraphQL changes the draft state, and GITHUB_TOKEN may not (403 "Resource not
        accessible by integration"), nor may anyone on a plan without drafts: such a refusal is
        returned, never raised, so nothing depends on it (the check run is the merge signal)."""
        from github.PullRequest import PullRequest

        data = self.request(Calls.READ_PR, "GET", f"pulls/{number}")
        if bool(data.get("draft")) == draft:
            return DraftChange(False)
        pull = PullRequest(self._req, {}, data, completed=True)  # PyGithub's own GraphQL mutations
        try:
            if draft:
                self.call(Calls.MARK_DRAFT, pull.convert_to_draft)
            else:
                self.call(Calls.MARK_READY, pull.mark_ready_for_review)
        except MissingPermission as err:
            return DraftChange(False, refused=err.message)
        except GitHubApiError as err:
            if DRAFTS_UNSUPPORTED not in err.message.lower():
                raise
            return DraftChange(False, refused=err.message)
        return DraftChange(True)

    def request_reviewers(self, number: int, logins: Iterable[str]) -> list[str]:
        """Ask humans to review; the author and bots are skipped; a 422 (not a collaborator, ...)
        is a warning. Returns the logins requested."""
        author = self.get_pr(number).author.lower()
        candidates = [
            x for x in dict.fromkeys(logins) if x.lower() != author and not x.lower().endswith("[bot]")
        ]
        wanted = [login for login in candidates if self.user_type(login) == "User"]
        if not wanted:
            return []
        try:
            self.request(
                Calls.REQUEST_REVIEW, "POST", f"pulls/{number}/requested_reviewers", {"reviewers": wanted}
            )
        except GitHubApiError as err:
            if err.status != 422:
                raise
            self._warn(f"Could not request a review from {', '.join(wanted)}: {err.message}")
            return []
        return wanted

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        names = list(dict.fromkeys(labels))
        if names:
            self.request(Calls.ADD_LABELS, "POST", f"issues/{number}/labels", {"labels": names})

    def remove_label(self, number: int, label: str) -> bool:
        """Remove a label; False when it was not there (404)."""
        try:
            self.request(
                Calls.REMOVE_LABEL, "DELETE", f"issues/{number}/labels/{urllib.parse.quote(label, safe='')}"
            )
        except GitHubApiError as err:
            if err.status != 404:
                raise
            return False
        return True

    def _no_secrets(self, *texts: str) -> None:
        """Fail closed before a secret (or a token-shaped string) is posted to GitHub."""
        if any(self.redact(t) != t for t in texts):
            raise FatalError(
                "Secret detected in text Specship was about to post to GitHub; nothing was posted.",
                "Report this run: a token-shaped string reached a comment or pull request body.",
            )

    def _guard(self, *texts: str) -> None:
        """_no_secrets, for comments and pull requests also never text that would read as a
        command when GitHub delivers it as an event (a check run's text starts no workflow)."""
        self._no_secrets(*texts)
        if any(first_line(t).startswith("/") for t in texts):
            raise FatalError(POSTS_COMMAND, "Report this run: a Specship message lost its first line.")

    # ---- links, polling, preflight ------------------------------------------------------------

    def compare_url(self, base: str, head: str) -> str:
        """The web page that opens a pull request from head into base by hand."""
        web = self.web_url or self.base_url
        if web == "https://api.github.com":
            web = "https://github.com"
        web = web.removesuffix("/api/v3")  # GitHub Enterprise Server
        refs = "...".join(urllib.parse.quote(ref, safe="/") for ref in (base, head))
        return f"{web}/{self.full_name}/compare/{refs}?expand=1"

    def poll(self, path: str, etag: str | None = None) -> Polled:
        """Conditional GET of a repository-relative path (e.g. "pulls/7"): sends If-None-Match;
        a 304 (which costs no rate limit) is "unchanged"."""
        headers = {"If-None-Match": etag} if etag else {}
        url = f"{self._path}/{path}".rstrip("/")
        got, data = self.call(Calls.POLL, lambda: self._req.requestJsonAndCheck("GET", url, headers=headers))
        if data is None and etag:
            return Polled(changed=False, etag=etag)
        return Polled(changed=True, etag=got.get("etag"), data=data)

    def preflight(self, branch_prefix: str) -> list[Problem]:
        """Check, before any model call, that this token can do what a run needs (see github_preflight)."""
        return run_preflight(self, branch_prefix)


def first_line(text: str) -> str:
    """The first non-empty line, left-stripped: what the command grammar reads."""
    return next((line.lstrip() for line in text.splitlines() if line.strip()), "")


if TYPE_CHECKING:

    def _conforms(host: GitHubHost) -> Host:  # mypy checks GitHubHost against the Host protocol
        return host
