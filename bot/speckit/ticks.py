"""Ticking tasks in tasks.md bytes: only the checkbox character changes, every other byte stays."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.speckit.tasks import TASK_RE, parse_tasks

_LINE_END = re.compile(rb"\r\n|\r|\n")


def _lines(data: bytes) -> list[tuple[int, int]]:
    """(start, end) byte offsets of each line's content, split exactly as the Markdown reader
    splits (CRLF, CR, LF), so line N here is line N of the parsed Tasks."""
    spans, start = [], 0
    for match in _LINE_END.finditer(data):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(data)))
    return spans


def _checkbox_offsets(data: bytes) -> dict[str, tuple[int, bool]]:
    """Task id -> (byte offset of its checkbox character, done) for real tasks only."""
    tasks = parse_tasks(data)
    spans = _lines(data)
    offsets: dict[str, tuple[int, bool]] = {}
    for task in tasks.all:
        start, end = spans[task.line - 1]
        # surrogateescape keeps a 1:1 byte mapping even for invalid UTF-8 on the line.
        text = data[start:end].decode("utf-8", "surrogateescape")
        if task.line == 1 and text.startswith("\ufeff"):
            text, start = text[1:], start + 3
        match = TASK_RE.match(text)
        if match is not None:
            prefix = text[: match.start(1)].encode("utf-8", "surrogateescape")
            offsets[task.id] = (start + len(prefix), task.done)
    return offsets


def tick_tasks(text: bytes, ids: Iterable[str]) -> bytes:
    """Mark the given open tasks done (`[X]`); ids that are unknown or already done are ignored."""
    wanted = set(ids)
    out = bytearray(text)
    for task_id, (offset, done) in _checkbox_offsets(text).items():
        if task_id in wanted and not done:
            out[offset] = ord("X")
    return bytes(out)


def untick_all(text: bytes) -> bytes:
    """Every task's checkbox set to a space: two versions that differ only by ticks become equal."""
    out = bytearray(text)
    for offset, _ in _checkbox_offsets(text).values():
        out[offset] = ord(" ")
    return bytes(out)
