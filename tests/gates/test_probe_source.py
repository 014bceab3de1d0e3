"""The probe's source locations: the tokenize-free, memoized lookup against getsourcelines' own answer."""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.gates import probe_script

MODULE = '''
import functools


def plain():
    return 1


@functools.lru_cache(maxsize=None)
def cached():
    return 2


@staticmethod
@functools.wraps(plain)
def wrapped_twice():
    return 3


@decorate(
    "async def inside a decorator's argument",
    option="""
def not the header
""",
)
async def decorated_async():
    return 4


class Scheme:
    def __call__(self):
        return 5


@register
class Decorated:
    """A class behind a decorator."""


lam = lambda: 6  # noqa: E731


def outer():
    def inner():
        return 7

    return inner


def factory():
    return lambda: 8
'''

PRELUDE = "def decorate(*a, **k):\n    return lambda f: f\n\n\ndef register(c):\n    return c\n"


def reference(obj: Any, root: str) -> tuple[str | None, int | None]:
    """What probe_script._source answered before it was memoized and stopped tokenizing."""
    if not (inspect.isroutine(obj) or inspect.isclass(obj)):
        obj = type(obj)
    try:
        file = probe_script._relative(inspect.getsourcefile(obj), root)
        if file is None:
            return None, None
        lines, start = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return None, None
    for offset, text in enumerate(lines):
        if text.lstrip().startswith(("def ", "async def ", "class ")):
            return file, start + offset
    return file, start


@pytest.fixture
def module(tmp_path: Path) -> Any:
    path = tmp_path / "app_module.py"
    path.write_text(PRELUDE + MODULE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("specship_probe_source_fixture", path)
    assert spec is not None
    assert spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded
    try:
        spec.loader.exec_module(loaded)
        yield loaded
    finally:
        sys.modules.pop(spec.name, None)


def objects(m: Any) -> dict[str, Any]:
    return {
        "plain": m.plain,
        "lru_cache wrapper": m.cached,
        "lru_cache wrapper, unwrapped as the probe does": probe_script._target(m.cached),
        "staticmethod over wraps": m.wrapped_twice.__func__,
        "multi-line decorator": m.decorated_async,
        "class": m.Scheme,
        "instance": m.Scheme(),
        "decorated class": m.Decorated,
        "lambda": m.lam,
        "nested def": m.outer(),
        "lambda from a factory": m.factory(),
        "builtin": len,
        "stdlib function": os.path.join,
    }


def test_every_kind_of_callable_gets_the_answer_getsourcelines_gave(module: Any, tmp_path: Path) -> None:
    root = os.path.realpath(tmp_path)
    for name, obj in objects(module).items():
        assert probe_script._source(obj, root) == reference(obj, root), name


def test_the_lines_are_the_headers_past_the_decorators(module: Any, tmp_path: Path) -> None:
    root = os.path.realpath(tmp_path)
    lines = (tmp_path / "app_module.py").read_text(encoding="utf-8").splitlines()
    wanted = ("plain", "lru_cache wrapper, unwrapped as the probe does", "decorated class", "nested def")
    for name in wanted:
        file, line = probe_script._source(objects(module)[name], root)
        assert file == "app_module.py", name
        assert line is not None, name
        assert lines[line - 1].lstrip().startswith(("def ", "async def ", "class ")), name
    assert probe_script._source(len, root) == (None, None)
    assert probe_script._source(os.path.join, root) == (None, None)  # outside the app


def test_a_dependency_named_by_every_route_is_looked_up_once(module: Any, tmp_path: Path) -> None:
    root = os.path.realpath(tmp_path)
    calls: list[Any] = []
    original = probe_script._find_source

    def counting(obj: Any, where: str) -> tuple[str | None, int | None]:
        calls.append(obj)
        return original(obj, where)

    probe_script._find_source = counting  # type: ignore[assignment]
    try:
        answers = {probe_script._source(module.plain, root) for _ in range(50)}
        probe_script._source(module.Scheme(), root)
        probe_script._source(module.Scheme(), root)  # another instance: the same class
    finally:
        probe_script._find_source = original  # type: ignore[assignment]
    assert len(answers) == 1
    assert calls == [module.plain, module.Scheme]
