"""Untrusted text made safe for Markdown: one-line prose, inline code, fences, phrases."""

from __future__ import annotations

import html
import http
import re

from bot.sanitize import sanitize

# -- text helpers ------------------------------------------------------------------------------------
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def prose(value: object, cap: int, cell: bool = False) -> str:
    """Untrusted one-line text: sanitized, capped, no raw HTML outside code spans, safe in a table cell."""
    text = " ".join(sanitize(str(value)).split())
    if len(text) > cap:
        text = text[: cap - 1].rstrip() + "…"
    parts, last = [], 0
    for span in _CODE_SPAN.finditer(text):
        parts += [text[last : span.start()].replace("<", "&lt;"), span.group(0)]
        last = span.end()
    text = "".join([*parts, text[last:].replace("<", "&lt;")])
    if cell:
        text = text.replace("|", "\\|")
    return "\\" + text if text.startswith("#") else text


BREAKS = re.compile(r"[\r\n\t\v\f\x00]+")


def code(text: str, cell: bool = True) -> str:
    """A path or identifier as inline code that its own characters cannot break."""
    text = BREAKS.sub(" ", text)
    out = f"<code>{html.escape(text)}</code>" if "`" in text else f"`{text}`"
    return out.replace("|", "\\|") if cell else out


def one_line(text: str, cap: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= cap else text[: cap - 1] + "…"


def fence_for(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def yes_no(value: object) -> str:
    return "yes" if value is True else "**no**" if value is False else "unknown"


def status_phrase(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)
