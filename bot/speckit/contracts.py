"""OpenAPI/Swagger files under contracts/: operations with parameters and fields, and their diff."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.speckit.markdown import decode
from bot.speckit.model import Problem
from bot.yaml_loader import SAFE_LOADER, construct

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TOP_KEY = re.compile(r"""^["']?(openapi|swagger)["']?\s*:""", re.M)
_MAX_DEPTH = 12
_MAX_FIELDS = 5000


@dataclass(frozen=True)
class Operation:
    """One method on one path: parameters, request fields and response fields by status.

    Field maps go from a dotted name (`items[].due_date`) to a type summary such as
    `string|null (date), required`."""

    method: str
    path: str
    line: int | None
    parameters: Mapping[str, str]
    request: Mapping[str, str]
    responses: Mapping[str, Mapping[str, str]]

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True)
class Contract:
    """An OpenAPI (or Swagger 2) document found under a feature's contracts/ folder."""

    path: str
    kind: str
    version: str
    operations: tuple[Operation, ...]
    document: Mapping[str, Any] = field(repr=False, default_factory=dict)
    problems: tuple[Problem, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(op.path for op in self.operations))

    def operation(self, method: str, path: str) -> Operation | None:
        return next((o for o in self.operations if o.key == f"{method.upper()} {path}"), None)


@dataclass(frozen=True)
class ContractChange:
    """One difference between two versions of a contract file."""

    change: str
    aspect: str
    target: str
    name: str
    before: str | None = None
    after: str | None = None
    file: str = ""
    line: int | None = None

    def __str__(self) -> str:
        values = {"added": self.after, "removed": self.before}
        detail = values.get(self.change) or f"{self.before} → {self.after}"
        where = f" of {self.target}" if self.target and self.target != self.name else ""
        return f"{self.change} {self.aspect} {self.name}{where}: {detail}"


def parse_contract(data: bytes | str, path: str) -> Contract | None:
    """The contract in a file, or None when the file is not OpenAPI/Swagger (rule 13)."""
    text = decode(data)
    problems: list[Problem] = []
    root: Any = None
    try:
        if path.lower().endswith(".json"):
            loaded = json.loads(text)
        else:
            loaded, root = _load_yaml(text)
    except Exception as exc:  # yaml/json raise many types on hostile text (ValueError for bad dates)
        if not _TOP_KEY.search(text):
            return None
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        what = f"the OpenAPI file cannot be parsed ({type(exc).__name__})"
        problems.append(Problem(path, line + 1 if line is not None else None, what, _FIX, "contract"))
        return Contract(path, "openapi", "", (), {}, tuple(problems))
    if not isinstance(loaded, dict):
        return None
    keys = {str(k) for k in loaded}
    kind = "openapi" if "openapi" in keys else "swagger" if "swagger" in keys else ""
    if not kind:
        return None
    info = loaded.get("info")
    version = str(info.get("version", "")) if isinstance(info, dict) else ""
    operations = _operations(loaded, _operation_lines(root), problems, path)
    return Contract(path, kind, version, operations, loaded, tuple(problems))


_FIX = "fix the YAML/JSON syntax (validate it with openapi-spec-validator)"


def _load_yaml(text: str) -> tuple[Any, Any]:
    """The document and its node tree (for line numbers) from one parse."""
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        return (construct(loader, node) if node is not None else None), node
    finally:
        loader.dispose()


def _operation_lines(root: Any) -> dict[tuple[str, str], int]:
    """(path, method) -> 1-based line, best effort from the YAML node tree (None for JSON)."""
    lines: dict[tuple[str, str], int] = {}
    for key, value in _pairs(root):
        if key.value != "paths":
            continue
        for path_key, item in _pairs(value):
            for method_key, _ in _pairs(item):
                lines[(str(path_key.value), str(method_key.value).lower())] = method_key.start_mark.line + 1
    return lines


def _pairs(node: Any) -> list[tuple[Any, Any]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]


