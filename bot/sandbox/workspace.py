"""The work tree made ready for sandboxed code: the project's files readable, .git and runner files hidden."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from bot.sandbox.credentials import git_dir
from bot.sandbox.users import SandboxUser, dropping, require_reachable, sandbox_user
from bot.sandbox.visible import TreeView

_RUNNER_FILES = (
    "RUNNER_TEMP", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
    "GITHUB_STATE",
)  # fmt: skip


def _private(path: Path, user: SandboxUser) -> bool:
    """Remove group/other access; a file the sandbox user owns is taken back first."""
    try:
        info = path.lstat()
    except OSError:
        return False
    if stat.S_ISLNK(info.st_mode):
        return False
    if info.st_uid == user.uid:
        os.chown(path, os.geteuid(), os.getegid())
    os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
    return True


def prepare_workspace_for_sandbox(
    root: Path, *, user: SandboxUser | None = None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Let the sandbox user read the project's files, but not .git or the runner's files (root only).

    Only tracked files and the files the agent wrote become readable (with the directories that
    lead to them); an ignored or untracked file keeps its mode, so a private `.env` stays private.
    No directory stays writable by others: generated code must not add files (a conftest.py) that
    would change what the gates see. Returns the paths made private. Without root the child shares
    our uid and no permission can separate us, so nothing is changed (see ISOLATION_NOTES).
    """
    if not dropping():
        return []
    who = user or sandbox_user()
    environ = os.environ if environ is None else environ
    real = Path(os.path.realpath(root))
    require_reachable(real)
    hidden: list[str] = []
    for folder, dirs, files in os.walk(real):
        here = Path(folder)
        if ".git" in dirs or ".git" in files:
            if ".git" in dirs:
                dirs.remove(".git")
            for private in {here / ".git", git_dir(here)}:
                if _private(private, who):
                    hidden.append(str(private))
        _chmod(here, lambda mode: mode & ~0o002)
    view = TreeView(real)
    # Plain strings, not Path objects: this visits every tracked file, 20k of them on a large repo.
    top = str(real)
    opened: set[str] = set()
    for rel in sorted(view.tracked() | view.written):
        item = os.path.join(top, rel)
        try:
            info = os.lstat(item)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or os.path.basename(item) == ".git":
            continue
        # Readable, never writable by others: the sandbox must not change what gets committed.
        mode = info.st_mode
        _set_mode(item, mode, (mode | 0o004 | (0o001 if mode & 0o100 else 0)) & ~0o002)
        parent = os.path.dirname(item)
        while parent not in opened and (parent == top or parent.startswith(top + os.sep)):
            opened.add(parent)
            _chmod(Path(parent), lambda mode: (mode | 0o005) & ~0o002)
            parent = os.path.dirname(parent)
    names = list(_RUNNER_FILES)
    if environ.get("GITHUB_ACTIONS") == "true":
        names.append("HOME")
    for name in names:
        value = environ.get(name)
        if value and os.path.isabs(value) and _private(Path(value), who):
            hidden.append(value)
    return hidden


def _chmod(path: Path, change: Callable[[int], int]) -> None:
    info = path.lstat()
    if not stat.S_ISLNK(info.st_mode):
        _set_mode(str(path), info.st_mode, change(info.st_mode))


def _set_mode(path: str, mode: int, wanted: int) -> None:
    if stat.S_IMODE(wanted) != stat.S_IMODE(mode):
        os.chmod(path, stat.S_IMODE(wanted))


def read_untrusted_file(path: Path, max_bytes: int) -> bytes:
    """Read a file the sandbox wrote (a JUnit report) without following its symlinks."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > max_bytes:
            raise ValueError(f"{path} is not a plain file of at most {max_bytes} bytes")
        return os.read(fd, max_bytes)
    finally:
        os.close(fd)
