"""Configuration values checked against their keys: the repository file with line numbers, inputs."""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from bot.exceptions import FatalError
from bot.settings_fields import KEYS, Key

_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list of strings",
    "commands": "a command or a list of commands",
}

# Shell syntax in a command Specship splits into argv itself: without a shell it would reach the
# program as literal arguments (`cd` is not even a program), which fails late and obscurely.
_SHELL_TOKENS = frozenset({"&&", "||", "|", ";", "&", ">", ">>", "<", "2>", "2>&1", "<<"})
_SHELL_BUILTINS = frozenset({"cd", "export", "source", ".", "set", "unset", "alias"})
COMMANDS_FIX = (
    "Give one command per item (or per line), e.g. ['uv sync --frozen', 'python -m alembic upgrade head']; "
    "each runs as argv without a shell. To use a shell, say so: "
    "['sh', '-c', 'cd backend && alembic upgrade head']."
)


def closest(name: str, allowed: list[str]) -> str:
    import difflib  # only for a mistyped key: every command's startup imports this module

    match = difflib.get_close_matches(name, allowed, n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


def check_value(key: Key, value: Any, where: str) -> Any:
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
    if key.kind == "commands":
        return check_commands(key, value, where)
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
        raise wrong(f"is {value!r}", f"Use one of: {', '.join(key.enum)}.{closest(value, list(key.enum))}")
    if key.pattern and not re.fullmatch(key.pattern, value):
        raise wrong(f"is {value!r}, which is not valid", f"It must match {key.pattern}.")
    return value


def _shell_syntax(argv: list[str]) -> str | None:
    for token in argv:
        if token in _SHELL_TOKENS or token.startswith(("$(", "`")):
            return token
    return argv[0] if argv[0] in _SHELL_BUILTINS else None


def check_commands(key: Key, value: Any, where: str) -> tuple[tuple[str, ...], ...]:
    """A command string (one per line) or a list of commands (a string, or an explicit argv list)."""

    def wrong(what: str, fix: str = COMMANDS_FIX) -> FatalError:
        return FatalError(f"{where}: '{key.name}' {what}.", fix)

    if isinstance(value, str):
        items: list[Any] = [line for line in value.splitlines() if line.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise wrong(f"must be {_TYPE_WORDS['commands']}, not {value!r}")
    commands: list[tuple[str, ...]] = []
    for number, item in enumerate(items, 1):
        label = f"command {number}" if len(items) > 1 else "command"
        if isinstance(item, list | tuple):
            if not item or not all(isinstance(arg, str) for arg in item):
                raise wrong(f"{label} must be a non-empty list of strings, not {item!r}")
            argv = list(item)
        elif isinstance(item, str):
            import shlex  # only when setup-command is set (startup, as above)

            try:
                argv = shlex.split(item)
            except ValueError as exc:
                raise wrong(f"{label} {item!r} cannot be split into arguments: {exc}") from None
            if not argv:
                raise wrong(f"{label} is empty")
            token = _shell_syntax(argv)
            if token is not None:
                raise wrong(f"{label} {item!r} uses shell syntax ({token!r}), but it runs without a shell")
        else:
            raise wrong(f"{label} must be a string or a list of strings, not {item!r}")
        if any("\x00" in arg for arg in argv):
            raise wrong(f"{label} contains a NUL byte")
        commands.append(tuple(argv))
    return tuple(commands)


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader; the top-level keys' line numbers come from the composed node."""


def parse_file(text: str, path: str) -> dict[str, tuple[Any, int]]:
    """Parse the repository file into {key: (value, line)} with strict structural checks."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        number = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise FatalError(
            f"{path}{f':{number}' if number else ''}: {problem}.",
            "Fix the YAML syntax (check indentation and quoting).",
            file=path,
            line=number,
        ) from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise FatalError(
            f"{path}:{node.start_mark.line + 1}: the file must be a mapping of keys to values.",
            "Write one 'key: value' per line, e.g. 'max-turns: 40'.",
            file=path,
            line=node.start_mark.line + 1,
        )
    loader = _LineLoader("")
    result: dict[str, tuple[Any, int]] = {}
    allowed = [k.name for k in KEYS.values() if not k.input_only]
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        name = key_node.value
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(name, str):
            raise FatalError(
                f"{path}:{line}: keys must be plain names.", "Use e.g. 'max-turns'.", file=path, line=line
            )
        if name in result:
            raise FatalError(
                f"{path}:{line}: '{name}' is set twice (first on line {result[name][1]}).",
                "Keep one of them.",
                file=path,
                line=line,
            )
        key = KEYS.get(name)
        if key is None or key.input_only:
            hint = "" if key is not None else closest(name.replace("_", "-"), allowed)
            why = (
                "is not a Specship setting"
                if key is None
                else "belongs in the workflow's `with:` (secrets never go in the repository)"
                if key.secret
                else "is an action input: set it in the workflow's `with:`"
            )
            raise FatalError(
                f"{path}:{line}: unknown key '{name}' {why}.",
                f"Remove it or use a documented key (docs/configuration.md).{hint}",
                file=path,
                line=line,
            )
        result[name] = (loader.construct_object(value_node, deep=True), line)
    return result


def parse_input(key: Key, raw: str) -> Any:
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
        # one_per_line: items may contain commas (a test-env value such as a CORS origin list)
        separator = r"\n" if key.one_per_line else r"[,\n]"
        return [item.strip() for item in re.split(separator, text) if item.strip()]
    return raw if key.secret else text
