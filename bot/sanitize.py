"""Untrusted text (issues, comments, review bodies) made safe to show the model: hidden content removed."""

from __future__ import annotations

import re

from bot.redact import Redactor

_HTML_COMMENT = re.compile(r"<!--[\s\S]*?(?:-->|$)")
# A Markdown link reference definition renders as nothing, and `[//]: # (...)` is the usual way to
# hide a comment in Markdown: every definition line goes, with a title on the next line too.
_REFERENCE_DEFINITION = re.compile(
    r"""^(?:[ ]{0,3}>[ ]?)*[ ]{0,3}\[(?:[^\]\\\n]|\\.){1,999}\]:[ \t]*(?:<[^>\n]*>|\S+)"""
    r"""(?:[ \t]*\n?[ \t]*(?:"[^"]*"|'[^']*'|\([^)]*\)))?[ \t]*$\n?""",
    re.MULTILINE,
)
# Characters a reader does not see: zero-width and other format characters, C0/C1 controls (but
# not tab/newline), soft hyphen, bidi controls and isolates, Unicode tag characters (which can
# spell a whole hidden ASCII text), variation selectors, invisible operators, interlinear
# annotation marks, Hangul and Khmer fillers.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad\u180b-\u180f\u034f"
    "\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u115f\u1160\u17b4\u17b5"
    "\u3164\uffa0\ufff9-\ufffb\ufe00-\ufe0f"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef\U0001d173-\U0001d17a\U0001bca0-\U0001bca3]"
)
_SEPARATORS = re.compile("[\u2028\u2029\u0085]")  # line breaks in disguise: made plain newlines
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
    # Invisible characters first: a tag or zero-width character inside `<!-` would hide a comment.
    text = _SEPARATORS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    text = _REFERENCE_DEFINITION.sub("", text)
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
