"""The work tree's diff as typed values (files, hunks, lines), and which files are tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from unidiff.constants import DEV_NULL
from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from bot import git
from bot.gates import GateContext

_FILE_HEADER = re.compile(r"^diff --git ", re.MULTILINE)


def file_sections(diff_text: str) -> list[str]:
    """A unified git diff cut at each `diff --git` header: one text per file, in diff order."""
    starts = [m.start() for m in _FILE_HEADER.finditer(diff_text)]
    ends = [*starts[1:], len(diff_text)] if starts else []
    return [diff_text[start:end] for start, end in zip(starts, ends, strict=True)]


# -- the diff, as typed values ------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk: kind is '+', '-' or ' '; old/new are its line numbers on either side."""

    kind: str
    text: str
    old: int | None
    new: int | None


@dataclass(frozen=True)
class Hunk:
    """One hunk; `index` orders the hunks of a file."""

    index: int
    old_start: int
    new_start: int
    lines: tuple[DiffLine, ...]

    @property
    def removed(self) -> list[DiffLine]:
        return [line for line in self.lines if line.kind == "-"]

    @property
    def added(self) -> list[DiffLine]:
        return [line for line in self.lines if line.kind == "+"]


@dataclass(frozen=True)
class FileDiff:
    """One changed file: status A (added), M (modified) or D (deleted), its hunks."""

    path: str
    status: str
    hunks: tuple[Hunk, ...]
    binary: bool = False

    @property
    def emptied(self) -> bool:
        """A file still there with no line left: every hunk only removes, down to line 0."""
        return (
            self.status == "M"
            and bool(self.hunks)
            and self.hunks[0].new_start == 0
            and all(line.kind == "-" for hunk in self.hunks for line in hunk.lines)
        )

    def added_lines(self) -> dict[int, str]:
        """New-file line number -> text of every added line."""
        return {line.new: line.text for h in self.hunks for line in h.added if line.new is not None}

    def first_line(self) -> int:
        """Where a finding about the whole file points: its first changed line (old side if deleted)."""
        for hunk in self.hunks:
            for line in hunk.lines:
                if line.kind == "+" and line.new and self.status != "D":
                    return line.new
                if line.kind == "-" and line.old and self.status == "D":
                    return line.old
            return max(1, hunk.new_start if self.status != "D" else hunk.old_start)
        return 1


def parse_diff(text: str) -> list[FileDiff]:
    """A unified git diff as FileDiffs (renames are never detected: git diff --no-renames)."""
    try:
        patch = PatchSet(text)
    except UnidiffParseError:
        return []
    files = []
    for patched in patch:
        # Only /dev/null on one side adds or deletes a file: unidiff also calls a file whose every
        # line went away "removed", and an emptied file is still there (a human emptying a config
        # is not deleting it).
        status = "A" if patched.source_file == DEV_NULL else "D" if patched.target_file == DEV_NULL else "M"
        hunks = []
        for index, hunk in enumerate(patched):
            lines = tuple(
                DiffLine(
                    str(line.line_type),
                    str(line.value).rstrip("\r\n"),
                    line.source_line_no,
                    line.target_line_no,
                )
                for line in hunk
                if line.line_type in ("+", "-", " ")
            )
            hunks.append(Hunk(index, int(hunk.source_start), int(hunk.target_start), lines))
        files.append(FileDiff(str(patched.path), status, tuple(hunks), bool(patched.is_binary_file)))
    return files


def empty_tree(repo: Path) -> str:
    """The id of the empty tree in this repository's hash format (SHA-1 or SHA-256)."""
    return git.run(repo, "hash-object", "-t", "tree", "/dev/null").decode().strip()


def load_diff(repo: Path, base: str | None, index: git.PrivateIndex | None = None) -> list[FileDiff]:
    """The work tree's changes against `base` (None: against nothing, so every file is added)."""
    rev = base if base and base != git.ZERO_SHA else empty_tree(repo)
    return parse_diff(git.worktree_diff(repo, rev, index=index))


def diff_rev(ctx: GateContext) -> str:
    """What the gates diff against: ctx.base, or the empty tree without one (every file is added)."""
    if ctx.base and ctx.base != git.ZERO_SHA:
        return ctx.base
    return ctx.share.scope.once(("empty-tree", str(ctx.repo)), lambda: empty_tree(ctx.repo))


def shared_diff_text(ctx: GateContext) -> str:
    """The work tree's unified diff against diff_rev(ctx), computed once per gate run through the
    run's one private index, and shared by every gate that reads it (security, the owner findings
    of fastapi_auth, guard): the sandbox cannot write the work tree, so it holds still meanwhile."""
    rev = diff_rev(ctx)
    return ctx.share.scope.once(
        ("diff-text", str(ctx.repo), rev),
        lambda: git.worktree_diff(ctx.repo, rev, index=ctx.share.private_index(ctx.repo)),
    )


def shared_diff(ctx: GateContext) -> list[FileDiff]:
    """load_diff(ctx.repo, ctx.base) from the shared diff, parsed once per gate run."""
    text = shared_diff_text(ctx)
    files: list[FileDiff] = ctx.share.scope.once(
        ("diff", str(ctx.repo), diff_rev(ctx)), lambda: parse_diff(text)
    )
    return list(files)


def base_source(ctx: GateContext, files: list[FileDiff], rev: str, path: str) -> bytes | None:
    """The bytes of `path` at `rev`; the blobs of every changed file are read in one batch per gate run."""
    blobs: dict[str, bytes | None] = ctx.share.scope.once(
        ("blobs", str(ctx.repo), rev), lambda: git.show_files(ctx.repo, rev, [fd.path for fd in files])
    )
    return blobs[path] if path in blobs else git.show_file(ctx.repo, rev, path)


_TEST_DIRS = frozenset({"tests", "test", "testing"})


def is_test_file(path: str) -> bool:
    """Test code by pytest's conventions: tests/ folders, test_*.py, *_test.py and conftest.py."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    if not name.endswith(".py"):
        return False
    in_tests = any(part.lower() in _TEST_DIRS for part in parts[:-1])
    return in_tests or name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
