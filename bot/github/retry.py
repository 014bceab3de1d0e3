"""Specship's GitHub retry, rate-limit and write-pacing policy, judged on neutral failures (no PyGithub)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.exceptions import FatalError

SECONDARY_WAIT = 60.0  # GitHub: without retry-after, wait at least a minute after a secondary limit
RATE_LIMIT_TRIES = 4  # attempts in total for one call that keeps hitting rate limits
SERVER_TRIES = 5  # attempts for 5xx / no answer on a retry-safe call (backoff 1, 2, 4, 8 s)
NODE_TRIES = 4  # attempts for "Could not resolve to a node" (replication lag after a create)
MAX_BACKOFF = 30.0
DEFAULT_MAX_WAIT = 600.0  # the longest single rate-limit wait accepted (max_rate_limit_wait)
WRITE_INTERVAL = 1.0  # GitHub: wait at least one second between mutating requests
DEFAULT_CONTENT_CAP = 40  # content-creating requests per run (GitHub's secondary limit is 80/min)

RETRY_LATER = "Re-run later with '/specship retry' (the work branch, if any, is already pushed)."
ACTIONS_SETTING = (
    'Settings → Actions → General → Workflow permissions → enable "Allow GitHub Actions to create '
    "and approve pull requests\" (if it is greyed out, enable it in the organization's, or the "
    "enterprise's, Actions settings first), or give Specship a GitHub App token."
)


def permission_fix(permission: str) -> str:
    """How to grant a token permission such as `pull-requests: write`."""
    scope, _, level = permission.partition(":")
    title = scope.strip().replace("-", " ").capitalize()
    return (
        f"Add `permissions: {{{permission.strip()}}}` to the workflow job (for a GitHub App or a "
        f'fine-grained token: grant "{title}: {"Read and write" if "write" in level else "Read"}").'
    )


@dataclass(frozen=True)
class Failure:
    """One failed GitHub call: HTTP status (0 = no answer), GitHub's message, lower-case headers."""

    status: int
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)
    exhausted: bool = False  # the transport already retried (requests' RetryError)

    def header_float(self, name: str) -> float | None:
        try:
            return float(self.headers[name])
        except (KeyError, ValueError):
            return None

    @property
    def primary(self) -> bool:
        return self.message.lower().startswith("api rate limit exceeded") or (
            self.header_float("x-ratelimit-remaining") == 0
            and self.header_float("x-ratelimit-reset") is not None
        )

    @property
    def rate_limited(self) -> bool:
        text = self.message.lower()
        secondary = "secondary rate limit" in text or text.endswith(
            ("please retry your request again later.", "please wait a few minutes before you try again.")
        )
        if self.status == 429:
            return True
        return self.status == 403 and (secondary or self.primary or "retry-after" in self.headers)

    @property
    def server_side(self) -> bool:
        return self.status == 0 or self.status >= 500

    @property
    def unresolved_node(self) -> bool:
        return "could not resolve to a node" in self.message.lower()


class GitHubApiError(FatalError):
    """A GitHub call that failed for good; status and message are GitHub's (redacted)."""

    def __init__(self, cause: str, fix: str, *, status: int = 0, message: str = "") -> None:
        super().__init__(cause, fix)
        self.status = status
        self.message = message


class RateLimited(GitHubApiError):
    """A primary or secondary rate limit that Specship will not wait out; until is the reset (epoch)."""

    def __init__(self, cause: str, fix: str, *, status: int, message: str, until: float | None) -> None:
        super().__init__(cause, fix, status=status, message=message)
        self.until = until


class MissingPermission(GitHubApiError):
    """403 "Resource not accessible by integration": the token lacks `permission` (never retried)."""

    def __init__(self, cause: str, fix: str, *, status: int, message: str, permission: str) -> None:
        super().__init__(cause, fix, status=status, message=message)
        self.permission = permission


class ActionsCannotCreatePullRequests(GitHubApiError):
    """The repository or organization forbids GITHUB_TOKEN to open pull requests (never retried).

    compare_url lets the caller comment a link that opens the pull request by hand."""

    def __init__(self, cause: str, fix: str, *, status: int, message: str, compare_url: str) -> None:
        super().__init__(cause, fix, status=status, message=message)
        self.compare_url = compare_url


class ContentCapReached(GitHubApiError):
    """Specship's per-run cap on content-creating requests was reached."""


@dataclass(frozen=True)
class Call:
    """What one GitHub call is, for the policy: its name in messages, the token permission it
    needs, whether repeating it is harmless, and whether it writes (paced) or creates content (capped)."""

    operation: str
    permission: str = "metadata: read"
    retry_safe: bool = True
    mutating: bool = False
    creates: bool = False
    compare_url: str = ""


