"""The fixed pytest command line: model-supplied node ids are checked and only ever follow `--`."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path


class ArgvRefused(ValueError):
    """A model-supplied argument was refused; the message says why."""


# A path, then optional ::Class::test parts, then an optional [parametrization] of any text.
_NODE_ID = re.compile(
    r"[A-Za-z0-9_][A-Za-z0-9_./-]*"
    r"(?:(?:::[A-Za-z_][A-Za-z0-9_]*)+(?:\[[^\x00\r\n]*\])?)?",
)


MAX_NODE_IDS = 200


def check_node_id(node_id: str) -> str:
    """Return `node_id` when it is a plain pytest node id; ArgvRefused says why it is not."""
    if not isinstance(node_id, str) or not node_id:
        raise ArgvRefused("a test node id must be a non-empty string")
    path = node_id.split("::", 1)[0]
    fixed = "the pytest options are fixed by Specship; pass only node ids"
    if "\x00" in node_id:
        raise ArgvRefused(f"{node_id!r} contains a NUL byte")
    if node_id.startswith("-"):
        raise ArgvRefused(f"{node_id!r} looks like a pytest option: {fixed}")
    if "=" in path:
        raise ArgvRefused(f"{node_id!r} looks like an option value (it has '='): {fixed}")
    if len(node_id) > 1000 or not _NODE_ID.fullmatch(node_id):
        example = "tests/test_x.py::test_y[param]"
        raise ArgvRefused(f"{node_id!r} is not a test node id such as {example!r}")
    if ".." in path.split("/"):
        raise ArgvRefused(f"{node_id!r} leaves the repository: use a path from the project root")
    return node_id


def pytest_argv(
    node_ids: Sequence[str],
    junit_xml: Path,
    python: str = sys.executable,
) -> list[str]:
    """The fixed pytest command line; model-supplied node ids only ever follow `--`."""
    if isinstance(node_ids, str):
        raise TypeError("node_ids must be a sequence of node ids, not one string")
    if len(node_ids) > MAX_NODE_IDS:
        raise ArgvRefused(f"at most {MAX_NODE_IDS} node ids per run")
    ids = [check_node_id(n) for n in node_ids]
    return [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--junitxml={junit_xml}", "--", *ids]  # fmt: skip