class _Resolver:
    """Local `$ref` resolution (`#/components/…`, `#/definitions/…`) with a budget."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.budget = _MAX_FIELDS

    def resolve(self, node: Any, chain: tuple[str, ...] = ()) -> tuple[Any, tuple[str, ...]]:
        seen = chain
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen or len(seen) > _MAX_DEPTH:
                return {"type": f"$ref {ref}"}, seen
            seen = (*seen, ref)
            node = self._pointer(ref)
        return node, seen

    def _pointer(self, ref: str) -> Any:
        node: Any = self.document
        for raw in ref[2:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
        return node


def _operations(
    document: dict[Any, Any], lines: dict[tuple[str, str], int], problems: list[Problem], file: str
) -> tuple[Operation, ...]:
    resolver = _Resolver(document)
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return ()
    found = []
    for route, raw_item in paths.items():
        item, _ = resolver.resolve(raw_item)
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters")
        for key, op in item.items():
            method = str(key).lower()
            if method not in METHODS or not isinstance(op, dict):
                continue
            params = _parameters(resolver, shared, op.get("parameters"))
            request = _request(resolver, op)
            responses = _responses(resolver, op.get("responses"))
            line = lines.get((str(route), method))
            found.append(Operation(method, str(route), line, params, request, responses))
    if resolver.budget <= 0:
        what = "the contract's schemas are too large or too deeply nested to compare fully"
        problems.append(Problem(file, None, what, "split or simplify the schemas", "contract"))
    return tuple(found)


def _parameters(resolver: _Resolver, *groups: Any) -> dict[str, str]:
    params: dict[str, str] = {}
    for group in groups:
        for raw in group if isinstance(group, list) else []:
            param, chain = resolver.resolve(raw)
            if not isinstance(param, dict) or param.get("in") == "body":
                continue
            schema = param.get("schema", param)
            summary = _type(resolver, schema, chain)
            if param.get("required"):
                summary += ", required"
            params[f"{param.get('in', '?')} {param.get('name', '?')}"] = summary
    return params


def _request(resolver: _Resolver, op: dict[Any, Any]) -> dict[str, str]:
    body, chain = resolver.resolve(op.get("requestBody"))
    if isinstance(body, dict):
        return _media_fields(resolver, body.get("content"), chain)
    raw_params = op.get("parameters")
    for raw in raw_params if isinstance(raw_params, list) else []:
        param, chain = resolver.resolve(raw)
        if isinstance(param, dict) and param.get("in") == "body":
            return _fields(resolver, param.get("schema"), "", chain, 0)
    return {}


def _responses(resolver: _Resolver, responses: Any) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for status, raw in responses.items() if isinstance(responses, dict) else []:
        response, chain = resolver.resolve(raw)
        if not isinstance(response, dict):
            result[str(status)] = {}
        elif "content" in response:
            result[str(status)] = _media_fields(resolver, response.get("content"), chain)
        else:
            result[str(status)] = _fields(resolver, response.get("schema"), "", chain, 0)
    return result


def _media_fields(resolver: _Resolver, content: Any, chain: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(content, dict) or not content:
        return {}
    media = next((k for k in content if "json" in str(k)), next(iter(content)))
    entry = content.get(media)
    return _fields(resolver, entry.get("schema") if isinstance(entry, dict) else None, "", chain, 0)


def _type(resolver: _Resolver, raw: Any, chain: tuple[str, ...]) -> str:
    schema, _ = resolver.resolve(raw, chain)
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type")
    names = [str(k) for k in kind] if isinstance(kind, list) else [str(kind)] if kind else []
    if not names:
        combo = next((k for k in ("allOf", "anyOf", "oneOf") if k in schema), None)
        names = [combo] if combo else ["object" if "properties" in schema else "any"]
    if schema.get("nullable") is True and "null" not in names:
        names.append("null")
    summary = "|".join(names)
    if schema.get("format"):
        summary += f" ({schema['format']})"
    if isinstance(schema.get("enum"), list):
        summary += " enum[" + ",".join(str(v) for v in schema["enum"]) + "]"
    return summary


def _fields(resolver: _Resolver, raw: Any, prefix: str, chain: tuple[str, ...], depth: int) -> dict[str, str]:
    """Flatten a schema's properties to dotted names; arrays add `[]`, allOf merges."""
    schema, chain = resolver.resolve(raw, chain)
    if not isinstance(schema, dict) or depth > _MAX_DEPTH or resolver.budget <= 0:
        return {}
    out: dict[str, str] = {}
    parts = schema.get("allOf")
    for part in parts if isinstance(parts, list) else []:
        out.update(_fields(resolver, part, prefix, chain, depth + 1))
    items = schema.get("items")
    if items is not None and not isinstance(schema.get("properties"), dict):
        return out | _fields(resolver, items, f"{prefix.removesuffix('.')}[].", chain, depth + 1)
    properties = schema.get("properties")
    listed = schema.get("required")
    required: list[Any] = listed if isinstance(listed, list) else []
    for name, sub in properties.items() if isinstance(properties, dict) else []:
        resolver.budget -= 1
        if resolver.budget <= 0:
            break
        key = f"{prefix}{name}"
        out[key] = _type(resolver, sub, chain) + (", required" if name in required else "")
        out.update(_fields(resolver, sub, f"{key}.", chain, depth + 1))
    return out


