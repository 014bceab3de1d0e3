"""Answers about a work tree reused while the file they depend on is unchanged (inode, size, mtime)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
Stamp = tuple[int, int, int, int]

# One entry per (question, directory); a run asks about a handful of directories, a test suite
# about thousands, so the table is emptied rather than allowed to grow without bound.
_LIMIT = 512
_KEPT: dict[tuple[str, str], tuple[Stamp, Any]] = {}


def stamp(path: Path | str) -> Stamp | None:
    """(device, inode, size, mtime) of `path` itself (a symlink is not followed); None if absent.

    git replaces the files it writes (a lock file, then a rename), so a rewritten index or
    gitfile has a new inode even when its size and mtime happen to repeat."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def git_entry(repo: Path) -> Stamp | None:
    """The identity of `repo/.git`: a directory by its inode alone (its mtime moves with every
    lock file git makes inside it), a gitfile by its full stamp; None for anything else (then
    `repo` is a subdirectory, or not a work tree, and git is asked every time)."""
    try:
        st = os.stat(Path(repo) / ".git", follow_symlinks=False)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return (st.st_dev, st.st_ino, 0, 0)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def kept(question: str, repo: Path, mark: Callable[[], Stamp | None], compute: Callable[[], T]) -> T:
    """compute()'s answer about `repo`, reused while `mark()` gives the stamp it was computed under.

    Without a stamp (the file is absent) nothing is kept; an answer during which the stamp moved
    is returned but not kept."""
    before = mark()
    if before is None:
        return compute()
    key = (question, os.path.abspath(repo))
    entry = _KEPT.get(key)
    if entry is not None and entry[0] == before:
        answer: T = entry[1]
        return answer
    answer = compute()
    if mark() == before:
        if len(_KEPT) >= _LIMIT:
            _KEPT.clear()
        _KEPT[key] = (before, answer)
    return answer
