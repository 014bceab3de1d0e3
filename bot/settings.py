"""One typed Settings from defaults, the repository's .github/specship.yml and the action inputs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.exceptions import FatalError
from bot.settings_fields import CONFIG_FILE, KEYS, PRECEDENCE, SCHEMA_ID, Key, Settings
from bot.settings_parse import check_value, parse_file, parse_input

# The face of configuration: callers import Settings, KEYS and load from here.
__all__ = [
    "CONFIG_FILE",
    "KEYS",
    "PRECEDENCE",
    "SCHEMA_ID",
    "Key",
    "Settings",
    "input_env_names",
    "inputs_from_env",
    "json_schema",
    "load",
    "workflow_file",
]


def input_env_names(key: Key) -> tuple[str, str]:
    """GitHub passes `with: trigger-label` as INPUT_TRIGGER-LABEL; local runs may use underscores."""
    upper = key.name.upper()
    return f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"


def inputs_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """The action inputs that are set (non-empty), by key name."""
    found: dict[str, str] = {}
    for key in KEYS.values():
        for name in input_env_names(key):
            value = env.get(name, "")
            if value.strip():
                found[key.name] = value
                break
    return found


def load(env: Mapping[str, str], repo_root: Path | None = None, file_text: str | None = None) -> Settings:
    """Build Settings: defaults, then the repository file, then the non-empty action inputs.

    `file_text` lets callers pass the file as read from the base ref instead of the work tree.
    """
    inputs = inputs_from_env(env)
    values: dict[str, Any] = {}
    config_path = inputs.get("config-file", CONFIG_FILE).strip()
    if file_text is None and repo_root is not None:
        candidate = repo_root / config_path
        if candidate.is_file():
            file_text = candidate.read_text(encoding="utf-8", errors="replace")
        elif "config-file" in inputs:
            raise FatalError(
                f"The config file '{config_path}' named by the config-file input does not exist.",
                "Create it or remove the config-file input.",
                file=workflow_file(env),
            )
    if file_text is not None:
        for name, (value, line) in parse_file(file_text, config_path).items():
            try:
                values[KEYS[name].attr] = check_value(KEYS[name], value, f"{config_path}:{line}")
            except FatalError as exc:
                raise exc.at(config_path, line) from None
    for name, raw in inputs.items():
        key = KEYS.get(name)
        if key is None:
            continue
        try:
            values[key.attr] = check_value(key, parse_input(key, raw), f"action input '{name}'")
        except FatalError as exc:
            raise exc.at(workflow_file(env)) from None
    return Settings(**values)


def workflow_file(env: Mapping[str, str]) -> str | None:
    """The running workflow's file (where a bad input is written), from GITHUB_WORKFLOW_REF
    (`owner/repo/.github/workflows/x.yml@refs/heads/main`); None outside Actions."""
    ref = env.get("GITHUB_WORKFLOW_REF", "").partition("@")[0]
    _, found, path = ref.partition("/.github/workflows/")
    return f".github/workflows/{path}" if found and path else None


def json_schema() -> dict[str, Any]:
    """JSON Schema of .github/specship.yml, generated from Settings so the two cannot drift."""
    properties: dict[str, Any] = {}
    for key in KEYS.values():
        if key.input_only:
            continue
        prop: dict[str, Any] = {"description": key.description, "type": key.kind}
        if key.kind == "commands":
            argv = {"type": "array", "items": {"type": "string"}, "minItems": 1}
            command = {"oneOf": [{"type": "string", "minLength": 1}, argv]}
            prop = {
                "description": key.description,
                "oneOf": [{"type": "string"}, {"type": "array", "items": command}],
                "default": [],
            }
        elif key.kind == "array":
            prop["items"] = {"type": "string"}
            if key.item_pattern:
                prop["items"]["pattern"] = key.item_pattern
            prop["default"] = list(key.default)
        else:
            prop["default"] = key.default
        if key.enum:
            prop["enum"] = list(key.enum)
        if key.pattern:
            prop["pattern"] = key.pattern
        if key.minimum is not None:
            prop["minimum"] = key.minimum
        if key.maximum is not None:
            prop["maximum"] = key.maximum
        properties[key.name] = prop
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "Specship configuration (.github/specship.yml)",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
