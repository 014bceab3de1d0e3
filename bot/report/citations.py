"""`cite start:end:path` references checked against the base commit and rendered as permalinks."""

from __future__ import annotations

import re
import urllib.parse

from bot.report.evidence import SourceReader

_CITE = re.compile(
    r"(\(\s*)?`?(?:【\s*)?\bcite\s+(\d+)\s*[:-]\s*(\d+)\s*:\s*([A-Za-z0-9_.\-/]*[A-Za-z0-9_])"
    r"(?:\s*】)?`?(\s*\))?"
)


class Citer:
    """Checks `cite start:end:path` references against the base commit and renders them as permalinks."""

    def __init__(self, read_base: SourceReader | None, repo_url: str | None, base_sha: str) -> None:
        self._read = read_base
        self._repo_url = repo_url.rstrip("/") if repo_url else None
        self._base = base_sha
        self._lines: dict[str, int | None] = {}
        self.notes: list[str] = []
        self.checked: dict[str, bool] = {}  # "start:end:path" -> whether it points at real base lines

    def __call__(self, text: str) -> str:
        text = re.sub(r"  +", " ", _CITE.sub(self._one, text)).strip()
        return re.sub(r" +([.,;:])", r"\1", text)

    def _line_count(self, path: str) -> int | None:
        if path not in self._lines:
            source = self._read(path) if self._read else None
            self._lines[path] = None if source is None else len(source.splitlines())
        return self._lines[path]

    def problem(self, start: int, end: int, path: str) -> str | None:
        """Why a citation is wrong, or None when it points at real lines of the base commit."""
        if path.startswith("/") or ".." in path.split("/"):
            return "the path leaves the repository"
        if self._read is None:
            return "it could not be checked (no base commit to read)"
        if start < 1 or end < start:
            return "the line range is empty"
        count = self._line_count(path)
        if count is None:
            return f"{path} does not exist at the base commit {self._base[:7]}"
        if end > count:
            return f"{path} has {count} lines at the base commit {self._base[:7]}"
        return None

    def _one(self, match: re.Match[str]) -> str:
        opening, closing = match.group(1) or "", match.group(5) or ""
        start, end, path = int(match.group(2)), int(match.group(3)), match.group(4).removeprefix("./")
        why = self.problem(start, end, path)
        self.checked[f"{start}:{end}:{path}"] = why is None
        if why:
            note = f"dropped the citation `{start}:{end}:{path}`: {why}."
            if note not in self.notes:
                self.notes.append(note)
            # "(cite …)" goes away whole; a lone bracket belongs to the surrounding text
            return "" if opening and closing else opening + closing
        anchor = f"L{start}" if start == end else f"L{start}-L{end}"
        link = f"`{path}#{anchor}`"
        if self._repo_url and self._base:
            link = f"[{link}]({self._repo_url}/blob/{self._base}/{urllib.parse.quote(path)}#{anchor})"
        return f"{opening}{link}{closing}"
