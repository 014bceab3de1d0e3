"""Which pytest plugins the project's tests load: the ones the project declares, never our dev ones."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# pytest reads this itself: with it set, only `-p` plugins load (ours, and those named below).
AUTOLOAD_OFF = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
_REQUIREMENT_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?)")
_REQUIREMENT_FILES = ("requirements*.txt", "requirements/*.txt", "*requirements*.in")


def is_ours(python: str) -> bool:
    """The project runs on Specship's own interpreter (no project environment was built)."""
    return os.path.abspath(python) == os.path.abspath(sys.executable)


def plugin_args(python: str, roots: Iterable[Path]) -> tuple[list[str], dict[str, str]]:
    """Extra pytest argv and env for a run with `python`, the project's files under `roots`.

    A project environment (a setup-command venv) holds what the project installed: its plugins
    load as pytest finds them. Specship's own interpreter also holds Specship's dev and test
    tools (hypothesis registers a plugin that slows every test process): autoload goes off and
    each plugin whose distribution the project depends on, directly or through its
    dependencies, is named with `-p`. Specship's result plugin is always named with `-p`, so
    it loads either way.
    """
    if not is_ours(python):
        return [], {}
    declared = closure(frozenset(declared_requirements(tuple(roots))))
    names = sorted({name for name, dist in _our_plugins() if dist in declared})
    return [arg for name in names for arg in ("-p", name)], dict(AUTOLOAD_OFF)


@cache
def _our_plugins() -> tuple[tuple[str, str], ...]:
    """(plugin name, canonical distribution) of every pytest11 entry point of this interpreter:
    read once per process (a scan of every installed distribution; the sandbox user cannot
    install into Specship's environment)."""
    return tuple(
        (ep.name, canonicalize_name(ep.dist.name))
        for ep in metadata.entry_points(group="pytest11")
        if ep.dist is not None
    )


def declared_requirements(roots: tuple[Path, ...]) -> Iterator[str]:
    """Requirement strings from the project's pyproject.toml and requirements files."""
    seen: set[Path] = set()
    for root in roots:
        pyproject = root / "pyproject.toml"
        if pyproject.is_file() and pyproject not in seen:
            seen.add(pyproject)
            yield from _pyproject(pyproject)
        for pattern in _REQUIREMENT_FILES:
            for file in sorted(root.glob(pattern)):
                if file not in seen and file.is_file():
                    seen.add(file)
                    yield from _requirement_lines(file)


def _pyproject(path: Path) -> Iterator[str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    project = data.get("project", {})
    yield from _strings(project.get("dependencies", []))
    for group in (project.get("optional-dependencies") or {}).values():
        yield from _strings(group)
    for group in (data.get("dependency-groups") or {}).values():
        yield from _strings(group)
    poetry = data.get("tool", {}).get("poetry", {})
    groups = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    groups += [g.get("dependencies", {}) for g in (poetry.get("group") or {}).values() if isinstance(g, dict)]
    for group in groups:
        if isinstance(group, dict):
            yield from (name for name in group if name.lower() != "python")


def _strings(values: object) -> Iterator[str]:
    if isinstance(values, list):
        yield from (v for v in values if isinstance(v, str))


def _requirement_lines(path: Path) -> Iterator[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for line in text.splitlines():
        match = _REQUIREMENT_LINE.match(line)
        if match and not line.lstrip().startswith("-"):
            yield match.group(1)


@cache
def closure(requirements: frozenset[str]) -> frozenset[str]:
    """The canonical names of the declared distributions and everything they pull in (as installed)."""
    found: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = []
    for text in requirements:
        parsed = _parse(text)
        if parsed is not None:
            todo.append((canonicalize_name(parsed.name), frozenset(parsed.extras)))
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in done:
            continue
        done.add((name, extras))
        found.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            parsed = _parse(text)
            if parsed is not None and _applies(parsed, extras):
                todo.append((canonicalize_name(parsed.name), frozenset(parsed.extras)))
    return frozenset(found)


def _parse(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    if requirement.marker is None:
        return True
    try:
        return any(requirement.marker.evaluate({"extra": extra}) for extra in extras or {""})
    except (InvalidMarker, UndefinedEnvironmentName):
        return True
