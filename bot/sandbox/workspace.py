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
    opened: set[Path] = set()
    for rel in sorted(view.tracked() | view.written):
        item = real / rel
        try:
            info = item.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or item.name == ".git":
            continue
        # Readable, never writable by others: the sandbox must not change what gets committed.
        _chmod(item, lambda mode: (mode | 0o004 | (0o001 if mode & 0o100 else 0)) & ~0o002)
        for parent in (item.parent, *item.parent.parents):
            if parent in opened or not parent.is_relative_to(real):
                break
            opened.add(parent)
            _chmod(parent, lambda mode: (mode | 0o005) & ~0o002)
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
    if stat.S_ISLNK(info.st_mode):
        return
    wanted = stat.S_IMODE(change(info.st_mode))
    if wanted != stat.S_IMODE(info.st_mode):
        os.chmod(path, wanted)


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
