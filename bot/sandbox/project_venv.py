"""The project's venv, built in a directory we created: nothing sandboxed code reports decides where we write.

Root used to ask the sandboxed venv Python for its site-packages path and write a .pth there; a
`sysconfig.py` committed to the repository answered with any path it liked, and root followed
symlinks into it (issue 13, finding 3). Now the venv is created by a trusted interpreter running
isolated, every path is computed here, each directory on the way is opened without following
symlinks and must be ours, and the venv is handed to the sandbox user only after we wrote it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bot.exceptions import FatalError
from bot.sandbox.environment import SAFE_PATH
from bot.sandbox.interpreters import Interpreter
from bot.sandbox.process import run
from bot.sandbox.users import SandboxUser

BASE_PTH = "zz-specship-base.pth"
VENV_FAILED_FIX = (
    "The interpreter must have the venv module (Debian: the python3-venv package); Specship's image has it."
)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(OSError):
    """A path we were about to write through is a symlink, not ours, or writable by others."""


def _check_dir(fd: int, shown: str, *, last: bool) -> None:
    info = os.fstat(fd)
    me = os.geteuid()
    if info.st_uid not in (0, me):
        raise UnsafePath(f"{shown} belongs to uid {info.st_uid}, not to us")
    if last and info.st_uid != me:
        raise UnsafePath(f"{shown} was not created by us")
    # Others may write only where the sticky bit stops them renaming our entries (/tmp).
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not (info.st_mode & stat.S_ISVTX and not last):
        raise UnsafePath(f"{shown} is writable by others")


def open_own_dir(path: Path) -> int:
    """An fd of `path`, walked from / one component at a time with O_NOFOLLOW; each must be safe."""
    if not path.is_absolute():
        raise ValueError(f"{path} is not absolute")
    parts = path.parts[1:]
    fd = os.open("/", _DIR_FLAGS)
    try:
        for index, part in enumerate(parts):
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                shown = "/" + "/".join(parts[: index + 1])
                raise UnsafePath(f"{shown} is not a plain directory: {exc}") from None
            os.close(fd)
            fd = nxt
            _check_dir(fd, "/" + "/".join(parts[: index + 1]), last=index == len(parts) - 1)
        return fd
    except BaseException:
        os.close(fd)
        raise


def write_new_file(directory: Path, name: str, text: str, mode: int = 0o644) -> None:
    """Create directory/name, which must not exist yet, without following any symlink on the way."""
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"{name!r} is not a file name")
    dir_fd = open_own_dir(directory)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(name, flags, mode, dir_fd=dir_fd)
        try:
            os.write(fd, text.encode("utf-8"))
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


def hand_over(root: Path, user: SandboxUser) -> None:
    """Give a tree we just created to the sandbox user, never following a link inside it."""
    os.chown(root, user.uid, user.gid, follow_symlinks=False)
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            os.chown(os.path.join(folder, name), user.uid, user.gid, follow_symlinks=False)


def build_venv(
    parent: Path, interpreter: Interpreter, base_site: str | None, user: SandboxUser | None
) -> Path:
    """parent/venv, made with `interpreter` running isolated (-I) from `parent`, then the sandbox user's.

    `parent` must be a directory we created; `base_site` (Specship's own packages, for its own
    interpreter only) goes into a .pth at the lowest priority, in the site-packages we compute.
    """
    venv = parent / "venv"
    created = run(
        [interpreter.path, "-I", "-m", "venv", "--without-pip", str(venv)],
        cwd=parent,
        timeout=120,
        isolate=False,
        env={"PATH": SAFE_PATH, "LANG": "C.UTF-8"},
    )
    if not created.ok:
        raise FatalError(
            f"Could not create the project's virtual environment with Python {interpreter.label}: "
            f"{created.output[-500:]}",
            VENV_FAILED_FIX,
        )
    if base_site:
        try:
            write_new_file(venv / interpreter.site_dir, BASE_PTH, base_site + "\n")
        except OSError as exc:
            raise FatalError(
                f"Refused to write into the project's virtual environment: {exc}.",
                "Report this: the venv Specship just created changed under it.",
            ) from None
    if user is not None:
        hand_over(venv, user)
    return venv
