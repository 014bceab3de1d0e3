"""Add operations to tests/fixtures/github/rest-api-subset.json from GitHub's full OpenAPI description.

Usage: python tools/extend_openapi_subset.py <api.github.com.json> "METHOD /path" ...

The input is `generated/api.github.com.json` of the npm package @octokit/openapi (the file the
subset was first cut from; see tests/fixtures/github/SOURCES.md). Each operation is copied with
its `x-octokit` object stripped, and every component it references (the transitive `$ref`
closure) is added. A component the subset already holds must be identical in the input, so the
subset never mixes two versions of one schema; the two operations restored from GitHub's
upstream text (see SOURCES.md) are never touched. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

SUBSET = Path(__file__).resolve().parent.parent / "tests/fixtures/github/rest-api-subset.json"
METHODS = ("get", "post", "put", "patch", "delete")


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k != "x-octokit"}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _component(doc: dict[str, Any], ref: str) -> tuple[str, str, Any]:
    _, _, kind, name = ref.split("/", 3)
    return kind, name, doc["components"][kind][name]


def extend(subset: dict[str, Any], full: dict[str, Any], operations: list[str]) -> list[str]:
    """Copy the operations and their component closure into subset; the operations added."""
    added = []
    pending: set[str] = set()
    for operation in operations:
        method, path = operation.split(" ", 1)
        op = _strip(full["paths"][path][method.lower()])
        item = subset["paths"].setdefault(path, {})
        if method.lower() in item:
            if item[method.lower()] != op:
                raise SystemExit(f"{operation} is in the subset with other content")
            continue
        item[method.lower()] = op
        for key, value in full["paths"][path].items():  # path-level parameters
            if key not in METHODS:
                item.setdefault(key, _strip(value))
        pending |= _refs(op)
        added.append(operation)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        kind, name, value = _component(full, ref)
        value = _strip(value)
        have = subset["components"].setdefault(kind, {})
        if name in have:
            if have[name] != value:
                raise SystemExit(f"component {kind}/{name} differs between the subset and the input")
        else:
            have[name] = value
        pending |= _refs(value) - seen
    return added


def main(argv: list[str]) -> int:
    source = Path(argv[1])
    raw = source.read_bytes()
    full = json.loads(raw)
    subset = json.loads(SUBSET.read_text(encoding="utf-8"))
    added = extend(subset, full, argv[2:])
    info = subset["info"]["x-subset-source"]
    if hashlib.sha256(raw).hexdigest() != info["sha256"]:
        raise SystemExit("the input is not the file the subset was cut from (sha256 differs)")
    info["operations"] = [*info["operations"], *added]
    SUBSET.write_text(json.dumps(subset, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"added {len(added)} operations: {', '.join(added) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
