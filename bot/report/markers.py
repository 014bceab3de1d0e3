"""The hidden `<!-- specship:{json} -->` marker that makes the bot's edits idempotent."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MARKER_PREFIX = "<!-- specship:"


MARKER_SUFFIX = " -->"


# -- marker ------------------------------------------------------------------------------------------
def render_marker(data: Mapping[str, Any]) -> str:
    """The hidden marker; `<`, `>` and `--` are escaped so no value can close the HTML comment."""
    text = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("--", "-\\u002d")
    return f"{MARKER_PREFIX}{text}{MARKER_SUFFIX}"


_MARKER_RE = re.compile(re.escape(MARKER_PREFIX) + r"(.*?)" + re.escape(MARKER_SUFFIX), re.DOTALL)


def marker_of(body: str) -> dict[str, Any] | None:
    """The data of the body's last marker; None when there is none or it is not a JSON object."""
    found = _MARKER_RE.findall(body or "")
    if not found or len(found[-1]) > 20_000:
        return None
    try:
        data = json.loads(found[-1])
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
