"""OpenAPI documents for the contracts gate: read with line numbers, refs resolved, schemas normalised."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.yaml_loader import SAFE_LOADER

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
MAX_NODES = 200_000
MAX_DEPTH = 16

Pointer = tuple[str | int, ...]


# -- reading contracts with line numbers -----------------------------------------------------------


@dataclass
class Contract:
    """One OpenAPI document: its data and the line (1-based) of every key and list item."""

    path: str
    data: dict[str, Any]
    lines: dict[Pointer, int] = field(default_factory=dict)

    def line(self, ptr: Pointer) -> int:
        """The line of `ptr`, else of its nearest ancestor that has one."""
        while ptr:
            if ptr in self.lines:
                return self.lines[ptr]
            ptr = ptr[:-1]
        return 1


def load_contract(path: str, text: str) -> Contract:
    """Parse YAML or JSON keeping line numbers (via yaml.compose); ValueError with a line on failure."""
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if path.endswith(".json"):
            try:
                data = json.loads(text)
            except ValueError:
                pass
            else:
                return Contract(path, data if isinstance(data, dict) else {})
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ValueError(f"{where}{getattr(exc, 'problem', None) or 'invalid YAML'}") from None
    lines: dict[Pointer, int] = {}
    loader = SAFE_LOADER("")
    count = 0

    def build(n: yaml.Node, ptr: Pointer, depth: int) -> Any:
        nonlocal count
        count += 1
        if count > MAX_NODES or depth > 64:
            raise ValueError("the document is too large or too deeply nested")
        if isinstance(n, yaml.MappingNode):
            loader.flatten_mapping(n)
            out: dict[str, Any] = {}
            for key_node, value_node in n.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else str(count)
                lines[(*ptr, key)] = key_node.start_mark.line + 1
                out[key] = build(value_node, (*ptr, key), depth + 1)
            return out
        if isinstance(n, yaml.SequenceNode):
            items = []
            for index, item in enumerate(n.value):
                lines[(*ptr, index)] = item.start_mark.line + 1
                items.append(build(item, (*ptr, index), depth + 1))
            return items
        try:
            return loader.construct_object(n)
        except yaml.YAMLError:
            return n.value

    data = build(node, (), 0) if node is not None else {}
    return Contract(path, data if isinstance(data, dict) else {}, lines)


def is_openapi(data: dict[str, Any]) -> bool:
    return "openapi" in data or "swagger" in data


# -- schema normalisation ---------------------------------------------------------------------------


def resolve(doc: dict[str, Any], node: Any, ptr: Pointer) -> tuple[Any, Pointer]:
    """Follow local `$ref`s (`#/...`); an unresolvable or external ref comes back as it is."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen or len(seen) > 32:
            return node, ptr
        seen.add(ref)
        parts: list[str | int] = []
        target: Any = doc
        for raw in ref[2:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
                parts.append(part)
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
                parts.append(int(part))
            else:
                return node, ptr
        node, ptr = target, tuple(parts)
    return node, ptr


@dataclass
class Shape:
    """A schema reduced to what the comparison needs; `label` names it for messages (app side)."""

    node: dict[str, Any]
    ptr: Pointer
    label: str
    types: frozenset[str] = frozenset()
    nullable: bool = False
    alternatives: list[Shape] = field(default_factory=list)

    @property
    def is_null(self) -> bool:
        return self.nullable and not self.types and not self.alternatives and "properties" not in self.node

    def all_types(self) -> frozenset[str]:
        if not self.alternatives:
            return self.types
        return frozenset().union(*(a.all_types() for a in self.alternatives))

    def type_text(self) -> str:
        names = sorted(self.all_types()) or ["any"]
        return "|".join(names) + ("|null" if self.nullable else "")


def shape(doc: dict[str, Any], node: Any, ptr: Pointer, label: str, depth: int = 0) -> Shape:
    """Normalise a schema: refs, allOf, anyOf/oneOf with null, `type: [x, "null"]`, `nullable`."""
    node, ptr = resolve(doc, node, ptr)
    if (len(ptr) == 3 and ptr[:2] == ("components", "schemas")) or (
        len(ptr) == 2 and ptr[0] == "definitions"
    ):
        label = f"schema {ptr[-1]}"
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return Shape({}, ptr, label)
    nullable = node.get("nullable") is True or node.get("x-nullable") is True
    all_of = node.get("allOf")
    if isinstance(all_of, list) and all_of:
        parts = [shape(doc, sub, (*ptr, "allOf", i), label, depth + 1) for i, sub in enumerate(all_of)]
        if len(parts) == 1 and "properties" not in node:
            only = parts[0]
            only.nullable = only.nullable or nullable
            return only
        merged: dict[str, Any] = {"properties": {}, "required": []}
        for part in parts:
            merged["properties"].update(part.node.get("properties") or {})
            merged["required"] += list(part.node.get("required") or [])
        merged["properties"].update(node.get("properties") or {})
        merged["required"] += list(node.get("required") or [])
        return Shape(merged, ptr, label, frozenset({"object"}), nullable)
    for key in ("anyOf", "oneOf"):
        alternatives = node.get(key)
        if isinstance(alternatives, list) and alternatives:
            flat = [shape(doc, sub, (*ptr, key, i), label, depth + 1) for i, sub in enumerate(alternatives)]
            real = [s for s in flat if not s.is_null]
            nullable = nullable or any(s.is_null or s.nullable for s in flat)
            if len(real) == 1:
                single = real[0]
                single.nullable = single.nullable or nullable
                return single
            return Shape(node, ptr, label, frozenset(), nullable, real)
    raw = node.get("type")
    types = {raw} if isinstance(raw, str) else {str(t) for t in raw} if isinstance(raw, list) else set()
    if not types:
        if isinstance(node.get("properties"), dict):
            types = {"object"}
        elif "items" in node:
            types = {"array"}
    if "null" in types or (isinstance(node.get("enum"), list) and None in node["enum"]):
        nullable = True
    types.discard("null")
    return Shape(node, ptr, label, frozenset(types), nullable)


def enum_values(node: dict[str, Any]) -> set[str] | None:
    values = node.get("enum")
    if "const" in node:
        values = [node["const"]]
    if not isinstance(values, list):
        return None
    return {json.dumps(v, sort_keys=True, default=str) for v in values if v is not None}


def template(path: str) -> str:
    """A path with its parameter names erased, for matching: /tasks/{id} -> /tasks/{}."""
    return re.sub(r"\{[^}/]*\}", "{}", path.rstrip("/") or "/")
