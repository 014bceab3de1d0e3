"""The work tree made ready for sandboxed code: permissions, persisted git credentials, files it wrote."""

from __future__ import annotations

import os
import stat
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot.exceptions import FatalError
from bot.git import read as gitread

if TYPE_CHECKING:
    from bot.sandbox.process import SandboxUser

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
    from bot.sandbox.process import (  # bot.sandbox imports this module
        _dropping,
        _require_reachable,
        sandbox_user,
    )

    if not _dropping():
        return []
    who = user or sandbox_user()
    environ = os.environ if environ is None else environ
    real = Path(os.path.realpath(root))
    _require_reachable(real)
    hidden: list[str] = []
    for folder, dirs, files in os.walk(real):
        here = Path(folder)
        if ".git" in dirs or ".git" in files:
            if ".git" in dirs:
                dirs.remove(".git")
            for private in {here / ".git", _git_dir(here)}:
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


def _git_config(config: Path, *args: str) -> str:
    try:
        out = gitread.git(config.parent, "config", "--file", str(config), *args, timeout=30)
    except gitread.GitError as exc:
        raise FatalError(
            f"Could not clean the git config file {config}: {exc}.",
            "Check that it is a valid git config file and writable.",
        ) from None
    return out.decode("utf-8", "surrogateescape")


def _git_dir(work_tree: Path) -> Path:
    """The git directory of a work tree, following the `gitdir:` file of linked worktrees."""
    dot_git = work_tree / ".git"
    if dot_git.is_file():
        pointer = dot_git.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
        return (work_tree / pointer).resolve()
    return dot_git


def strip_persisted_credentials(repo: Path) -> list[str]:
    """Remove checkout credentials from the repo's git config files; returns names, never values.

    Covers http.*.extraheader in any URL-scoped spelling and tokens inside remote URLs, in the
    main config, worktree configs, submodule configs and every file they include or includeIf
    (actions/checkout v4+ puts the header in an included file under RUNNER_TEMP).
    """
    git_dir = _git_dir(repo)
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    starts = [d / name for d in {git_dir, common} for name in ("config", "config.worktree")]
    starts += (common / "modules").glob("**/config")
    removed: list[str] = []
    pending, seen = starts, set()
    while pending:
        config = Path(os.path.realpath(pending.pop()))
        if config in seen or not config.is_file():
            continue
        seen.add(config)
        label = os.path.relpath(config, repo) if config.is_relative_to(repo.resolve()) else config
        listing = _git_config(config, "-z", "--name-only", "--list")
        names = dict.fromkeys(name for name in listing.split("\0") if name)
        for name in names:
            low = name.lower()
            if low.startswith("http.") and low.endswith(".extraheader"):
                _git_config(config, "--unset-all", name)
                removed.append(f"{label}: {name}")
            elif low == "include.path" or (low.startswith("includeif.") and low.endswith(".path")):
                for value in _git_config(config, "-z", "--get-all", name).split("\0"):
                    if value:
                        target = Path(os.path.expanduser(value))
                        pending.append(target if target.is_absolute() else config.parent / target)
            elif low.startswith("remote.") and low.endswith((".url", ".pushurl")):
                values = [v for v in _git_config(config, "-z", "--get-all", name).split("\0") if v]
                cleaned = [_without_userinfo(v) for v in values]
                if cleaned != values:
                    _git_config(config, "--unset-all", name)
                    for value in cleaned:
                        _git_config(config, "--add", name, value)
                    removed.append(f"{label}: {name} (credentials in the URL)")
    return removed


def _without_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
