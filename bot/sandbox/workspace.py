"""The work tree made ready for sandboxed code: permissions, persisted git credentials, files it wrote."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from bot.sandbox.credentials import git_dir
from bot.sandbox.users import SandboxUser, dropping, require_reachable, sandbox_user

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
    """Let the sandbox user read the work tree, but not .git or the runner's files (root only).

    Returns the paths made private. Without root the child shares our uid and no permission can
    separate us, so nothing is changed (see ISOLATION_NOTES).
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
        for name in [*files, "."]:
            item = here / name
            info = item.lstat()
            # Readable, never writable by others: the sandbox must not change what gets committed.
            if stat.S_ISDIR(info.st_mode):
                wanted = (info.st_mode | 0o005) & ~0o002
            elif stat.S_ISREG(info.st_mode) and name != ".git":
                wanted = (info.st_mode | 0o004 | (0o001 if info.st_mode & 0o100 else 0)) & ~0o002
            else:
                continue
            if wanted != info.st_mode:
                os.chmod(item, stat.S_IMODE(wanted))
    names = list(_RUNNER_FILES)
    if environ.get("GITHUB_ACTIONS") == "true":
        names.append("HOME")
    for name in names:
        value = environ.get(name)
        if value and os.path.isabs(value) and _private(Path(value), who):
            hidden.append(value)
    return hidden


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
