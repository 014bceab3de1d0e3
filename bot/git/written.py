"""The files the agent wrote through its tools this run: a list kept in the git directory (root only).

The file tools add to it; the sandbox makes only these (besides tracked files) readable to generated
code, and a commit holds only these (besides Specship's own task ticks). It lives in the git
directory because generated code can neither read nor write there (.git is mode 0700).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from bot.git import stamped
from bot.git.command import GitError, run

LOG_NAME = "specship-written"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def log_path(repo: Path) -> Path | None:
    """Where the list of `repo` lives, or None when `repo` is not a git work tree (asked once per
    .git of a work tree's root: every file write and test run needs it)."""

    def ask() -> Path | None:
        try:
            out = run(repo, "rev-parse", "--git-path", LOG_NAME, timeout=30).decode().strip()
        except GitError:
            return None
        path = Path(out)
        return path if path.is_absolute() else Path(repo) / path

    return stamped.kept("written-log", repo, lambda: stamped.git_entry(repo), ask)


def record(repo: Path, rel: str, log: Path | None = None) -> None:
    """Add one repository-relative path (NUL-terminated: a path may hold any other byte)."""
    target = log or log_path(repo)
    if target is None:
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_NOFOLLOW | _O_CLOEXEC, 0o600)
    try:
        os.write(fd, rel.encode("utf-8", "surrogateescape") + b"\0")
    finally:
        os.close(fd)


def written(repo: Path, log: Path | None = None) -> list[str]:
    """The paths recorded for `repo`, in the order first written, without repeats."""
    target = log or log_path(repo)
    if target is None:
        return []
    try:
        fd = os.open(target, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
    except FileNotFoundError:
        return []
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    names = (part.decode("utf-8", "surrogateescape") for part in data.split(b"\0"))
    return list(dict.fromkeys(name for name in names if name))


def reset(repo: Path) -> None:
    """Forget what earlier runs wrote: each run starts with an empty list."""
    target = log_path(repo)
    if target is not None:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
