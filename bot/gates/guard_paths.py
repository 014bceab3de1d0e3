"""Paths Specship may not change (specs/, git files, workflows, configured globs), and task ticks."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from bot.gates import Finding, GateContext
from bot.gates.diffs import FileDiff

_PROTECTED_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("specs",), "specs/ is read-only: Specship never edits specifications"),
    ((".specify",), ".specify/ is read-only: the constitution and Spec Kit files belong to the humans"),
    ((".github", "workflows"), ".github/workflows/ is read-only: workflow changes need a human reviewer"),
    (
        (".github", "actions"),
        ".github/actions/ is read-only: workflows run these with the repository's token",
    ),
)


_GIT_FILE_OK = frozenset({".github", ".gitkeep"})


def protected_reason(path: str, protected_globs: Iterable[str] = (), config_file: str = "") -> str | None:
    """Why `path` may not be changed by Specship, or None when it may."""
    parts = path.split("/")
    lower = [p.lower() for p in parts]
    for prefix, message in _PROTECTED_PREFIXES:
        if tuple(lower[: len(prefix)]) == prefix:
            return message
    for part in lower:
        if part.startswith(".git") and part not in _GIT_FILE_OK:
            return (
                f"{part} is read-only: git configuration files (.gitignore, .gitattributes, ...) need a human"
            )
    if config_file and path == config_file.strip("/"):
        return "Specship's own configuration is read-only"
    for pattern in (g.strip().strip("/") for g in protected_globs):
        if pattern and any(
            fnmatch.fnmatchcase("/".join(parts[:end]), pattern) for end in range(1, len(parts) + 1)
        ):
            return f"it matches the protected path {pattern!r} in the Specship configuration"
    return None


_TICK = re.compile(r"^(\s*[-*]\s+\[)[ xX](\].*)$")


def only_ticks(fd: FileDiff) -> bool:
    """A tasks.md change that only flips checkboxes: Specship's own bookkeeping, not an edit."""
    if fd.status != "M" or not fd.path.endswith("/tasks.md"):
        return False
    for hunk in fd.hunks:
        removed, added = hunk.removed, hunk.added
        if len(removed) != len(added):
            return False
        for old, new in zip(removed, added, strict=True):
            a, b = _TICK.match(old.text), _TICK.match(new.text)
            if not (a and b and a.groups() == b.groups()):
                return False
    return True


def protected_findings(files: list[FileDiff], ctx: GateContext) -> list[Finding]:
    findings = []
    for fd in files:
        reason = protected_reason(fd.path, ctx.settings.protected_globs, ctx.settings.config_file)
        if reason and not only_ticks(fd):
            verb = {"A": "added", "D": "deleted"}.get(fd.status, "changed")
            findings.append(
                Finding(f"{fd.path} {verb}: {reason}", fd.path, fd.first_line(), rule="protected-path")
            )
    return findings
