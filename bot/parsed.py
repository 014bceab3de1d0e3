"""Python sources parsed once per process: the gates and the PR body read the same changed files."""

from __future__ import annotations

import ast
import functools
import re

# PEP 263: a coding declaration on the first or second line
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.M)


def parse(source: str | bytes, filename: str = "<unknown>") -> ast.Module:
    """ast.parse(source), the same tree for the same text: shared, so never to be changed.

    Raises what ast.parse raises (SyntaxError, ValueError, RecursionError), naming `filename`;
    only trees are kept."""
    if isinstance(source, bytes):
        text = _utf8(source)
        if text is None:  # another encoding: parsed as the bytes it is, and not kept
            return ast.parse(source, filename=filename)
        source = text
    try:
        return _parse(source)
    except SyntaxError as exc:
        exc.filename = filename
        raise


def _utf8(data: bytes) -> str | None:
    """The text ast.parse reads from `data` when that is plain UTF-8 (a BOM is not text); None
    when the file declares an encoding or is not UTF-8."""
    if _COOKIE.search(b"\n".join(data[:4096].split(b"\n", 2)[:2])):
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


@functools.lru_cache(maxsize=128)
def _parse(source: str) -> ast.Module:
    return ast.parse(source)
