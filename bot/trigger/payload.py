"""Typed access to a webhook payload: each field checked, a FatalError naming it when it is not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from bot.exceptions import FatalError

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")

PAYLOAD_FIX = (
    "Specship reads the webhook payload GitHub writes to GITHUB_EVENT_PATH; when you replay an "
    "event by hand, pass the complete payload GitHub sent for that event, unchanged."
)


def safe(value: str, limit: int = 60) -> str:
    """An untrusted name for logs: repr-escaped (controls, bidi, zero-width) and truncated."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value)} chars)"


# ---- typed access to the payload ------------------------------------------------------------

T = TypeVar("T")
_KIND_NAMES: dict[type, str] = {
    int: "an integer",
    str: "a string",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
}


def json_kind(value: object) -> str:
    if value is None:
        return "null"
    for kind in (bool, int, float, str, list, dict):
        if isinstance(value, kind):
            return _KIND_NAMES.get(kind, "a number")
    return type(value).__name__


def _lookup(data: Mapping[str, Any], path: str, event: str) -> tuple[bool, object]:
    node: object = data
    walked: list[str] = []
    for key in path.split("."):
        if not isinstance(node, Mapping):
            where = ".".join(walked)
            raise FatalError(
                f"{where} in the {event} event payload is {json_kind(node)}, expected an object.",
                PAYLOAD_FIX,
            )
        walked.append(key)
        if key not in node:
            return False, None
        node = node[key]
    return True, node


def checked(value: object, kind: type[T], name: str, event: str) -> T:
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise FatalError(
        f"{name} in the {event} event payload is {json_kind(value)}, "
        f"expected {_KIND_NAMES.get(kind, kind.__name__)}.",
        PAYLOAD_FIX,
    )


def required(data: Mapping[str, Any], path: str, kind: type[T], event: str, root: str = "") -> T:
    """The value at dotted `path`; a FatalError naming the path when it is missing or mistyped."""
    name = f"{root}.{path}" if root else path
    found, value = _lookup(data, path, event)
    if not found:
        raise FatalError(f"{name} missing in the {event} event payload.", PAYLOAD_FIX)
    return checked(value, kind, name, event)


def optional(data: Mapping[str, Any], path: str, kind: type[T], event: str, root: str = "") -> T | None:
    """Like required, but None when the field is missing or null."""
    found, value = _lookup(data, path, event)
    if not found or value is None:
        return None
    return checked(value, kind, f"{root}.{path}" if root else path, event)


def sha(data: Mapping[str, Any], path: str, event: str) -> str:
    value = required(data, path, str, event)
    if not _SHA.fullmatch(value):
        raise FatalError(
            f"{path} in the {event} event payload is {safe(value, 80)}, not a commit SHA.",
            PAYLOAD_FIX,
        )
    return value