def diff_contracts(
    before: Contract | None, after: Contract | None, file: str = ""
) -> tuple[ContractChange, ...]:
    """Paths, operations, status codes, parameters and request/response fields that changed."""
    old = {op.key: op for op in (before.operations if before else ())}
    new = {op.key: op for op in (after.operations if after else ())}
    file = file or (after.path if after else before.path if before else "")
    changes: list[ContractChange] = []
    if before and after and before.version != after.version:
        changes.append(
            ContractChange("changed", "version", "", "info.version", before.version, after.version)
        )
    old_paths = {op.path for op in old.values()}
    new_paths = {op.path for op in new.values()}
    for path in sorted(new_paths - old_paths):
        changes.append(ContractChange("added", "path", path, path, None, path))
    for path in sorted(old_paths - new_paths):
        changes.append(ContractChange("removed", "path", path, path, path, None))
    for key in sorted(new.keys() - old.keys()):
        changes.append(ContractChange("added", "operation", key, key, None, key))
    for key in sorted(old.keys() - new.keys()):
        changes.append(ContractChange("removed", "operation", key, key, key, None))
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        changes += _map_diff("status", key, dict.fromkeys(a.responses, ""), dict.fromkeys(b.responses, ""))
        changes += _map_diff("parameter", key, a.parameters, b.parameters)
        changes += _map_diff("request field", key, a.request, b.request)
        for status in sorted(a.responses.keys() & b.responses.keys()):
            where = f"{key} {status}"
            changes += _map_diff("response field", where, a.responses[status], b.responses[status])
    lines = {op.key: op.line for op in (*old.values(), *new.values())}
    return tuple(
        ContractChange(
            c.change, c.aspect, c.target, c.name, c.before, c.after, file, lines.get(_op_key(c.target))
        )
        for c in changes
    )


def _op_key(target: str) -> str:
    """`GET /x 200` -> `GET /x`: the operation a change belongs to."""
    return " ".join(target.split(" ")[:2])


def _map_diff(
    aspect: str, target: str, before: Mapping[str, str], after: Mapping[str, str]
) -> list[ContractChange]:
    out = [ContractChange("added", aspect, target, k, None, after[k] or k) for k in after if k not in before]
    out += [
        ContractChange("removed", aspect, target, k, before[k] or k, None) for k in before if k not in after
    ]
    out += [
        ContractChange("changed", aspect, target, k, before[k], after[k])
        for k in before
        if k in after and before[k] != after[k]
    ]
    return out
