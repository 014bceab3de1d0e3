"""The tools the model is offered: their JSON schemas, and the small validator their inputs pass."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

EDITOR = "str_replace_based_edit_tool"

_STR_LIST = {"type": "array", "items": {"type": "string"}}

SUBMIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "description": "One sentence: what the change does."},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "purpose": {"type": "string"}},
                "required": ["path", "purpose"],
            },
        },
        "code_notes": {
            "type": "string",
            "description": (
                "Two or three sentences on how the change fits the existing code, citing the code it "
                "builds on as `cite start:end:path` (lines at the base commit; each is checked)."
            ),
        },
        "security_measures": _STR_LIST,
        "error_handling": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"status": {"type": "integer"}, "cases": {"type": "string"}},
                "required": ["status", "cases"],
            },
        },
        "acceptance_criteria": {
            "type": "array",
            "description": "Each spec scenario or requirement with the pytest node ids that prove it.",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "Scenario key, e.g. US1-AS2."},
                    "criterion": {"type": "string"},
                    "tests": _STR_LIST,
                },
                "required": ["criterion", "tests"],
            },
        },
        "environment_variables": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "purpose": {"type": "string"}},
                "required": ["name", "purpose"],
            },
        },
        "follow_ups": {**_STR_LIST, "maxItems": 3},
    },
    "required": ["summary", "files", "acceptance_criteria"],
}

TOOL_DEFINITIONS: list[dict[str, Any]] = [
    {"type": "text_editor_20250728", "name": EDITOR},
    {
        "name": "search",
        "description": "Regex search over the repository's files; returns path:line: text.",
        "input_schema": {
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "Python regular expression."},
                "path": {"type": "string", "description": "Only files under this directory."},
            },
            "required": ["pattern"],
        },
    },
    {
        "name": "run_tests",
        "description": "Run the project's tests (all, or the given pytest node ids).",
        "input_schema": {
            "type": "object",
            "properties": {"node_ids": _STR_LIST},
        },
    },
    {
        "name": "run_checks",
        "description": "Run Specship's gates (tests, security, auth, contracts, guard) as reviewers will.",
        "input_schema": {"type": "object", "properties": {}},
    },
    {
        "name": "ask_clarification",
        "description": "Ask 2-3 targeted questions when the spec is ambiguous; ends the run.",
        "input_schema": {
            "type": "object",
            "properties": {"questions": {**_STR_LIST, "minItems": 2, "maxItems": 3}},
            "required": ["questions"],
        },
    },
    {
        "name": "submit_report",
        "description": "Finish: report the change for the pull request. Call once, when tests pass.",
        "input_schema": SUBMIT_SCHEMA,
    },
]


class ToolInputError(ValueError):
    """The model sent input the tool cannot use; the message tells it how to fix the call."""


def validate(schema: Mapping[str, Any], value: Any, where: str = "input") -> None:
    """Check a value against the small JSON Schema subset the tool schemas use."""
    kind = schema.get("type")
    checks: dict[str, Callable[[Any], bool]] = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    }
    if kind in checks and not checks[kind](value):
        raise ToolInputError(f"{where} must be a {kind}")
    if kind == "object":
        for name in schema.get("required", ()):
            if name not in value:
                raise ToolInputError(f"{where}.{name} is required")
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name not in properties:
                raise ToolInputError(f"{where}.{name} is not a known field")
            validate(properties[name], item, f"{where}.{name}")
    if kind == "array":
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise ToolInputError(f"{where} needs at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise ToolInputError(f"{where} takes at most {schema['maxItems']} items")
        for index, item in enumerate(value):
            validate(schema.get("items", {}), item, f"{where}[{index}]")
