"""Read-only git queries (files at a revision, changed paths), run with repository hooks and filters off."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot.git import stamped
from bot.git.command import ZERO_SHA, GitError, run
from bot.git.written import log_path


def empty_tree(repo: Path) -> str:
    """The id of the empty tree in this repository's hash format (SHA-1 or SHA-256)."""
    return run(repo, "hash-object", "-t", "tree", "/dev/null").decode().strip()


def is_repo(repo: Path) -> bool:
    """True when `repo` is inside a git work tree (asked once per .git directory of a work tree's
    root: a run asks before every test run and every file tool)."""

    def ask() -> bool:
        try:
            return run(repo, "rev-parse", "--is-inside-work-tree").strip() == b"true"
        except GitError:
            return False

    return stamped.kept("is-repo", repo, lambda: stamped.git_entry(repo), ask)


def rev_parse(repo: Path, rev: str) -> str | None:
    """The full SHA of a commit-ish, or None when it does not exist."""
    try:
        return run(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except GitError:
        return None


def show_file(repo: Path, rev: str | None, path: str) -> bytes | None:
    """The bytes of `path` at `rev` (None: the work tree); None when it does not exist there."""
    if rev is None:
        target = repo / path
        return target.read_bytes() if target.is_file() else None
    try:
        return run(repo, "cat-file", "blob", f"{rev}:{path}")
    except GitError:
        return None


_OBJECT_TYPES = (b"blob", b"tree", b"commit", b"tag")


def show_files(repo: Path, rev: str, paths: list[str]) -> dict[str, bytes | None]:
    """The bytes of each of `paths` at `rev` (None where it is not a file there), in one
    `git cat-file --batch` call instead of one process per file."""
    wanted = sorted({p for p in paths if "\n" not in p and "\r" not in p})
    found: dict[str, bytes | None] = {p: show_file(repo, rev, p) for p in set(paths) - set(wanted)}
    if not wanted:
        return found
    request = "".join(f"{rev}:{path}\n" for path in wanted).encode("utf-8", "surrogateescape")
    out = run(repo, "cat-file", "--batch", input_bytes=request)
    at = 0
    for path in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].split(b" ")
        at = end + 1
        # "<oid> <type> <size>" then the content and a newline; "<rev:path> missing" alone (a path
        # may hold spaces, so only a well-formed header counts as an object)
        if len(header) == 3 and header[1] in _OBJECT_TYPES and header[2].isdigit():
            size = int(header[2])
            found[path] = out[at : at + size] if header[1] == b"blob" else None
            at += size + 1
        else:
            found[path] = None
    return found


def list_files(repo: Path, rev: str | None, prefix: str) -> list[str]:
    """Repo-relative paths of the files under `prefix` at `rev` (None: tracked and untracked files)."""
    prefix = prefix.rstrip("/")
    if rev is None:
        if not is_repo(repo):
            root = repo / prefix
            found = (p.relative_to(repo).as_posix() for p in root.rglob("*") if p.is_file())
            return sorted(found) if root.is_dir() else []
        out = run(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", prefix)
        names = {name for name in out.decode("utf-8", "replace").split("\0") if name}
        top = str(repo)  # plain strings: a listing can hold tens of thousands of names
        return sorted(name for name in names if os.path.isfile(os.path.join(top, name)))
    try:
        out = run(repo, "ls-tree", "-r", "-z", "--name-only", rev, "--", prefix)
    except GitError:
        return []
    return sorted(name for name in out.decode("utf-8", "replace").split("\0") if name)


def tracked_files(repo: Path) -> frozenset[str]:
    """Every path in the index (the files git tracks) under `repo`, relative to it: read again
    only when the index file changed (Specship's own commits add to it)."""

    def listed() -> frozenset[str]:
        out = run(repo, "ls-files", "-z", "--cached")
        return frozenset(name for name in out.decode("utf-8", "surrogateescape").split("\0") if name)

    return stamped.kept("tracked", repo, lambda: _index_stamp(repo), listed)


def _index_stamp(repo: Path) -> stamped.Stamp | None:
    log = log_path(repo)  # the index lies beside it: both per work tree, in the git directory
    return stamped.stamp(log.parent / "index") if log is not None else None


def ignored(repo: Path, paths: list[str]) -> set[str]:
    """Those of `paths` that git ignores (.gitignore, info/exclude); tracked paths never are."""
    if not paths:
        return set()
    data = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)
    argv = ("check-ignore", "--stdin", "-z", "--verbose", "--non-matching")
    out = run(repo, *argv, input_bytes=data, ok_codes=(0, 1))
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    # records of four fields: source, line number, pattern, path (empty pattern: not ignored)
    return {
        fields[i + 3]
        for i in range(0, len(fields) - 3, 4)
        if fields[i + 2] and not fields[i + 2].startswith("!")
    }


@dataclass(frozen=True)
class Change:
    """One changed path between two revisions: status is A, M, D or T."""

    status: str
    path: str


def changed_paths(repo: Path, base: str, head: str | None) -> list[Change]:
    """Paths changed from `base` to `head` (None: the work tree), renames split into D + A."""
    if base == ZERO_SHA:
        base = empty_tree(repo)
    revs = [base] if head is None else [base, head]
    out = run(repo, "diff", "--no-renames", "--name-status", "-z", "--no-ext-diff", *revs, "--")
    fields = out.decode("utf-8", "replace").split("\0")
    changes = []
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if status and path:
            changes.append(Change(status[0], path))
    return changes


def diff(repo: Path, base: str, head: str | None, *paths: str) -> bytes:
    """The unified diff from `base` to `head` (None: the work tree) of `paths`; no external or
    textconv drivers, so a hostile .gitattributes cannot run commands."""
    if base == ZERO_SHA:
        base = empty_tree(repo)
    revs = [base] if head is None else [base, head]
    return run(
        repo, "diff", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", *revs, "--", *paths
    )


# Appended for bot/git.py (writing commands): the static HARDENING above cannot name the keys a
# hostile .git/config (or a file it includes) invents, such as filter.<x>.clean or
# merge.<x>.driver, so these read the effective config and override each command-running key at
# command scope (GIT_CONFIG_COUNT: no `-c` parsing of names holding '=', and nothing in argv).


def numstat(repo: Path, base: str, head: str) -> list[tuple[int | None, int | None, str]]:
    """`git diff --numstat` rows (added, deleted, path); binary files count as None."""
    if base == ZERO_SHA:
        base = empty_tree(repo)
    out = run(
        repo, "diff", "--numstat", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", base, head, "--"
    )
    rows = []
    for record in out.decode("utf-8", "replace").split("\0"):
        if not record:
            continue
        added, deleted, path = record.split("\t", 2)
        rows.append((None if added == "-" else int(added), None if deleted == "-" else int(deleted), path))
    return rows
