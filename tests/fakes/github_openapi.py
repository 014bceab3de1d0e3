"""Validate recorded emulator responses against GitHub's OpenAPI description (fixture subset)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "github" / "rest-api-subset.json"
SPEC_URI = "urn:github:rest-api-subset"


class Response(Protocol):
    """What the validator needs from a recorded request."""

    @property
    def operation(self) -> str | None: ...

    @property
    def status(self) -> int: ...

    @property
    def response_json(self) -> Any: ...


@functools.cache
def spec() -> dict[str, Any]:
    """The OpenAPI subset as a dict."""
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


def _nullable_fixed(node: Any) -> Any:
    """Apply OpenAPI 3.0.3's `nullable` ("null is allowed") where the validator does not:
    on `enum` (add null) and on `oneOf`/`anyOf`/`allOf` without `type` (GitHub sends null there)."""
    if isinstance(node, list):
        return [_nullable_fixed(item) for item in node]
    if not isinstance(node, dict):
        return node
    fixed = {key: _nullable_fixed(value) for key, value in node.items()}
    if fixed.get("nullable") is not True:
        return fixed
    if "enum" in fixed and None not in fixed["enum"]:
        fixed["enum"] = [*fixed["enum"], None]
    if "type" not in fixed and any(k in fixed for k in ("oneOf", "anyOf", "allOf")):
        rest = {k: v for k, v in fixed.items() if k != "nullable"}
        return {"anyOf": [{"enum": [None]}, rest]}
    return fixed


@functools.cache
def _validation_spec() -> dict[str, Any]:
    fixed: dict[str, Any] = _nullable_fixed(spec())
    return fixed


def docs_url(operation: str | None) -> str | None:
    """The documentation page GitHub links in its error bodies for `METHOD /path`, if described."""
    if operation is None:
        return None
    method, path = operation.split(" ", 1)
    op = spec()["paths"].get(path, {}).get(method.lower())
    url = ((op or {}).get("externalDocs") or {}).get("url")
    return str(url) if url else None


def operations() -> set[str]:
    """Every `METHOD /path` the subset describes."""
    return {
        f"{method.upper()} {path}"
        for path, item in spec()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(_validation_spec(), default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def schema_pointer(operation: str, status: int) -> str | None:
    """JSON pointer of the response schema for operation and status, or None if undocumented."""
    method, path = operation.split(" ", 1)
    op = spec()["paths"].get(path, {}).get(method.lower())
    if op is None:
        return None
    response = op["responses"].get(str(status))
    pointer = f"/paths/{_escape(path)}/{method.lower()}/responses/{status}"
    if response is not None and "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        response = spec()["components"]["responses"][pointer.rsplit("/", 1)[-1]]
    if response is None or "application/json" not in response.get("content", {}):
        return None
    return f"{pointer}/content/application~1json/schema"


def validate_response(operation: str, status: int, body: Any) -> list[str]:
    """Errors of body against the documented schema; [] when valid or undocumented."""
    pointer = schema_pointer(operation, status)
    if pointer is None:
        return []
    validator = OAS30Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry())
    errors = []
    for err in validator.iter_errors(body):
        where = "/".join(str(p) for p in err.absolute_path) or "<root>"
        errors.append(f"{operation} -> {status}: {where}: {err.message[:300]}")
    return errors


def conformance_errors(responses: Iterable[Response]) -> list[str]:
    """Schema errors across every recorded response that has a documented JSON schema."""
    errors: list[str] = []
    for item in responses:
        if item.operation is not None and item.response_json is not None:
            errors.extend(validate_response(item.operation, item.status, item.response_json))
    return errors


def validated_operations(responses: Iterable[Response]) -> set[str]:
    """The subset operations for which at least one documented 2xx response was checked."""
    return {
        item.operation
        for item in responses
        if item.operation is not None
        and 200 <= item.status < 300
        and schema_pointer(item.operation, item.status) is not None
    }
