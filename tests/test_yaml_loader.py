"""The fast loader builds the same nodes, with the same line marks, as PyYAML's pure-Python one."""

from __future__ import annotations

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
    assert SAFE_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert hasattr(yaml, "CSafeLoader"), "the pinned PyYAML wheel ships libyaml; the readers lost it"


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
