"""One typed Settings from defaults, the repository's .github/specship.yml and the action inputs."""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.exceptions import FatalError

CONFIG_FILE = ".github/specship.yml"
SCHEMA_ID = "https://specship.dev/specship.schema.json"

# Precedence, lowest first. A workflow input that is set (non-empty) wins over the file, so a
# workflow can override the repository's defaults for one job; an empty input means "not set".
PRECEDENCE = ("built-in default", CONFIG_FILE, "action input (INPUT_*)")

_BRANCH_PREFIX = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*/$"
_ROUTE = r"^((GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\*) )?/\S*$"
_LOGIN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(\[bot\])?$"


def _meta(
    description: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    pattern: str | None = None,
    item_pattern: str | None = None,
    enum: tuple[str, ...] | None = None,
    secret: bool = False,
    input_only: bool = False,
) -> dict[str, Any]:
    return {
        "description": description,
        "minimum": minimum,
        "maximum": maximum,
        "pattern": pattern,
        "item_pattern": item_pattern,
        "enum": enum,
        "secret": secret,
        "input_only": input_only,
    }


def _list(description: str, **kwargs: Any) -> Any:
    return field(default_factory=tuple, metadata=_meta(description, **kwargs))


def _value(default: Any, description: str, **kwargs: Any) -> Any:
    return field(default=default, metadata=_meta(description, **kwargs))


@dataclass(frozen=True)
class Settings:
    """Everything a run can be configured with; field names are the kebab-case keys in snake_case."""

    trigger_label: str = _value(
        "specship", "Issue label that starts an implementation run.", pattern=r"^\S(.{0,48}\S)?$"
    )
    command_prefix: str = _value(
        "/specship", "Prefix of PR comment commands.", pattern=r"^/[a-z][a-z0-9-]{0,30}$"
    )
    model: str = _value("claude-sonnet-4-6", "Claude model id.", pattern=r"^\S{3,100}$")
    provider: str = _value(
        "anthropic",
        "Where Claude runs: the Anthropic API, Amazon Bedrock or Google Vertex AI.",
        enum=("anthropic", "bedrock", "vertex"),
    )
    max_tokens: int = _value(16000, "Maximum output tokens per model call.", minimum=1024, maximum=128000)
    max_turns: int = _value(60, "Maximum model turns per run.", minimum=1, maximum=500)
    max_cost_usd: float = _value(5.0, "Maximum spend per run in US dollars.", minimum=0.01, maximum=1000)
    input_price_per_mtok: float = _value(
        0.0,
        "USD per million input tokens; only needed for a model missing from the price table.",
        minimum=0,
        maximum=1000,
    )
    output_price_per_mtok: float = _value(
        0.0,
        "USD per million output tokens; only needed for a model missing from the price table.",
        minimum=0,
        maximum=1000,
    )
    timeout_minutes: int = _value(45, "Wall-time limit of one run in minutes.", minimum=1, maximum=360)
    max_repair_rounds: int = _value(
        2, "Rounds in which failing gates go back to the model.", minimum=0, maximum=10
    )
    branch_prefix: str = _value("specship/", "Prefix of the branches Specship owns.", pattern=_BRANCH_PREFIX)
    base_branch: str = _value(
        "", "Branch PRs target; empty means the repository's default branch.", pattern=r"^\S*$"
    )
    draft: bool = _value(True, "Open PRs as drafts (they stay drafts while a gate fails).")
    setup_command: str = _value(
        "", "Command that installs the project's dependencies before the agent starts."
    )
    test_command: str = _value("python -m pytest", "Command that runs the project's tests (argv, no shell).")
    app_directory: str = _value(
        ".",
        "Directory of the backend (cwd of the test command and of the app import).",
        pattern=r"^(\.|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*)$",
    )
    app: str = _value(
        "",
        "Import path of the FastAPI app, module:attribute; empty means detect it.",
        pattern=r"^([A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*)?$",
    )
    public_routes: tuple[str, ...] = _list(
        "Routes that may be unauthenticated: 'METHOD /path' or '/path', '*' matches a segment.",
        item_pattern=_ROUTE,
    )
    auth_dependencies: tuple[str, ...] = _list(
        "Names of dependencies that authenticate a request, beside fastapi.security schemes.",
        item_pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$",
    )
    allowed_bots: tuple[str, ...] = _list(
        "Bot accounts allowed to trigger Specship (bots are refused otherwise).",
        item_pattern=_LOGIN,
    )
    protected_paths: tuple[str, ...] = _list(
        "Extra glob patterns the agent may not write (specs/, .git/, .github/workflows/ always).",
        item_pattern=r"^[^\s]+$",
    )
    reviewers: tuple[str, ...] = _list(
        "Users whose review is requested on every PR (besides whoever triggered the run).",
        item_pattern=_LOGIN,
    )
    labels: tuple[str, ...] = _list("Labels added to every PR.", item_pattern=r"^\S(.{0,48}\S)?$")
    checklists: str = _value(
        "warn",
        "What unchecked items in specs/<feature>/checklists/*.md do: warn, refuse or ignore.",
        enum=("warn", "refuse", "ignore"),
    )
    bot_login: str = _value(
        "",
        "Login Specship's token acts as, when it cannot be asked (a GitHub App token: '<app-slug>[bot]'); "
        "empty: the token's user, else github-actions[bot].",
        pattern=r"^$|" + _LOGIN.lstrip("^"),
    )
    git_user_name: str = _value("specship[bot]", "Author name of Specship's commits.")
    git_user_email: str = _value(
        "specship[bot]@users.noreply.github.com",
        "Author email of Specship's commits.",
        pattern=r"^[^\s@]+@[^\s@]+$",
    )
    github_token: str = _value(
        "",
        "Token for GitHub (a GitHub App token lets CI run on the PR).",
        secret=True,
        input_only=True,
    )
    anthropic_api_key: str = _value(
        "", "Anthropic API key (not needed for bedrock or vertex).", secret=True, input_only=True
    )
    config_file: str = _value(CONFIG_FILE, "Path of the repository configuration file.", input_only=True)

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"] and value:
                value = "***"
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__


