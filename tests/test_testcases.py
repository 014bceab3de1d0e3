"""Every case of the project's security and fault list (TC-1 … TC-50) has at least one test naming it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CASES = range(1, 51)


def cases_named() -> dict[int, list[str]]:
    """Case number -> test functions that name it (`test_tcN_…`, or `TC-N` in their docstring)."""
    found: dict[int, list[str]] = {n: [] for n in CASES}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            named = {int(m) for m in re.findall(r"(?:^|_)tc(\d+)(?=_)", node.name)}
            doc = ast.get_docstring(node) or ""
            named |= {int(m) for m in re.findall(r"\bTC-(\d+)\b", doc)}
            for number in named & set(CASES):
                found[number].append(f"{path.name}::{node.name}")
    return found


def test_every_case_has_a_test() -> None:
    missing = [f"TC-{n}" for n, tests in cases_named().items() if not tests]
    assert missing == [], f"cases without a test naming them: {', '.join(missing)}"


def test_the_scan_sees_both_naming_styles() -> None:
    found = cases_named()
    assert any("test_tc1_" in name for name in found[1])
    assert any(name.startswith("test_model.py::") for name in found[39])
