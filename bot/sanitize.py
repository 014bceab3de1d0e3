"""Untrusted text (issues, comments, review bodies) made safe to show the model: hidden content removed."""

from __future__ import annotations

import re

from bot.redact import Redactor

_HTML_COMMENT = re.compile(r"<!--[\s\S]*?(?:-->|$)")
# zero-width and format characters, C0/C1 controls (but not tab/newline), soft hyphen, bidi controls
_INVISIBLE = re.compile(
    "[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f"
    "\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
_IMAGE_ALT = re.compile(r"!\[[^\]]*\]\(")
_LINK_TITLE = re.compile(r"(\[[^\]]*\]\([^)\s]+)\s+(?:\"[^\"]*\"|'[^']*')")
_HIDDEN_ATTR = re.compile(
    r"""(<[^>]*?)\s+(?:alt|title|aria-label|placeholder|data-[\w-]+)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""",
    re.IGNORECASE,
)
_DEC_ENTITY = re.compile(r"&#(\d{1,7});")
_HEX_ENTITY = re.compile(r"&#[xX]([0-9a-fA-F]{1,6});")
_DELIMITER = re.compile(r"</?\s*untrusted-data[^>]*>", re.IGNORECASE)


def _printable_entity(code: int) -> str:
    # Numeric entities are a classic way to spell instructions past a reviewer; keep only plain ASCII.
    return chr(code) if 32 <= code <= 126 else ""


def sanitize(text: str, redactor: Redactor | None = None) -> str:
    """Remove what a human reviewer would not see, and anything that could close our data block."""
    text = _HTML_COMMENT.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = _IMAGE_ALT.sub("![](", text)
    text = _LINK_TITLE.sub(r"\1", text)
    previous = None
    while previous != text:
        previous = text
        text = _HIDDEN_ATTR.sub(r"\1", text)
    text = _DEC_ENTITY.sub(lambda m: _printable_entity(int(m.group(1))), text)
    text = _HEX_ENTITY.sub(lambda m: _printable_entity(int(m.group(1), 16)), text)
    text = _DELIMITER.sub("[data-delimiter removed]", text)
    return (redactor or Redactor())(text).strip()