Kind = Literal["string", "integer", "number", "boolean", "array"]


@dataclass(frozen=True)
class Key:
    """One configuration key as the file, the action inputs and the docs see it."""

    name: str
    attr: str
    kind: Kind
    default: Any
    description: str
    minimum: float | None
    maximum: float | None
    pattern: str | None
    item_pattern: str | None
    enum: tuple[str, ...] | None
    secret: bool
    input_only: bool


_KINDS: dict[str, Kind] = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "tuple[str, ...]": "array",
}


def settings_keys() -> tuple[Key, ...]:
    """The configuration keys, derived from the Settings dataclass (the one definition)."""
    result = []
    for f in dataclasses.fields(Settings):
        default = f.default if f.default is not dataclasses.MISSING else ()
        result.append(
            Key(
                name=f.name.replace("_", "-"),
                attr=f.name,
                kind=_KINDS[str(f.type)],
                default=default,
                **f.metadata,
            )
        )
    return tuple(result)


KEYS: dict[str, Key] = {k.name: k for k in settings_keys()}

_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list of strings",
}


def _closest(name: str, allowed: list[str]) -> str:
    match = difflib.get_close_matches(name, allowed, n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


def _check(key: Key, value: Any, where: str) -> Any:
    """Validate one value against its key; returns the value in the Settings type."""
    expected = _TYPE_WORDS[key.kind]

    def wrong(what: str, fix: str) -> FatalError:
        return FatalError(f"{where}: '{key.name}' {what}.", fix)

    if key.kind == "boolean":
        if not isinstance(value, bool):
            raise wrong(f"must be {expected}, not {value!r}", "Write true or false.")
        return value
    if key.kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong(f"must be {expected}, not {value!r}", f"Write {expected}, e.g. {key.default}.")
        if key.kind == "integer" and not (isinstance(value, int) or float(value).is_integer()):
            raise wrong(f"must be {expected}, not {value!r}", f"Write {expected}, e.g. {key.default}.")
        number = int(value) if key.kind == "integer" else float(value)
        if not math.isfinite(number):
            raise wrong(f"must be a finite number, not {value!r}", f"Use e.g. {key.default}.")
        if key.minimum is not None and number < key.minimum:
            raise wrong(f"is {value}, below the minimum {key.minimum:g}", "Raise it.")
        if key.maximum is not None and number > key.maximum:
            raise wrong(f"is {value}, above the maximum {key.maximum:g}", "Lower it.")
        return number
    if key.kind == "array":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise wrong(f"must be {expected}, not {value!r}", 'Write a YAML list, e.g. ["a", "b"].')
        items = []
        for item in value:
            if not isinstance(item, str):
                raise wrong(f"must hold only strings, not {item!r}", "Quote the item.")
            if key.item_pattern and not re.fullmatch(key.item_pattern, item):
                raise wrong(f"has an invalid item {item!r}", f"Each item must match {key.item_pattern}.")
            items.append(item)
        return tuple(items)
    if not isinstance(value, str):
        raise wrong(f"must be {expected}, not {value!r}", "Quote the value.")
    if key.enum and value not in key.enum:
        raise wrong(f"is {value!r}", f"Use one of: {', '.join(key.enum)}.{_closest(value, list(key.enum))}")
    if key.pattern and not re.fullmatch(key.pattern, value):
        raise wrong(f"is {value!r}, which is not valid", f"It must match {key.pattern}.")
    return value


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader; the top-level keys' line numbers come from the composed node."""


def _parse_file(text: str, path: str) -> dict[str, tuple[Any, int]]:
    """Parse the repository file into {key: (value, line)} with strict structural checks."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise FatalError(
            f"{path}{line}: {problem}.", "Fix the YAML syntax (check indentation and quoting)."
        ) from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise FatalError(
            f"{path}:{node.start_mark.line + 1}: the file must be a mapping of keys to values.",
            "Write one 'key: value' per line, e.g. 'max-turns: 40'.",
        )
    loader = _LineLoader("")
    result: dict[str, tuple[Any, int]] = {}
    allowed = [k.name for k in KEYS.values() if not k.input_only]
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        name = key_node.value
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(name, str):
            raise FatalError(f"{path}:{line}: keys must be plain names.", "Use e.g. 'max-turns'.")
        if name in result:
            raise FatalError(
                f"{path}:{line}: '{name}' is set twice (first on line {result[name][1]}).",
                "Keep one of them.",
            )
        key = KEYS.get(name)
        if key is None or key.input_only:
            hint = "" if key is not None else _closest(name.replace("_", "-"), allowed)
            why = (
                "belongs in the workflow's `with:` (secrets never go in the repository)"
                if key is not None
                else "is not a Specship setting"
            )
            raise FatalError(
                f"{path}:{line}: unknown key '{name}' {why}.",
                f"Remove it or use a documented key (docs/configuration.md).{hint}",
            )
        result[name] = (loader.construct_object(value_node, deep=True), line)
    return result


def _parse_input(key: Key, raw: str) -> Any:
    """Turn an INPUT_* string into the key's type (lists: comma or newline separated)."""
    text = raw.strip()
    if key.kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        return text
    if key.kind == "integer":
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else text
    if key.kind == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if key.kind == "array":
        return [item.strip() for item in re.split(r"[,\n]", text) if item.strip()]
    return raw if key.secret else text


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
            )
    if file_text is not None:
        for name, (value, line) in _parse_file(file_text, config_path).items():
            values[KEYS[name].attr] = _check(KEYS[name], value, f"{config_path}:{line}")
    for name, raw in inputs.items():
        key = KEYS.get(name)
        if key is None:
            continue
        values[key.attr] = _check(key, _parse_input(key, raw), f"action input '{name}'")
    return Settings(**values)


def json_schema() -> dict[str, Any]:
    """JSON Schema of .github/specship.yml, generated from Settings so the two cannot drift."""
    properties: dict[str, Any] = {}
    for key in KEYS.values():
        if key.input_only:
            continue
        prop: dict[str, Any] = {"description": key.description, "type": key.kind}
        if key.kind == "array":
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