_PR, _ISSUES, _CHECKS = "pull-requests: write", "issues: write", "checks: write"


class Calls:
    """Every call the GitHub host makes, for the policy: name, permission, retry-safety, pacing."""

    READ_PERMISSION = Call("read a collaborator permission")
    READ_USER = Call("read a user")
    READ_TOKEN_USER = Call("read the token's user")
    READ_ISSUE = Call("read the issue", "issues: read")
    READ_PR = Call("read the pull request", "pull-requests: read")
    LIST_PRS = Call("list pull requests", "pull-requests: read")
    LIST_COMMENTS = Call("list comments", "issues: read")
    LIST_REVIEWS = Call("list reviews", "pull-requests: read")
    LIST_REVIEW_COMMENTS = Call("list review comments", "pull-requests: read")
    POLL = Call("poll")
    CREATE_PR = Call("create the pull request", _PR, mutating=True, creates=True)  # 422 "exists" -> found
    UPDATE_PR = Call("update the pull request", _PR, mutating=True)
    MARK_READY = Call("mark the pull request ready for review", _PR, mutating=True)
    MARK_DRAFT = Call("convert the pull request to a draft", _PR, mutating=True)
    REQUEST_REVIEW = Call("request reviewers", _PR, mutating=True, creates=True)
    ADD_LABELS = Call("add labels", _ISSUES, mutating=True, creates=True)
    REMOVE_LABEL = Call("remove a label", _ISSUES, mutating=True)
    REACT = Call("add a reaction", _ISSUES, mutating=True, creates=True)
    EDIT_COMMENT = Call("edit the status comment", _ISSUES, mutating=True)
    # A comment POST is not repeated after a 5xx: upsert_comment looks for it first.
    CREATE_COMMENT = Call("comment on the issue", _ISSUES, retry_safe=False, mutating=True, creates=True)
    READ_VIEWER = Call("ask GitHub which account the token acts as")
    # A check run POST is not repeated after a 5xx either: a second run would be a second verdict.
    CREATE_CHECK_RUN = Call("create the check run", _CHECKS, retry_safe=False, mutating=True, creates=True)
    UPDATE_CHECK_RUN = Call("add annotations to the check run", _CHECKS, mutating=True)
    LIST_CHECK_RUNS = Call("list check runs", "checks: read")


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


