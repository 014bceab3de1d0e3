"""The unprivileged account generated code runs as, and scratch directories it owns."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.exceptions import FatalError

SANDBOX_USERS = ("specship-runner", "nobody")


@dataclass(frozen=True)
class SandboxUser:
    """The unprivileged account generated code runs as."""

    name: str
    uid: int
    gid: int

    @property
    def dedicated(self) -> bool:
        """True when no other service shares the uid, so all its processes may be killed."""
        return self.name != "nobody" and self.uid != 65534


def sandbox_user(name: str | None = None) -> SandboxUser:
    """The configured user (a name or a numeric uid), else specship-runner, else nobody."""
    user = _lookup_user(name)
    if user is None:
        raise FatalError(
            f"The sandbox user {name or ' / '.join(SANDBOX_USERS)} does not exist.",
            "Use the Specship image (it creates specship-runner, uid 10001) or configure an "
            "existing unprivileged user.",
        )
    if user.uid == 0 or user.gid == 0:
        raise FatalError(f"The sandbox user {user.name} is root.", "Configure another user.")
    return user


def _lookup_user(name: str | None) -> SandboxUser | None:
    if name and name.isdigit():
        try:
            gid = pwd.getpwuid(int(name)).pw_gid
        except KeyError:
            gid = int(name)
        return SandboxUser(name, int(name), gid)
    for candidate in (name,) if name else SANDBOX_USERS:
        try:
            entry = pwd.getpwnam(candidate)
        except KeyError:
            continue
        return SandboxUser(candidate, entry.pw_uid, entry.pw_gid)
    return None


def dropping() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def scratch_dir(user: SandboxUser | None = None, base: Path | None = None) -> Iterator[Path]:
    """A fresh directory (mode 0700) the sandbox user owns, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="specship-sandbox-", dir=base))
    try:
        if dropping():
            require_reachable(path.parent)
            who = user or sandbox_user()
            os.chown(path, who.uid, who.gid)
        yield path
    finally:
        remove_soon(path)


def remove_soon(path: Path) -> None:
    """Take a used directory away now and delete it beside the next step.

    It is renamed at once, so its name is gone when the caller goes on; the files are deleted by
    a thread, while Specship waits for the next sandboxed run (a test run's temporary files take
    milliseconds to delete). The interpreter waits for the thread at exit. rmtree does not follow
    symlinks the sandbox may have planted inside."""
    gone = path.with_name(f"{path.name}-removed")
    try:
        os.rename(path, gone)
    except OSError:  # not ours to rename (or already gone): delete it here and now
        shutil.rmtree(path, ignore_errors=True)
        return
    threading.Thread(target=shutil.rmtree, args=(gone, True), name="specship-remove").start()


def require_reachable(path: Path) -> None:
    for folder in (path, *path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise FatalError(
                f"The sandbox user cannot reach {path}: {folder} is not world-traversable.",
                f"Run `chmod o+x {folder}` or put the workspace under a traversable directory.",
            )
