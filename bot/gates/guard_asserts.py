"""Assertions removed or weakened: each removed one paired with its closest replacement."""

from __future__ import annotations

import ast
import difflib
import re
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from bot.gates import Finding
from bot.gates.diffs import DiffLine, FileDiff, is_test_file

T = TypeVar("T")

_ASSERT_RE = re.compile(
    r"^(assert\b|self\.assert\w*\s*\(|cls\.assert\w*\s*\(|(pytest\.)?raises\s*\(|with\s+pytest\.raises\b)"
)


_EXACT_UNITTEST = frozenset({
    "assertEqual", "assertEquals", "assertDictEqual", "assertListEqual", "assertTupleEqual",
    "assertSetEqual", "assertSequenceEqual", "assertMultiLineEqual", "assertCountEqual", "assertIn",
    "assertIs", "assertIsNone", "assertFalse", "assertRaises", "assertAlmostEqual", "assertRegex",
})  # fmt: skip


_LOOSE_UNITTEST = frozenset({"assertTrue", "assertIsNotNone", "assertIsNot", "assert_"})


_BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException"})


_APPROX_DEFAULTS = {"rel": 1e-6, "abs": 1e-12}


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.split("  #", 1)[0]).strip()


def _is_assertion(text: str) -> bool:
    return bool(_ASSERT_RE.match(text.strip()))


def _stmt(text: str) -> ast.AST | None:
    """The single statement or expression on one line, when it parses on its own."""
    source = text.strip()
    if source.startswith("with ") and source.endswith(":"):
        source += " pass"
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    if len(body) != 1:
        return None
    node = body[0]
    return node.value if isinstance(node, ast.Expr) else node


def _is_truthy_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and bool(node.value)


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return ""


def _approx_tolerance(node: ast.AST) -> dict[str, float]:
    found: dict[str, float] = {}
    for sub in ast.walk(node):
        if _call_name(sub) == "approx" and isinstance(sub, ast.Call):
            for key, default in _APPROX_DEFAULTS.items():
                value = next((k.value for k in sub.keywords if k.arg == key), None)
                number = value.value if isinstance(value, ast.Constant) else default
                if isinstance(number, int | float):
                    found[key] = max(found.get(key, 0.0), float(number))
    return found


