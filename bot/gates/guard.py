"""The guard gate: no deleted, skipped or weakened tests, no relaxed test config, no protected paths."""

from __future__ import annotations

import ast
import difflib
import fnmatch
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from bot.gates import Finding, GateContext, GateResult
from bot.gates.diffs import DiffLine, FileDiff, is_test_file, load_diff
from bot.gates.guard_config import _BANDIT_YAML, compare_config, key_line
from bot.git import read as gitread

NAME = "guard"

# -- protected paths -----------------------------------------------------------------------------

_PROTECTED_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("specs",), "specs/ is read-only: Specship never edits specifications"),
    ((".specify",), ".specify/ is read-only: the constitution and Spec Kit files belong to the humans"),
    ((".github", "workflows"), ".github/workflows/ is read-only: workflow changes need a human reviewer"),
    (
        (".github", "actions"),
        ".github/actions/ is read-only: workflows run these with the repository's token",
    ),
)
_GIT_FILE_OK = frozenset({".github", ".gitkeep"})


def protected_reason(path: str, protected_globs: Iterable[str] = (), config_file: str = "") -> str | None:
    """Why `path` may not be changed by Specship, or None when it may."""
    parts = path.split("/")
    lower = [p.lower() for p in parts]
    for prefix, message in _PROTECTED_PREFIXES:
        if tuple(lower[: len(prefix)]) == prefix:
            return message
    for part in lower:
        if part.startswith(".git") and part not in _GIT_FILE_OK:
            return (
                f"{part} is read-only: git configuration files (.gitignore, .gitattributes, ...) need a human"
            )
    if config_file and path == config_file.strip("/"):
        return "Specship's own configuration is read-only"
    for pattern in (g.strip().strip("/") for g in protected_globs):
        if pattern and any(
            fnmatch.fnmatchcase("/".join(parts[:end]), pattern) for end in range(1, len(parts) + 1)
        ):
            return f"it matches the protected path {pattern!r} in the Specship configuration"
    return None


_TICK = re.compile(r"^(\s*[-*]\s+\[)[ xX](\].*)$")


def only_ticks(fd: FileDiff) -> bool:
    """A tasks.md change that only flips checkboxes: Specship's own bookkeeping, not an edit."""
    if fd.status != "M" or not fd.path.endswith("/tasks.md"):
        return False
    for hunk in fd.hunks:
        removed, added = hunk.removed, hunk.added
        if len(removed) != len(added):
            return False
        for old, new in zip(removed, added, strict=True):
            a, b = _TICK.match(old.text), _TICK.match(new.text)
            if not (a and b and a.groups() == b.groups()):
                return False
    return True


def _protected(files: list[FileDiff], ctx: GateContext) -> list[Finding]:
    findings = []
    for fd in files:
        reason = protected_reason(fd.path, ctx.settings.protected_paths, ctx.settings.config_file)
        if reason and not only_ticks(fd):
            verb = {"A": "added", "D": "deleted"}.get(fd.status, "changed")
            findings.append(
                Finding(f"{fd.path} {verb}: {reason}", fd.path, fd.first_line(), rule="protected-path")
            )
    return findings


# -- deleted tests -------------------------------------------------------------------------------