class Policy:
    """Decides, per failure, how long to wait before the next attempt, or raises the final error.

    clock is wall-clock epoch seconds (compared with x-ratelimit-reset); deadline is an absolute
    epoch time no wait may cross; max_wait caps any single rate-limit wait (max_rate_limit_wait)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float | None = None,
        max_wait: float = DEFAULT_MAX_WAIT,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.deadline = deadline
        self.max_wait = max_wait
        self.redact = redact

    def wait_before_retry(self, failure: Failure, call: Call, attempt: int) -> float:
        """Seconds to wait before attempt + 1, or raise the error that ends the call."""
        message = failure.message.lower()
        if failure.rate_limited:
            return self._rate_limit_wait(failure, call, attempt)
        if failure.status == 403 and "not permitted to create or approve pull requests" in message:
            raise self._actions_blocked(failure, call)
        if failure.status in (400, 403) and message.startswith("resource not accessible by"):
            raise self._missing(failure, call)
        if failure.unresolved_node and attempt < NODE_TRIES:
            return _backoff(attempt)
        if failure.server_side and call.retry_safe and not failure.exhausted and attempt < SERVER_TRIES:
            return failure.header_float("retry-after") or _backoff(attempt)
        raise self.final(failure, call, attempt)

    def pause(self, seconds: float, failure: Failure, call: Call) -> None:
        """Sleep before a retry unless that would cross the deadline."""
        if self.deadline is not None and self.clock() + seconds > self.deadline:
            cause = f"GitHub asked Specship to wait {seconds:.0f} s before retrying {call.operation}"
            raise GitHubApiError(
                self.redact(f"{cause} ({failure.status} {failure.message}), longer than the run has left."),
                RETRY_LATER,
                status=failure.status,
                message=self.redact(failure.message),
            )
        self.sleep(seconds)

    def _rate_limit_wait(self, failure: Failure, call: Call, attempt: int) -> float:
        now = self.clock()
        retry_after = failure.header_float("retry-after")
        reset = failure.header_float("x-ratelimit-reset")
        if retry_after is not None:
            wait, until = retry_after, now + retry_after
        elif failure.primary and reset is not None:
            wait, until = max(reset - now, 0.0) + 1.0, reset
        else:
            wait, until = SECONDARY_WAIT * 2 ** (attempt - 1), None
        budget = self.max_wait if self.deadline is None else min(self.max_wait, self.deadline - now)
        if attempt >= RATE_LIMIT_TRIES or wait > budget:
            raise self._rate_limited(failure, call, until, attempt)
        return wait

    def _rate_limited(self, failure: Failure, call: Call, until: float | None, attempt: int) -> RateLimited:
        if until is not None and failure.primary:
            cause = f"GitHub API rate limited until {_utc(until)} ({call.operation}, HTTP {failure.status})."
        elif until is not None:
            cause = f"GitHub secondary rate limit, retry later: GitHub asked to wait until {_utc(until)} "
            cause += f"({call.operation})."
        else:
            cause = (
                f"GitHub secondary rate limit, retry later ({call.operation}: gave up after {attempt} tries)."
            )
        return RateLimited(
            self.redact(cause),
            RETRY_LATER,
            status=failure.status,
            message=self.redact(failure.message),
            until=until,
        )

    def _missing(self, failure: Failure, call: Call) -> MissingPermission:
        cause = (
            f"GitHub refused to {call.operation}: {failure.message} - the token lacks `{call.permission}`."
        )
        return MissingPermission(
            self.redact(cause),
            permission_fix(call.permission),
            status=403,
            message=self.redact(failure.message),
            permission=call.permission,
        )

    def _actions_blocked(self, failure: Failure, call: Call) -> ActionsCannotCreatePullRequests:
        cause = f"GitHub refused to {call.operation}: {failure.message}"
        if call.compare_url:
            cause += f" The branch is pushed; open the pull request by hand: {call.compare_url}"
        return ActionsCannotCreatePullRequests(
            self.redact(cause),
            "To let Specship open it: " + ACTIONS_SETTING,
            status=failure.status,
            message=self.redact(failure.message),
            compare_url=call.compare_url,
        )

    def final(self, failure: Failure, call: Call, attempt: int) -> GitHubApiError:
        """The error for a failure that is not (or no longer) retried."""
        status = f"HTTP {failure.status}" if failure.status else "no answer"
        tries = f" after {attempt} tries" if attempt > 1 else ""
        cause = f"GitHub could not {call.operation}{tries} ({status}: {failure.message})."
        if failure.status == 401:
            fix = "Check the token passed to Specship (`github-token`); it is invalid or expired."
        elif failure.server_side:
            fix = "GitHub is having trouble; " + RETRY_LATER
        else:
            fix = "If this persists, report it with the job log."
        return GitHubApiError(
            self.redact(cause), fix, status=failure.status, message=self.redact(failure.message)
        )


def _backoff(attempt: int) -> float:
    return float(min(2 ** (attempt - 1), MAX_BACKOFF))


class Pacer:
    """Spaces mutating requests at least `interval` seconds apart and caps content creation per run."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        interval: float = WRITE_INTERVAL,
        cap: int = DEFAULT_CONTENT_CAP,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.interval = interval
        self.cap = cap
        self.created = 0
        self.sent_at: list[float] = []  # when each mutating request was sent (on the clock)
        self._last: float | None = None

    def before(self, call: Call) -> None:
        """Wait until the next mutating request may go out; refuse content beyond the cap."""
        if not call.mutating:
            return
        if call.creates and self.created >= self.cap:
            raise ContentCapReached(
                f"Specship stopped before it would {call.operation}: it already made {self.created} "
                "content-creating GitHub requests in this run (its cap).",
                "This protects against GitHub's secondary rate limits; re-run with '/specship retry'.",
            )
        if self._last is not None:
            wait = self._last + self.interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self.sent_at.append(self.clock())

    def after(self, call: Call) -> None:
        """Record a finished mutating request (also a failed one: GitHub saw it)."""
        if not call.mutating:
            return
        self._last = self.clock()
        if call.creates:
            self.created += 1


def error_message(data: object, fallback: str | None = None) -> str:
    """GitHub's error text: `message` plus each `errors` entry (422 details, GraphQL errors)."""
    if not isinstance(data, dict):
        return fallback or ""
    parts = [str(data["message"])] if data.get("message") else []
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            fallback_text = " ".join(str(error.get(k, "")) for k in ("resource", "code", "field"))
            parts.append(str(error.get("message") or fallback_text))
        else:
            parts.append(str(error))
    return ": ".join(parts)[:500] if parts else (fallback or "")
