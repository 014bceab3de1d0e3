"""The fast loader builds the same nodes, with the same line marks, as PyYAML's pure-Python one."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.yaml_loader import SAFE_LOADER

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    [
        *ROOT.glob("examples/taskboard/scenarios/*.yaml"),
        *ROOT.glob("examples/taskboard/specs/*/contracts/*.yaml"),
        *ROOT.glob("examples/*/.github/specship.yml"),
    ]
)


def shape(node: Any) -> Any:
    """A node tree as plain data: tag, start line and column, and the value or the children."""
    where = (node.tag, node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        return (*where, [(shape(k), shape(v)) for k, v in node.value])
    if isinstance(node, yaml.SequenceNode):
        return (*where, [shape(item) for item in node.value])
    return (*where, node.value, node.style or None)  # libyaml says "" for a plain scalar, PyYAML None


def test_libyaml_is_what_the_readers_use_when_pyyaml_has_it() -> None:
    assert issubclass(SAFE_LOADER, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert hasattr(yaml, "CSafeLoader"), "the pinned PyYAML wheel ships libyaml; the readers lost it"


# Plain scalars of every implicit type PyYAML resolves (and near misses), quoted ones, empty
# values, merge and value keys, anchors, aliases, tags and flow collections.
SCALARS = (
    "1", "-1", "+1", "0x1F", "0o17", "017", "1_000", "1.5", "-.5", ".inf", "-.Inf", ".nan", "1e3",
    "6.8523015e+5", "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-1-1", "yes",
    "No", "on", "OFF", "true", "False", "y", "n", "null", "Null", "~", "", "<<", "=", "'1'", '"true"',
    "!!str 1", "!!int '2'", "!custom x", "text", "a b", "-", ".", "0", "00", "1.2.3", "nan", "-inf",
    "[1, yes, ~]", "{a: 1, b: off}", "&a 1", "*a", ":x", "@x", "`x", "é", "TRUE", "1:2",
)  # fmt: skip


@pytest.mark.parametrize("value", SCALARS)
def test_the_same_tags_as_pyyamls_own_safe_loader(value: str) -> None:
    text = (
        f"k: &a {value}\n{value}: v\nl:\n  - {value}\n  - *a\n"
        if "*" not in value
        else f"x: &a 1\nk: {value}\n"
    )
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        expected = shape(yaml.compose(text, Loader=base))
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            yaml.compose(text, Loader=SAFE_LOADER)
        return
    assert shape(yaml.compose(text, Loader=SAFE_LOADER)) == expected


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_same_tree_as_the_pure_python_loader(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert shape(yaml.compose(text, Loader=SAFE_LOADER)) == shape(yaml.compose(text, Loader=yaml.SafeLoader))


def test_there_are_documents_to_compare() -> None:
    assert len(DOCUMENTS) >= 4


@pytest.mark.parametrize(
    "text",
    ["turns:\n  - say: [unclosed\n", "a: 1\n b: 2\n", "key: value\nkey2: 'open\n", "- a\nb: c\n"],
)
def test_broken_yaml_fails_on_the_same_line(text: str) -> None:
    lines = []
    for loader in (SAFE_LOADER, yaml.SafeLoader):
        with pytest.raises(yaml.YAMLError) as caught:
            yaml.compose(text, Loader=loader)
        mark = getattr(caught.value, "problem_mark", None)
        lines.append(mark.line if mark is not None else None)
    assert lines[0] is not None
    assert lines[0] == lines[1]


# YAML the fast constructor must build exactly as SafeConstructor does, or hand back to it.
SHAPES = [
    "a: 1\nb: [x, 'y', \"z\"]\nc: {d: null, e: ~}\n",
    "ints: [0x1F, 0o17, 017, 1_000, -5, +3, 190:20:30]\nfloats: [.inf, -.Inf, .nan, 1e3, 6.8523015e+5]\n",
    "bools: [yes, No, on, OFF, true, False, y, n]\n",
    "when: 2001-12-14t21:59:43.10-05:00\nday: 2002-12-14\n",
    "data: !!binary aGVsbG8=\n",
    "base: &b {x: 1, y: 2}\nmerged: {<<: *b, y: 3}\n",
    "list: &l [1, 2]\nsame: *l\nalso: *l\n",
    "=: value-key\n",
    "? [a, b]\n: unhashable key\n",
    "set: !!set {a, b}\n",
    "omap: !!omap [a: 1, b: 2]\n",
    "pairs: !!pairs [a: 1, a: 2]\n",
    "str: !!str 123\nint: !!int '7'\nfloat: !!float '1'\n",
    "dup: 1\ndup: 2\n",
    "200: ok\n3.5: float key\ntrue: bool key\n~: null key\n",
    "empty:\nblank: ''\nnested: [[[[]]]]\n",
    "recursive: &r [*r]\n",
    "folded: >\n  a\n  b\nliteral: |\n  c\n",
    "paths:\n  /tasks:\n    get:\n      responses:\n        '200': {description: ok}\n",
]


def _both(text: str) -> tuple[Any, Any]:
    from bot.yaml_loader import construct

    def load(build: Any) -> Any:
        loader = SAFE_LOADER(text)
        try:
            node = loader.get_single_node()
            return build(loader, node)
        except yaml.YAMLError as exc:
            return type(exc)
        finally:
            loader.dispose()

    return load(construct), load(lambda loader, node: loader.construct_document(node))


def _same(fast: Any, slow: Any, seen: frozenset[tuple[int, int]] = frozenset()) -> bool:
    """Equal, and of the same types all the way down (1 == True == 1.0 would hide a wrong type)."""
    if type(fast) is not type(slow):
        return False
    if (id(fast), id(slow)) in seen:
        return True  # a structure that contains itself, met again at the same place in both
    inner = seen | {(id(fast), id(slow))}
    if isinstance(fast, dict):
        return list(fast) == list(slow) and all(
            _same(a, b, inner) for a, b in zip(fast.items(), slow.items(), strict=True)
        )
    if isinstance(fast, list | tuple):
        return len(fast) == len(slow) and all(_same(a, b, inner) for a, b in zip(fast, slow, strict=True))
    if isinstance(fast, float) and math.isnan(fast):
        return math.isnan(slow)
    return bool(fast == slow) if not isinstance(fast, type) else fast is slow


@pytest.mark.parametrize("text", SHAPES)
def test_the_fast_constructor_builds_what_safe_constructor_builds(text: str) -> None:
    fast, slow = _both(text)
    assert _same(fast, slow), (fast, slow)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_fast_constructor_on_the_project_documents(path: Path) -> None:
    fast, slow = _both(path.read_text(encoding="utf-8"))
    assert _same(fast, slow)


def test_an_alias_gives_the_same_object_as_pyyaml_does() -> None:
    fast, _ = _both("list: &l [1, 2]\nsame: *l\n")
    assert fast["list"] is fast["same"]
