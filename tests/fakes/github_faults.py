"""Fault injection and request records of the GitHub REST emulator."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.github_routes import DOCS

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class Fault:
    """A scripted failure. Build one with the class methods.

    after_effect: run the real handler first (state changes), then answer with this fault.
    transform: run the real handler and rewrite its JSON body (status kept) - to corrupt responses.
    reset_in: send primary rate-limit headers (remaining 0, reset = now + reset_in).
    delay: seconds to wait before answering.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    after_effect: bool = False
    transform: Callable[[Any], Any] | None = None
    reset_in: int | None = None
    delay: float = 0.0
    kind: str = "custom"

    @classmethod
    def secondary_rate_limit(cls, retry_after: int | None = None) -> Fault:
        """403 secondary rate limit, with a `retry-after` header when given."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        return cls(403, error_body(403, SECONDARY_MESSAGE), headers, kind="secondary_rate_limit")

    @classmethod
    def primary_rate_limit(cls, reset_in: int = 30, status: int = 403) -> Fault:
        """403 (or 429) `API rate limit exceeded` with x-ratelimit-remaining 0 and a reset time."""
        message = (
            "API rate limit exceeded for installation ID 1. If you reach out to GitHub Support "
            "for help, please include the request ID."
        )
        return cls(
            status, error_body(status, message), reset_in=reset_in, kind=f"primary_rate_limit_{status}"
        )

    @classmethod
    def too_many_requests(cls, reset_in: int = 30) -> Fault:
        """429, x-ratelimit-remaining 0, x-ratelimit-reset (PyGithub raises a plain GithubException)."""
        return cls.primary_rate_limit(reset_in=reset_in, status=429)

    @classmethod
    def server_error(cls, status: int = 502, *, after_effect: bool = False) -> Fault:
        """A 5xx; after_effect=True performs the request's state change before failing."""
        messages = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}
        body = error_body(status, messages.get(status, "Server Error"))
        return cls(status, body, after_effect=after_effect, kind=f"server_error_{status}")

    @classmethod
    def pull_request_exists(cls, label: str) -> Fault:
        """422 `A pull request already exists for owner:branch.` (GitHub's real shape)."""
        error = {
            "resource": "PullRequest",
            "code": "custom",
            "message": f"A pull request already exists for {label}.",
        }
        return cls(422, error_body(422, "Validation Failed", [error]), kind="pull_request_exists")

    @classmethod
    def unresolvable_node(cls, node_id: str = "PR_kwDOAAAAAA") -> Fault:
        """422 `Could not resolve to a node with the global id of '...'`."""
        message = f"Could not resolve to a node with the global id of '{node_id}'."
        return cls(422, error_body(422, message), kind="unresolvable_node")

    @classmethod
    def not_accessible(cls) -> Fault:
        """403 `Resource not accessible by integration` (missing token permission)."""
        return cls(403, error_body(403, "Resource not accessible by integration"), kind="not_accessible")

    @classmethod
    def actions_cannot_create_prs(cls) -> Fault:
        """403 `GitHub Actions is not permitted to create or approve pull requests.`"""
        message = "GitHub Actions is not permitted to create or approve pull requests."
        return cls(403, error_body(403, message), kind="actions_cannot_create_prs")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Answer normally, but only after seconds (client read timeouts)."""
        return cls(0, transform=lambda body: body, delay=seconds, kind="slow")

    @classmethod
    def corrupt(cls, transform: Callable[[Any], Any]) -> Fault:
        """Answer normally but pass the JSON body through transform (return the new body)."""
        return cls(0, transform=transform, kind="corrupt")


def error_body(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"message": message}
    if errors is not None:
        data["errors"] = errors
    data["documentation_url"] = DOCS
    data["status"] = str(status)
    return data


@dataclass
class Injection:
    """A registered fault; remaining None means forever."""

    method: str
    pattern: re.Pattern[str]
    fault: Fault
    remaining: int | None
    hits: int = 0

    def applies(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return self.method in ("*", method) and self.pattern.search(path) is not None


@dataclass
class RecordedRequest:
    """One request the emulator answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    status: int
    timestamp: float
    operation: str | None
    login: str | None
    response_json: Any
    response_headers: dict[str, str]
    fault: str | None = None