def _raises_types(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for sub in ast.walk(node):
        if _call_name(sub) in ("raises", "assertRaises") and isinstance(sub, ast.Call) and sub.args:
            first = sub.args[0]
            elements = first.elts if isinstance(first, ast.Tuple) else [first]
            names |= {e.id if isinstance(e, ast.Name) else ast.unparse(e) for e in elements}
    return names


def weakened(old: str, new: str) -> str | None:
    """Why replacing assertion `old` by `new` weakens it, or None. Both are one source line."""
    if re.search(r"\bor\s+(True|1)\b", new) and not re.search(r"\bor\s+(True|1)\b", old):
        return "`or True` makes it always pass"
    old_node, new_node = _stmt(old), _stmt(new)
    if old_node is None or new_node is None:
        return None
    old_tol, new_tol = _approx_tolerance(old_node), _approx_tolerance(new_node)
    for key, value in new_tol.items():
        if key in old_tol and value > old_tol[key]:
            return f"pytest.approx tolerance {key} raised from {old_tol[key]:g} to {value:g}"
    old_raises, new_raises = _raises_types(old_node), _raises_types(new_node)
    if old_raises and new_raises & _BROAD_EXCEPTIONS and not old_raises & _BROAD_EXCEPTIONS:
        was, now = ", ".join(sorted(old_raises)), ", ".join(sorted(new_raises))
        return f"expected exception broadened from {was} to {now}"
    if isinstance(old_node, ast.Call) and isinstance(new_node, ast.Call):
        before, after = _call_name(old_node), _call_name(new_node)
        if after in _LOOSE_UNITTEST and new_node.args and _is_truthy_constant(new_node.args[0]):
            return f"{after}({ast.unparse(new_node.args[0])}) always passes"
        if before in _EXACT_UNITTEST and after in _LOOSE_UNITTEST:
            return f"{before} replaced by the looser {after}"
        return None
    if not isinstance(old_node, ast.Assert) or not isinstance(new_node, ast.Assert):
        return None
    before_test, after_test = old_node.test, new_node.test
    if _is_truthy_constant(after_test):
        return f"replaced by `assert {ast.unparse(after_test)}`, which always passes"
    if (
        isinstance(after_test, ast.BoolOp)
        and isinstance(after_test.op, ast.Or)
        and any(_is_truthy_constant(v) for v in after_test.values)
    ):
        return "an always-true `or` operand makes it always pass"
    if not isinstance(before_test, ast.Compare) or not isinstance(
        before_test.ops[0], ast.Eq | ast.Is | ast.In
    ):
        return None
    if isinstance(before_test.ops[0], ast.Is) and not isinstance(before_test.comparators[0], ast.Constant):
        return None
    if not isinstance(after_test, ast.Compare):
        was, now = ast.unparse(before_test), ast.unparse(after_test)
        return f"value check `{was}` replaced by the truthiness check `{now}`"
    after_op = after_test.ops[0]
    is_not_none = (
        isinstance(after_op, ast.IsNot)
        and isinstance(after_test.comparators[0], ast.Constant)
        and after_test.comparators[0].value is None
    )
    if is_not_none and not (
        isinstance(before_test.ops[0], ast.Is)
        and isinstance(before_test.comparators[0], ast.Constant)
        and before_test.comparators[0].value is None
    ):
        return f"value check `{ast.unparse(before_test)}` replaced by `{ast.unparse(after_test)}`"
    if (
        isinstance(before_test.ops[0], ast.Eq)
        and isinstance(after_op, ast.In)
        and ast.dump(after_test.comparators[0]) == ast.dump(before_test.left)
    ):
        # `assert titles == ["a"]` -> `assert "a" in titles`: the value may now hold anything else too
        was, now = ast.unparse(before_test), ast.unparse(after_test)
        return f"exact comparison `{was}` loosened to the membership check `{now}`"
    same_subject = ast.dump(before_test.left) == ast.dump(after_test.left)
    loose = ast.Lt | ast.LtE | ast.Gt | ast.GtE | ast.In | ast.NotEq | ast.NotIn
    if same_subject and isinstance(before_test.ops[0], ast.Eq) and isinstance(after_op, loose):
        return f"exact comparison `{ast.unparse(before_test)}` loosened to `{ast.unparse(after_test)}`"
    return None


def _function_ranges(source: bytes | None, names: set[str]) -> list[tuple[int, int]]:
    if not source or not names:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    return [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names
    ]


def assertions(
    files: list[FileDiff], gone: dict[str, list[tuple[str, int]]], old_source: Callable[[str], bytes | None]
) -> list[Finding]:
    tests = [fd for fd in files if is_test_file(fd.path) and fd.status == "M"]
    removed_all = [
        (fd, h, ln) for fd in tests for h in fd.hunks for ln in h.removed if _is_assertion(ln.text)
    ]
    added_all = [
        (fd, h, ln)
        for fd in files
        for h in fd.hunks
        for ln in h.added
        if fd.path.endswith(".py") and _is_assertion(ln.text)
    ]
    # An assertion that reappears verbatim anywhere in the diff was kept or moved, not removed.
    spare = Counter(_normal(ln.text) for _, _, ln in added_all) & Counter(
        _normal(ln.text) for _, _, ln in removed_all
    )
    left_removed: dict[tuple[str, int], list[DiffLine]] = {}
    for fd, hunk, line in _unspent(removed_all, spare, lambda item: item[2].text):
        left_removed.setdefault((fd.path, hunk.index), []).append(line)
    left_added: dict[tuple[str, int], list[DiffLine]] = {}
    for fd, hunk, line in _unspent(added_all, spare, lambda item: item[2].text):
        left_added.setdefault((fd.path, hunk.index), []).append(line)
    findings = []
    for fd in tests:
        names = {name for name, _ in gone.get(fd.path, [])}
        ranges = _function_ranges(old_source(fd.path), names) if names else []
        for hunk in fd.hunks:
            where = (fd.path, hunk.index)
            for old, new, why in _judged(left_removed.get(where, []), left_added.get(where, [])):
                if old.old and any(start <= old.old <= end for start, end in ranges):
                    continue  # reported as a deleted test function
                if new is None:
                    findings.append(
                        Finding(
                            f"assertion removed without a replacement: {old.text.strip()[:160]}",
                            fd.path,
                            old.old,
                            rule="assertion-removed",
                        )
                    )
                    continue
                findings.append(
                    Finding(
                        f"assertion weakened ({why}): `{old.text.strip()[:100]}` -> "
                        f"`{new.text.strip()[:100]}`",
                        fd.path,
                        new.new,
                        rule="assertion-weakened",
                    )
                )
    return findings


def changed_assertions(
    removed: list[DiffLine], added: list[DiffLine]
) -> list[tuple[DiffLine, DiffLine | None, str]]:
    """Of one region's removed and added lines: each assertion removed without a replacement
    (None, "") or replaced by a weaker one (the replacement and why). One that reappears verbatim
    was kept or moved."""
    gone = [line for line in removed if _is_assertion(line.text)]
    new = [line for line in added if _is_assertion(line.text)]
    spare = Counter(_normal(line.text) for line in new) & Counter(_normal(line.text) for line in gone)
    return _judged(
        _unspent(gone, spare, lambda line: line.text), _unspent(new, spare, lambda line: line.text)
    )


def _unspent(items: list[T], spare: Counter[str], text: Callable[[T], str]) -> list[T]:
    """`items` without as many of each normalized assertion as `spare` counts (kept or moved)."""
    budget = Counter(spare)
    left = []
    for item in items:
        key = _normal(text(item))
        if budget[key] > 0:
            budget[key] -= 1
        else:
            left.append(item)
    return left


def _judged(removed: list[DiffLine], added: list[DiffLine]) -> list[tuple[DiffLine, DiffLine | None, str]]:
    """Each removed assertion without a replacement (None, ""), or with a weaker one (and why)."""
    found: list[tuple[DiffLine, DiffLine | None, str]] = []
    for old, replacement in _pair(removed, added):
        if replacement is None:
            found.append((old, None, ""))
        elif why := weakened(old.text, replacement.text):
            found.append((old, replacement, why))
    return found


def _pair(removed: list[DiffLine], added: list[DiffLine]) -> list[tuple[DiffLine, DiffLine | None]]:
    """Match each removed assertion with its most similar added one in the same hunk."""
    candidates = sorted(
        (
            (difflib.SequenceMatcher(None, r.text.strip(), a.text.strip()).ratio(), i, j)
            for i, r in enumerate(removed)
            for j, a in enumerate(added)
        ),
        reverse=True,
    )
    matched: dict[int, DiffLine] = {}
    used: set[int] = set()
    for _, i, j in candidates:
        if i not in matched and j not in used:
            matched[i] = added[j]
            used.add(j)
    return [(r, matched.get(i)) for i, r in enumerate(removed)]
