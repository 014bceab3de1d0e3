"""Helpers for the contract tests: load the feature's OpenAPI file and compare against it.

The contract is found relative to this file (``<repo>/specs/001-user-tasks/contracts``), so the
suite works wherever the repository is checked out. Only the JSON Schema subset the contract
uses is supported; anything else fails loudly rather than passing silently.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from httpx import Response

REPO_ROOT = Path(__file__).resolve().parents[3]
CONTRACT_PATH = REPO_ROOT / "specs" / "001-user-tasks" / "contracts" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
# Keywords whose values must match when the contract states them.
CONSTRAINT_KEYWORDS = ("minLength", "maxLength", "minimum", "maximum", "minProperties", "enum")

Schema = dict[str, Any]


@lru_cache(maxsize=1)
def load_contract() -> dict[str, Any]:
    """Parse the contract once per test session."""
    document: dict[str, Any] = yaml.safe_load(CONTRACT_PATH.read_text(encoding="utf-8"))
    return document


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` pointers (``#/components/...``) until a concrete node remains."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref pointers are supported, got {ref!r}")
        node = document
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Map ``(METHOD, path)`` to the operation object, for every operation in ``document``."""
    return {
        (method.upper(), path): operation
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def parameters(document: dict[str, Any], path: str, method: str) -> dict[tuple[str, str], Any]:
    """Return the path-level and operation-level parameters, keyed by ``(in, name)``."""
    item = document["paths"][path]
    merged = [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]
    resolved = [resolve(document, p) for p in merged]
    return {(p["in"], p["name"]): p for p in resolved}


def response_schema(document: dict[str, Any], path: str, method: str, status: str) -> Schema | None:
    """Return the JSON body schema of one response, or ``None`` when it has no body."""
    responses = document["paths"][path][method.lower()]["responses"]
    response = resolve(document, responses[status])
    content = response.get("content", {}).get("application/json")
    return None if content is None else content["schema"]


def _view(document: dict[str, Any], schema: Any) -> tuple[Schema, frozenset[str]]:
    """Return a schema with a nullable ``anyOf`` folded into one view, plus its type set.

    ``anyOf: [{type: string, ...}, {type: null}]`` (what Pydantic emits) and
    ``type: [string, "null"]`` (what the contract writes) both become ``{string, null}``.
    """
    schema = resolve(document, schema)
    if "anyOf" not in schema:
        declared = schema.get("type")
        types = (
            frozenset()
            if declared is None
            else frozenset([declared] if isinstance(declared, str) else declared)
        )
        return schema, types
    variants = [_view(document, variant) for variant in schema["anyOf"]]
    types = frozenset().union(*(variant_types for _, variant_types in variants))
    concrete = [view for view, variant_types in variants if variant_types != {"null"}]
    outer = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(concrete) == 1:
        return {**concrete[0], **outer}, types
    return outer, types


def compare_schemas(
    contract: dict[str, Any],
    contract_schema: Any,
    app: dict[str, Any],
    app_schema: Any,
    where: str,
    *,
    exact_properties: bool = True,
) -> list[str]:
    """List every difference in types, formats, constraints, properties and required-ness.

    With ``exact_properties=False`` the app may document extra optional properties (used for
    framework-generated error schemas); the contract's properties must still all be there.
    """
    c_view, c_types = _view(contract, contract_schema)
    a_view, a_types = _view(app, app_schema)
    errors: list[str] = []
    if c_types != a_types:
        errors.append(f"{where}: type {sorted(c_types)} in contract, {sorted(a_types)} in app")
    if c_view.get("format") != a_view.get("format"):
        errors.append(f"{where}: format {c_view.get('format')!r} != {a_view.get('format')!r}")
    errors += [
        f"{where}: {key} {c_view[key]!r} in contract, {a_view.get(key)!r} in app"
        for key in CONSTRAINT_KEYWORDS
        if key in c_view and c_view[key] != a_view.get(key)
    ]
    if "object" in c_types:
        errors += _compare_objects(
            contract, c_view, app, a_view, where, exact_properties=exact_properties
        )
    if "array" in c_types and "items" in c_view:
        errors += compare_schemas(
            contract,
            c_view["items"],
            app,
            a_view.get("items", {}),
            f"{where}[]",
            exact_properties=exact_properties,
        )
    return errors


def _compare_objects(
    contract: dict[str, Any],
    c_view: Schema,
    app: dict[str, Any],
    a_view: Schema,
    where: str,
    *,
    exact_properties: bool,
) -> list[str]:
    """Compare property names, required sets and ``additionalProperties: false``."""
    errors: list[str] = []
    c_props, a_props = c_view.get("properties", {}), a_view.get("properties", {})
    if missing := sorted(set(c_props) - set(a_props)):
        errors.append(f"{where}: properties missing from the app: {missing}")
    if exact_properties and (extra := sorted(set(a_props) - set(c_props))):
        errors.append(f"{where}: properties not in the contract: {extra}")
    c_required, a_required = set(c_view.get("required", [])), set(a_view.get("required", []))
    if c_required != a_required:
        errors.append(f"{where}: required {sorted(c_required)} != {sorted(a_required)}")
    if (
        c_view.get("additionalProperties") is False
        and a_view.get("additionalProperties") is not False
    ):
        errors.append(f"{where}: contract forbids additional properties, the app allows them")
    for name in sorted(set(c_props) & set(a_props)):
        errors += compare_schemas(
            contract,
            c_props[name],
            app,
            a_props[name],
            f"{where}.{name}",
            exact_properties=exact_properties,
        )
    return errors


def _is_type(instance: Any, json_type: str) -> bool:
    """Return whether ``instance`` (decoded JSON) has the JSON Schema type ``json_type``."""
    checks: dict[str, Any] = {
        "null": instance is None,
        "boolean": isinstance(instance, bool),
        "integer": isinstance(instance, int) and not isinstance(instance, bool),
        "number": isinstance(instance, int | float) and not isinstance(instance, bool),
        "string": isinstance(instance, str),
        "array": isinstance(instance, list),
        "object": isinstance(instance, dict),
    }
    if json_type not in checks:
        raise ValueError(f"unsupported JSON Schema type {json_type!r}")
    return bool(checks[json_type])


def _is_date_time(value: str) -> bool:
    """RFC 3339 ``date-time``: ISO 8601 with a mandatory UTC offset."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def validate(document: dict[str, Any], schema: Any, instance: Any, where: str = "$") -> list[str]:
    """Validate a decoded JSON ``instance`` against a contract schema; return the violations."""
    schema = resolve(document, schema)
    if "anyOf" in schema:
        if all(validate(document, option, instance, where) for option in schema["anyOf"]):
            return [f"{where}: matches none of anyOf"]
        return []
    declared = schema.get("type")
    if declared is not None:
        types = [declared] if isinstance(declared, str) else declared
        if not any(_is_type(instance, t) for t in types):
            return [f"{where}: {instance!r} is not of type {types}"]
    if isinstance(instance, dict):
        return _validate_object(document, schema, instance, where)
    if isinstance(instance, list):
        items = schema.get("items", {})
        return [
            e
            for i, item in enumerate(instance)
            for e in validate(document, items, item, f"{where}[{i}]")
        ]
    return _validate_scalar(schema, instance, where)


def _validate_object(
    document: dict[str, Any], schema: Schema, instance: dict[str, Any], where: str
) -> list[str]:
    """Check required and unexpected properties, then each property's value."""
    properties = schema.get("properties", {})
    errors = [
        f"{where}: missing {name!r}" for name in schema.get("required", []) if name not in instance
    ]
    if schema.get("additionalProperties") is False:
        errors += [f"{where}: unexpected {name!r}" for name in instance if name not in properties]
    for name, value in instance.items():
        if name in properties:
            errors += validate(document, properties[name], value, f"{where}.{name}")
    return errors


def _validate_scalar(schema: Schema, instance: Any, where: str) -> list[str]:
    """Check string length and format, and numeric bounds."""
    errors: list[str] = []
    if isinstance(instance, str):
        if (
            not schema.get("minLength", 0)
            <= len(instance)
            <= schema.get("maxLength", len(instance))
        ):
            errors.append(f"{where}: length {len(instance)} outside the allowed range")
        if schema.get("format") == "date-time" and not _is_date_time(instance):
            errors.append(f"{where}: {instance!r} is not an RFC 3339 date-time")
    elif _is_type(instance, "number") and not (
        schema.get("minimum", instance) <= instance <= schema.get("maximum", instance)
    ):
        errors.append(f"{where}: {instance} outside [minimum, maximum]")
    return errors


def check_response(response: Response, path: str, method: str) -> None:
    """Assert that the contract declares this status for the operation and the body matches.

    ``path`` is the contract's path template, e.g. ``/api/tasks/{task_id}``.
    """
    contract = load_contract()
    status = str(response.status_code)
    declared = contract["paths"][path][method.lower()]["responses"]
    assert status in declared, f"{method.upper()} {path} returned undeclared status {status}"
    schema = response_schema(contract, path, method, status)
    if schema is None:
        assert response.content == b"", f"{status} must have an empty body"
        return
    assert response.headers["content-type"].startswith("application/json")
    errors = validate(contract, schema, response.json())
    assert errors == [], errors
    headers = resolve(contract, declared[status]).get("headers", {})
    missing = [name for name in headers if name.lower() not in response.headers]
    assert missing == [], f"response headers missing: {missing}"
