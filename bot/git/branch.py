"""Work branch names, commit identity, push policy and the token's forms, before any git runs."""

from __future__ import annotations

import base64
import fnmatch
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bot.exceptions import FatalError
from bot.git.command import GitError, run
from bot.redact import secret_forms

FEATURE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def branch_name(feature: str | None = None, issue: int | None = None, prefix: str = "specship/") -> str:
    """The deterministic work branch: `<prefix><feature>` or `<prefix>issue-<n>`."""
    if (feature is None) == (issue is None):
        raise ValueError("name the branch by exactly one of feature or issue")
    if feature is not None and not FEATURE_NAME.fullmatch(feature):
        raise FatalError(
            f"{feature[:80]!r} is not a valid feature name.",
            "Feature directories are named like specs/001-task-crud: lowercase letters, digits and '-'.",
        )
    if issue is not None and (isinstance(issue, bool) or not isinstance(issue, int) or issue < 1):
        raise ValueError(f"issue must be a positive number, not {issue!r}")
    name = f"{prefix}{feature if feature is not None else f'issue-{issue}'}"
    try:
        run(Path("/"), "check-ref-format", f"refs/heads/{name}", timeout=30)
    except GitError:
        raise FatalError(
            f"{name!r} is not a valid git branch name.", "Set branch-prefix to something like 'specship/'."
        ) from None
    return name


def auth_header(token: str) -> str:
    """The `http.extraheader` value that authenticates a GitHub token for git over HTTPS."""
    value = base64.b64encode(f"x-access-token:{token.strip()}".encode()).decode()
    return f"AUTHORIZATION: basic {value}"


def derived_secret_forms(token: str) -> list[str]:
    """Every form of the token git may see or print: raw, URL-quoted, and the base64 header value."""
    forms = secret_forms(token)
    if token.strip() and auth_header(token).rsplit(" ", 1)[1] not in forms:
        raise ValueError("the token is too short to be masked; refusing to use it")
    return forms


@dataclass(frozen=True)
class Identity:
    """Author and committer of Specship's commits."""

    name: str = "specship[bot]"
    email: str = "specship[bot]@users.noreply.github.com"

    def __post_init__(self) -> None:
        for value in (self.name, self.email):
            if not value.strip() or any(c in value for c in "<>\n\r\0"):
                raise ValueError(f"invalid git identity part {value!r}")

    def env(self) -> dict[str, str]:
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }


class PushRefused(FatalError):
    """A push to a ref Specship does not own; raised before git runs."""


@dataclass(frozen=True)
class PushPolicy:
    """Which refs Specship may push: only `<prefix><feature>`, never the default, base or protected ones."""

    prefix: str = "specship/"
    default_branch: str = ""
    base_branch: str = ""
    protected: tuple[str, ...] = ()

    def check(self, branch: str) -> None:
        """Raise PushRefused unless Specship owns `branch`."""
        rest = branch.removeprefix(self.prefix)
        if branch in (self.default_branch, self.base_branch):
            why = "it is the default branch" if branch == self.default_branch else "it is the base branch"
        elif any(fnmatch.fnmatchcase(branch, pattern) for pattern in self.protected):
            why = "it is a protected branch"
        elif not branch.startswith(self.prefix) or not FEATURE_NAME.fullmatch(rest):
            why = f"Specship only pushes branches named {self.prefix}<feature>"
        else:
            return
        raise PushRefused(
            f"Refusing to push to {branch[:200]!r}: {why}.",
            "Specship never writes other branches; check the branch-prefix and base-branch settings.",
        )


@dataclass(frozen=True)
class BranchState:
    """The prepared work branch: reused when the remote already had it, with the commit that
    merged the base into it (None: no merge was needed) and the spec files that merge settled
    in the base's favour."""

    name: str
    head: str
    remote_sha: str | None
    reused: bool
    merge: str | None = None
    resolved: tuple[str, ...] = ()


PUSH_FIX = "Check that the token may push (contents: write) and that no branch rule blocks Specship's branch."


def check_url(url: str) -> None:
    """The remote must be an explicit URL or path without credentials in it (the token goes in a header)."""
    parts = urllib.parse.urlsplit(url)
    if not url or url.startswith("-") or any(c in url for c in "\0\n\r"):
        raise ValueError("invalid remote URL: empty, an option, or holding control characters")
    if parts.scheme in ("http", "https") and "@" in parts.netloc:
        raise ValueError("the remote URL may not hold credentials; pass the token separately")
    if parts.scheme not in ("", "https", "http", "file"):
        raise ValueError(f"unsupported remote URL scheme {parts.scheme!r}")
