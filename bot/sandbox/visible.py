"""What of the work tree the model and generated code may see: tracked files and the files the agent wrote.

An untracked or ignored file (a `.env`, the credentials file an auth action left in the
checkout) is the user's or the runner's, not the project's: the file tools neither show nor
overwrite it, the sandbox never makes it readable, and no commit takes it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bot import git

NOT_TRACKED = (
    "{path!r} refused: git does not track it and Specship did not write it. Untracked and ignored "
    "files (such as .env or a runner's credentials file) belong to the person or machine that "
    "made them, so the tools neither show nor overwrite them; work with the tracked files"
)
IGNORED = (
    "{path!r} refused: git ignores this path (.gitignore or info/exclude), so it would never be "
    "committed; put the change in a tracked file, or a new file git does not ignore"
)
IN_VENV = (
    "{path!r} refused: it is inside an installed environment ({where}); installed packages are "
    "not part of the change, so add the dependency to the project's requirements instead"
)
NO_TRACKED_FILES = "{path!r} holds no tracked file and no file you wrote"
_INSTALL_DIRS = frozenset({"site-packages", "dist-packages", "node_modules"})


class TreeView:
    """The visible part of one work tree. Outside a git work tree every file counts as visible:
    there is no index to tell the project's files from anyone else's."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.is_repo = git.is_repo(root)
        self._log = git.written_log(root) if self.is_repo else None
        self.written: set[str] = set(git.written_paths(root, self._log)) if self.is_repo else set()

    def tracked(self) -> frozenset[str]:
        """The paths in the index, relative to the root (read again whenever the index changed)."""
        return git.tracked_files(self.root) if self.is_repo else frozenset()

    def visible(self, rel: str) -> bool:
        return not self.is_repo or rel in self.written or rel in self.tracked()

    def files(self, prefix: str = ".") -> list[str]:
        """The visible regular files under `prefix` (repository-relative), sorted."""
        if not self.is_repo:
            return git.list_files(self.root, None, prefix)
        under = "" if prefix in ("", ".") else prefix.rstrip("/") + "/"
        names = {n for n in self.tracked() | self.written if n.startswith(under)}
        return sorted(n for n in names if _is_file(self.root / n))

    def record(self, rel: str) -> None:
        """The agent wrote `rel` through its tools: it is the change's now."""
        if rel not in self.written:
            self.written.add(rel)
            if self._log is not None:
                git.record_written(self.root, rel, self._log)

    def write_problem(self, rel: str, exists: bool) -> str | None:
        """Why the agent may not write `rel` (a message template with {path}), or None."""
        where = _install_dir(self.root, rel)
        if where is not None:
            return IN_VENV.replace("{where}", where)
        if not self.is_repo or rel in self.written:
            return None
        if exists:
            return None if rel in self.tracked() else NOT_TRACKED
        return IGNORED if rel in git.ignored(self.root, [rel]) else None


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _install_dir(root: Path, rel: str) -> str | None:
    """The installed environment (a virtualenv, site-packages, node_modules) `rel` lies in, if any."""
    parts = rel.split("/")[:-1]
    for index, part in enumerate(parts):
        here = "/".join(parts[: index + 1])
        if part.lower() in _INSTALL_DIRS or os.path.isfile(root / here / "pyvenv.cfg"):
            return here
    return None
