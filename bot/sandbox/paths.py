"""Path confinement for the file tools: relative paths only, no escapes, protected paths."""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import posixpath
import stat
from collections.abc import Iterable
from pathlib import Path

from bot.sandbox.visible import NO_TRACKED_FILES, NOT_TRACKED, TreeView

DEFAULT_MAX_READ_BYTES = 1024 * 1024
DEFAULT_MAX_WRITE_BYTES = 1024 * 1024

OUTSIDE = "outside repository root"
_HINT = "give a path relative to the repository root, such as 'backend/app/main.py'"

# Names refused as any path component (case-insensitively, because a checkout on a
# case-insensitive file system would treat `.GIT` as `.git`).
_ANY_COMPONENT: dict[str, str] = {
    ".git": ".git/ is off limits: Specship commits through git itself and never edits "
    "the repository database, its config or its hooks",
    ".gitattributes": ".gitattributes is read-only: it can make git run filters and drivers",
    ".gitmodules": ".gitmodules is read-only: submodule sources are a decision for humans",
}

# Path prefixes (from the repository root, compared case-insensitively) that writes never touch.
_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        (".github", "workflows"),
        ".github/workflows/ is read-only: workflow changes need a human reviewer",
    ),
    (
        (".github", "actions"),
        ".github/actions/ is read-only: workflows run these actions with the repository's token",
    ),
    (("specs",), "specs/ is read-only: Specship never edits specifications"),
    (
        (".specify",),
        ".specify/ is read-only: the constitution and Spec Kit files belong to the humans",
    ),
)

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class PathRefused(ValueError):
    """A file-tool path was refused; the message says why and what to do instead."""

    def __init__(self, reason: str, *, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


class Workspace:
    """The repository work tree as the model may see it: confined reads, policed writes."""

    def __init__(
        self,
        root: Path | str,
        protected: Iterable[str] = (),
        *,
        max_read_bytes: int = DEFAULT_MAX_READ_BYTES,
        max_write_bytes: int = DEFAULT_MAX_WRITE_BYTES,
    ) -> None:
        real = os.path.realpath(root)
        if not os.path.isdir(real):
            raise ValueError(f"workspace root {root} is not a directory")
        self.root = Path(real)
        self.protected = tuple(p.strip().strip("/") for p in protected if p.strip().strip("/"))
        self.max_read_bytes = max_read_bytes
        self.max_write_bytes = max_write_bytes
        self.view = TreeView(self.root)

    # -- checks --------------------------------------------------------------------------------
    def relative(self, path: str) -> str:
        """The normalised repository-relative form of `path`, or PathRefused."""
        if not isinstance(path, str):
            raise PathRefused("the path must be a string", path=repr(path))
        if "\x00" in path:
            raise PathRefused(f"{path!r} is {OUTSIDE}: it contains a NUL byte; {_HINT}", path=path)
        if not path.strip():
            raise PathRefused(f"the path is empty; {_HINT}", path=path)
        if path.startswith("~"):
            raise PathRefused(f"{path!r} is {OUTSIDE}: '~' is a home directory; {_HINT}", path=path)
        if os.path.isabs(path):
            norm = posixpath.normpath(path)
            root = self.root.as_posix()
            if norm.startswith(root + "/"):
                inside = norm[len(root) + 1 :]
                raise PathRefused(
                    f"{path!r}: absolute paths are not accepted; use {inside!r} instead", path=path
                )
            raise PathRefused(f"{path!r} is {OUTSIDE}: it is absolute; {_HINT}", path=path)
        norm = posixpath.normpath(path)
        if norm == ".." or norm.startswith("../"):
            raise PathRefused(f"{path!r} is {OUTSIDE}: '..' climbs out of it; {_HINT}", path=path)
        return norm

    def _inside(self, path: str, real: str) -> None:
        root = str(self.root)
        # The separator matters: `<root>-evil/x` starts with `<root>` but is a sibling.
        if real != root and not real.startswith(root + os.sep):
            raise PathRefused(
                f"{path!r} is {OUTSIDE}: it resolves through a symbolic link to a path outside "
                f"the repository; {_HINT}",
                path=path,
            )

    def _policy(self, path: str, rel: str) -> None:
        parts = rel.split("/")
        lower = [part.lower() for part in parts]
        for name, message in _ANY_COMPONENT.items():
            if name in lower:
                raise PathRefused(f"{path!r} refused: {message}", path=path)
        for prefix, message in _PREFIXES:
            if tuple(lower[: len(prefix)]) == prefix:
                raise PathRefused(f"{path!r} refused: {message}", path=path)
        for pattern in self.protected:
            for end in range(1, len(parts) + 1):
                if fnmatch.fnmatchcase("/".join(parts[:end]), pattern):
                    raise PathRefused(
                        f"{path!r} refused: it matches the protected path {pattern!r} in the "
                        "Specship configuration, which only humans edit",
                        path=path,
                    )

    def resolve_read(self, path: str) -> Path:
        """The real path of `path` for reading (it need not exist); symlinks may not leave root."""
        rel = self.relative(path)
        real = os.path.realpath(self.root / rel)
        self._inside(path, real)
        real_rel = os.path.relpath(real, self.root).replace(os.sep, "/")
        if ".git" in {p.lower() for p in (*rel.split("/"), *real_rel.split("/"))}:
            raise PathRefused(
                f"{path!r} refused: the .git directory holds credentials and is not readable "
                "through the file tools",
                path=path,
            )
        return Path(real)

    def visible_files(self, prefix: str = ".") -> list[str]:
        """The files the tools show under a directory: tracked files and files the agent wrote."""
        return self.view.files(prefix)

    def check_visible(self, path: str, real: Path) -> None:
        """Refuse a file git does not track and the agent did not write (an ignored `.env` ...)."""
        real_rel = os.path.relpath(real, self.root).replace(os.sep, "/")
        if real.is_dir():
            if real_rel != "." and not self.view.files(real_rel):
                raise PathRefused(NO_TRACKED_FILES.format(path=path), path=path)
        elif os.path.lexists(real) and not self.view.visible(real_rel):
            raise PathRefused(NOT_TRACKED.format(path=path), path=path)

    def resolve_write(self, path: str) -> Path:
        """The path to write for `path`; refuses protected paths and any symlinked component."""
        rel = self.relative(path)
        if rel == ".":
            raise PathRefused(f"{path!r} names the repository root, not a file; {_HINT}", path=path)
        self._policy(path, rel)
        parts = rel.split("/")
        current = self.root
        for index, part in enumerate(parts):
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                break
            shown = "/".join(parts[: index + 1])
            if stat.S_ISLNK(info.st_mode):
                real = os.path.realpath(current)
                self._inside(path, real)
                target = os.path.relpath(real, self.root).replace(os.sep, "/")
                raise PathRefused(
                    f"{path!r} refused: {shown!r} is a symbolic link to {target!r}; Specship "
                    "writes only through real directories and files, so use the target path",
                    path=path,
                )
            if index < len(parts) - 1 and not stat.S_ISDIR(info.st_mode):
                raise PathRefused(f"{path!r} refused: {shown!r} is a file, not a directory")
            if index == len(parts) - 1 and not stat.S_ISREG(info.st_mode):
                raise PathRefused(f"{path!r} refused: it exists and is not a regular file")
        candidate = self.root / rel
        self._inside(path, os.path.realpath(candidate))
        problem = self.view.write_problem(rel, os.path.lexists(candidate))
        if problem is not None:
            raise PathRefused(problem.format(path=path), path=path)
        return candidate

    # -- I/O -----------------------------------------------------------------------------------
    def read_text(self, path: str, max_bytes: int | None = None) -> str:
        """The UTF-8 text of a regular file inside the workspace, at most `max_bytes` long."""
        limit = self.max_read_bytes if max_bytes is None else max_bytes
        real = self.resolve_read(path)
        self.check_visible(path, real)
        try:
            # The real path holds no symlinks any more; one appearing now is a race, so refuse it.
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | _O_NOFOLLOW | _O_CLOEXEC)
        except FileNotFoundError:
            raise PathRefused(f"{path!r} does not exist; view a directory to list it") from None
        except NotADirectoryError:
            raise PathRefused(f"{path!r} does not exist: a parent is a file") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise PathRefused(f"{path!r} refused: it became a symbolic link") from None
            raise
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise PathRefused(f"{path!r} is a directory; view it to list its files")
            if not stat.S_ISREG(info.st_mode):
                raise PathRefused(f"{path!r} is not a regular file")
            if info.st_size > limit:
                raise PathRefused(
                    f"{path!r} is {info.st_size} bytes, over the {limit}-byte read limit; "
                    "use search to find the part you need"
                )
            data = _read_at_most(fd, limit + 1)
        finally:
            os.close(fd)
        if len(data) > limit:
            raise PathRefused(f"{path!r} grew past the {limit}-byte read limit while reading")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise PathRefused(f"{path!r} is not UTF-8 text; the tools edit only text") from None

    def write_text(self, path: str, text: str) -> Path:
        """Write `text` as UTF-8, creating parent directories; no symlink is ever followed."""
        data = text.encode("utf-8")
        if len(data) > self.max_write_bytes:
            raise PathRefused(
                f"{path!r} refused: {len(data)} bytes is over the {self.max_write_bytes}-byte "
                "write limit; split the content into smaller modules"
            )
        target = self.resolve_write(path)
        parts = target.relative_to(self.root).parts
        # Walk from the root with directory descriptors and O_NOFOLLOW, so a symlink swapped in
        # after the checks above still cannot redirect the write.
        dir_fd = os.open(self.root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
        try:
            for part in parts[:-1]:
                child = _enter(dir_fd, part, path)
                os.close(dir_fd)
                dir_fd = child
            try:
                fd = os.open(
                    parts[-1],
                    os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | _O_NOFOLLOW | _O_CLOEXEC,
                    0o644,
                    dir_fd=dir_fd,
                )
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise PathRefused(f"{path!r} refused: it is a symbolic link") from None
                if exc.errno in (errno.EISDIR, errno.ENXIO):
                    raise PathRefused(f"{path!r} refused: it is not a regular file") from None
                raise
            try:
                info = os.fstat(fd)
                # A second hard link would let the write land in a file elsewhere.
                if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
                    raise PathRefused(f"{path!r} refused: it is not a plain file with one link")
                os.ftruncate(fd, 0)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        finally:
            os.close(dir_fd)
        self.view.record("/".join(parts))
        return target


def _enter(dir_fd: int, name: str, path: str) -> int:
    """Open (creating if needed) the real directory `name` under `dir_fd`."""
    flags = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC
    try:
        try:
            return os.open(name, flags, dir_fd=dir_fd)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=dir_fd)
            return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise PathRefused(
                f"{path!r} refused: {name!r} is a symbolic link or a file, not a directory"
            ) from None
        raise


def _read_at_most(fd: int, count: int) -> bytes:
    chunks: list[bytes] = []
    remaining = count
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