_DEF_RE = re.compile(r"^\s*(?:async\s+)?def\s+(test\w*)\s*\(")
_PY_DEF_RE = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(")


def _removed_tests(files: list[FileDiff]) -> dict[str, list[tuple[str, int]]]:
    """Test functions whose `def` line was removed and not added anywhere in the diff, by file."""
    added = {
        m.group(1)
        for fd in files
        if fd.path.endswith(".py")
        for h in fd.hunks
        for line in h.added
        if (m := _DEF_RE.match(line.text))
    }
    gone: dict[str, list[tuple[str, int]]] = {}
    for fd in files:
        if not is_test_file(fd.path):
            continue
        for hunk in fd.hunks:
            for line in hunk.removed:
                m = _DEF_RE.match(line.text)
                if m and m.group(1) not in added and line.old:
                    gone.setdefault(fd.path, []).append((m.group(1), line.old))
    return gone


def _deleted_tests(files: list[FileDiff], gone: dict[str, list[tuple[str, int]]]) -> list[Finding]:
    findings = []
    for fd in files:
        if not is_test_file(fd.path):
            continue
        missing = gone.get(fd.path, [])
        if fd.status == "D":
            had_tests = any(_DEF_RE.match(line.text) for h in fd.hunks for line in h.removed)
            if missing or not had_tests:
                names = ", ".join(name for name, _ in missing[:8]) + (" ..." if len(missing) > 8 else "")
                what = f" with {len(missing)} test(s) not re-added elsewhere: {names}" if missing else ""
                findings.append(
                    Finding(f"test file {fd.path} deleted{what}", fd.path, 1, rule="deleted-test-file")
                )
            continue
        for name, line in missing:
            findings.append(
                Finding(
                    f"test function {name} removed (not re-added anywhere in the diff)",
                    fd.path,
                    line,
                    rule="deleted-test",
                )
            )
    return findings


# -- skips, xfails and result-altering hooks -----------------------------------------------------

_SKIP_RE = re.compile(
    r"\bmark\.(skip|skipif|xfail)\b"
    r"|\bpytest\.(skip|xfail|importorskip)\s*\("
    r"|\bunittest\.(skip|skipIf|skipUnless|expectedFailure)\b"
    r"|@(skip|skipIf|skipUnless|expectedFailure)\b"
    r"|\.skipTest\s*\("
    r"|\bSkipTest\b"
    r"|^\s*__test__\s*=\s*False"
    r"|^\s*collect_ignore(_glob)?\s*\+?="
)
_HOOKS = frozenset({
    "pytest_runtest_makereport", "pytest_runtest_protocol", "pytest_runtest_call",
    "pytest_runtest_setup", "pytest_runtest_logreport", "pytest_report_teststatus",
    "pytest_collection_modifyitems", "pytest_ignore_collect", "pytest_deselected",
    "pytest_pycollect_makeitem", "pytest_collect_file", "pytest_sessionfinish",
    "pytest_collection_finish", "pytest_itemcollected",
})  # fmt: skip


def _skips(files: list[FileDiff]) -> list[Finding]:
    findings = []
    for fd in files:
        if not fd.path.endswith(".py") or fd.status == "D":
            continue
        removed = {line.text.strip() for h in fd.hunks for line in h.removed}
        for hunk in fd.hunks:
            for line in hunk.added:
                text = line.text.strip()
                if text.startswith("#") or text in removed:
                    continue
                m = _SKIP_RE.search(line.text)
                if m:
                    findings.append(
                        Finding(
                            f"adds a test skip/xfail ({m.group(0).strip()}): {text[:120]}",
                            fd.path,
                            line.new,
                            rule="skip-added",
                        )
                    )
                    continue
                hook = _PY_DEF_RE.match(line.text)
                if hook and hook.group(1) in _HOOKS:
                    findings.append(
                        Finding(
                            f"adds the pytest hook {hook.group(1)}, which can skip, deselect or rewrite "
                            "test results",
                            fd.path,
                            line.new,
                            rule="pytest-hook",
                        )
                    )
    return findings


# -- removed and weakened assertions -------------------------------------------------------------

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


def _assertions(
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
    budget = Counter(spare)
    for fd, hunk, line in removed_all:
        key = _normal(line.text)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            left_removed.setdefault((fd.path, hunk.index), []).append(line)
    budget = Counter(spare)
    left_added: dict[tuple[str, int], list[DiffLine]] = {}
    for fd, hunk, line in added_all:
        key = _normal(line.text)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            left_added.setdefault((fd.path, hunk.index), []).append(line)
    findings = []
    for fd in tests:
        names = {name for name, _ in gone.get(fd.path, [])}
        ranges = _function_ranges(old_source(fd.path), names) if names else []
        for hunk in fd.hunks:
            where = (fd.path, hunk.index)
            for old, new in _pair(left_removed.get(where, []), left_added.get(where, [])):
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
                why = weakened(old.text, new.text)
                if why:
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


# -- relaxed pytest / coverage / bandit configuration --------------------------------------------

_CONFIG_NAMES = frozenset({"pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", ".coveragerc", ".bandit"})


def _has_pytest_config(name: str, text: str) -> bool:
    if name == "pytest.ini":
        return True
    markers = {
        "tox.ini": r"^\s*\[pytest\]",
        "setup.cfg": r"^\s*\[tool:pytest\]",
        "pyproject.toml": r"^\s*\[tool\.pytest",
    }
    return bool(name in markers and re.search(markers[name], text, re.M))


def _config(files: list[FileDiff], repo: Path, base: str) -> list[Finding]:
    findings = []
    for fd in files:
        name = PurePosixPath(fd.path).name
        if name not in _CONFIG_NAMES and not _BANDIT_YAML.match(name):
            continue
        old_raw = gitread.show_file(repo, base, fd.path) if fd.status != "A" else None
        new_raw = gitread.show_file(repo, None, fd.path) if fd.status != "D" else None
        old_text = old_raw.decode("utf-8", "replace") if old_raw is not None else None
        new_text = new_raw.decode("utf-8", "replace") if new_raw is not None else None
        if fd.status == "A" and new_text is not None and _has_pytest_config(name, new_text):
            findings.append(
                Finding(
                    f"adds the pytest configuration file {fd.path}, which can override the project's "
                    "pytest settings",
                    fd.path,
                    1,
                    rule="config-relaxed",
                )
            )
        try:
            problems = compare_config(name, old_text, new_text)
        except ValueError as exc:
            findings.append(
                Finding(f"{fd.path} cannot be parsed: {exc}", fd.path, fd.first_line(), rule="config-relaxed")
            )
            continue
        for problem, setting in problems:
            line = key_line(new_text, setting.key, setting.section) if new_text is not None else None
            if line is None and old_text is not None:
                line = key_line(old_text, setting.key, setting.section)
            findings.append(
                Finding(f"relaxed test configuration: {problem}", fd.path, line or 1, rule="config-relaxed")
            )
    return findings


# -- the gate ------------------------------------------------------------------------------------


def check(files: list[FileDiff], ctx: GateContext, base: str) -> list[Finding]:
    """Every guard finding for a parsed diff against `base`."""
    gone = _removed_tests(files)

    def old_source(path: str) -> bytes | None:
        return gitread.show_file(ctx.repo, base, path)

    return [
        *_protected(files, ctx),
        *_deleted_tests(files, gone),
        *_skips(files),
        *_assertions(files, gone, old_source),
        *_config(files, ctx.repo, base),
    ]


def gate(ctx: GateContext) -> GateResult:
    """The guard verdict on the work tree's diff against ctx.base; every finding is an error."""
    started = time.monotonic()
    if not ctx.base or ctx.base == gitread.ZERO_SHA:
        return GateResult(
            NAME,
            "not run: no base revision to compare with",
            (Finding("the guard needs the base revision of the change to read the diff", rule="no-base"),),
            ran=False,
        )
    files = load_diff(ctx.repo, ctx.base)
    findings = check(files, ctx, ctx.base)
    rules = Counter(f.rule for f in findings)
    summary = (
        f"{len(files)} changed file(s), nothing weakened"
        if not findings
        else f"{len(findings)} problem(s): " + ", ".join(f"{n} {rule}" for rule, n in sorted(rules.items()))
    )
    return GateResult(NAME, summary, tuple(findings), seconds=time.monotonic() - started)
