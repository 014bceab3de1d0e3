"""Evidence the harness derives from the change itself: per-file patches, status codes, env reads, cites."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.gates.diffs import file_sections

SourceReader = Callable[[str], "str | None"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class FilePatch:
    """One file's part of a unified diff, with the added lines by their number in the new file."""

    path: str
    text: str
    status: str
    added: dict[int, str] = field(default_factory=dict, compare=False)
    removed: int = 0


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of unusual paths."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        raw = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        return raw.encode("latin-1", "replace").decode("utf-8", "replace")
    return name


def _header_path(header: str, old: str | None, new: str | None) -> str:
    """The path of a `diff --git X Y` header (no renames: X and Y name the same file)."""
    middle = (len(header) - 1) // 2
    if len(header) % 2 == 1 and header[middle] == " ":
        left, right = header[:middle], header[middle + 1 :]
        if left == right:
            return left
        if left[1:2] == right[1:2] == "/" and left[2:] == right[2:]:
            return left[2:]
    for side in (new, old):
        if side and side != "/dev/null":
            name = _unquote(side.rstrip("\t"))
            return name[2:] if name[1:2] == "/" else name
    return _unquote(header.split(" ", 1)[0])[2:]


def split_diff(diff_text: str) -> dict[str, FilePatch]:
    """Split a unified git diff into per-file patches (in diff order), keyed by path."""
    patches: dict[str, FilePatch] = {}
    for chunk in file_sections(diff_text):
        patch = _parse_patch(chunk)
        patches[patch.path] = patch
    return patches


def _parse_patch(chunk: str) -> FilePatch:
    lines = chunk.split("\n")
    status, old, new = "M", None, None
    added: dict[int, str] = {}
    number, removed, in_hunk = 0, 0, False
    for line in lines[1:]:
        hunk = _HUNK.match(line) if line.startswith("@@") else None
        if hunk:
            number, in_hunk = int(hunk.group(1)), True
        elif not in_hunk:
            if line.startswith("new file mode"):
                status = "A"
            elif line.startswith("deleted file mode"):
                status = "D"
            elif line.startswith("--- "):
                old = line[4:]
            elif line.startswith("+++ "):
                new = line[4:]
        elif line.startswith("+"):
            added[number] = line[1:]
            number += 1
        elif line.startswith(" "):
            number += 1
        elif line.startswith("-"):
            removed += 1
    path = _header_path(lines[0][len("diff --git ") :], old, new)
    return FilePatch(path, chunk, status, added, removed)


def is_test_file(path: str) -> bool:
    """True for test modules and fixtures (their status codes are assertions, not behaviour)."""
    parts = path.split("/")
    name = parts[-1]
    return bool({"tests", "test"} & set(parts[:-1])) or name.startswith("test_") or name == "conftest.py"


_ENV_LINE = re.compile(r"^\s*#?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", re.MULTILINE)


def env_example_names(text: str) -> set[str]:
    """Variable names a .env.example documents (`NAME=`, `export NAME=`, or commented `# NAME=`)."""
    return {m.group(1).upper() for m in _ENV_LINE.finditer(text)}
