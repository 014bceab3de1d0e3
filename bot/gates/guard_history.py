"""Tests the run saw fail, then took out of the suite or weakened: its own test runs against the last.

The diff against the base cannot see a test the agent wrote and removed or rewrote in one run: at
the base it never existed. The run's test runs can: a test that failed in one of them and is
missing from the full run of the final content was deleted, renamed or uncollected after it failed;
one that passes there after its assertions were removed or loosened since it last failed was made
to pass by the test, not by the code.
"""

from __future__ import annotations

import ast
import difflib
import posixpath
from collections.abc import Callable
from pathlib import Path

from bot import git, parsed
from bot.gates import Finding, GateContext
from bot.gates.diffs import DiffLine
from bot.gates.guard_asserts import changed_assertions

RULE = "failed-test-removed"
RULE_WEAKENED = "failed-test-weakened"
REMOVED = (
    "test {node} failed earlier in this run and is no longer in the suite ({message}): make the code "
    "pass it, or correct its expectation where it contradicts the spec; do not delete or rename it"
)
WEAKENED = (
    "test {node} failed earlier in this run and passes only since {change}: make the code pass the "
    "test as it was, or correct its expectation where it contradicts the spec; do not weaken it"
)


def removed_failures(ctx: GateContext, gone: dict[str, list[tuple[str, int]]]) -> list[Finding]:
    """Every test that failed in one of the run's test runs and is absent from the final full run.

    Only the agent's change is judged so (`check` on a human's change has no run history); a test
    of the base that was deleted is the deleted-test rule's (`gone`), not reported twice."""
    final = _final_run(ctx) if ctx.share.failed else None
    if final is None:
        return []
    share = ctx.share
    reported = {(path, name) for path, names in gone.items() for name, _ in names}
    # A parametrized test whose parameters changed keeps its function: only its ids moved.
    functions = {node.split("[", 1)[0] for node in final}
    findings = []
    for node, message in share.failed.items():
        if node in final or node.split("[", 1)[0] in functions:
            continue
        file = posixpath.normpath(posixpath.join(ctx.settings.app_directory, node.split("::", 1)[0]))
        name = node.split("::")[-1].split("[", 1)[0]
        if (file, name) in reported:
            continue
        lines = (line.removeprefix("E").strip() for line in message.splitlines())  # pytest's `E` lines
        said = "; ".join(line for line in lines if line)[:200] or "no message"
        findings.append(Finding(REMOVED.format(node=node, message=said), file, None, rule=RULE))
    return findings


def _final_run(ctx: GateContext) -> dict[str, str] | None:
    """The outcomes of the full run of the content as it is now, when the agent's run made one.

    None for a human's change (`check` has no run history) and when the final content was never
    run in full (the pytest gate reports that)."""
    if ctx.author != "agent":
        return None

    def content() -> str | None:
        try:
            return git.content_key(ctx.repo, "HEAD", ctx.share.private_index(ctx.repo))
        except git.GitError:
            return None

    key = ctx.share.scope.once(("content", str(ctx.repo)), content)  # both rules, one git add per gate run
    return ctx.share.full_runs.get(key) if key is not None else None


def weakened_failures(
    ctx: GateContext, at_base: Callable[[str], bytes | None], now: Callable[[str], bytes | None]
) -> list[Finding]:
    """Every new test that failed in one of the run's test runs and passes in the final full run
    with an assertion removed or loosened since the last run it failed in.

    A test function that exists at the base is the diff's to judge (assertion-removed and
    assertion-weakened against the base), not reported twice."""
    final = _final_run(ctx) if ctx.share.failed_trees else None
    if final is None:
        return []
    judged: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}  # (path, qual) -> (node, tree)
    for node, tree in ctx.share.failed_trees.items():
        file_part, *names = node.split("::")
        qual = tuple(name.split("[", 1)[0] for name in names)
        path = posixpath.normpath(posixpath.join(ctx.settings.app_directory, file_part))
        # a parametrized test is one function: judged once, when one of its cases now passes
        if final.get(node) != "passed" or not qual or (path, qual) in judged or not _inside(path):
            continue
        if _function(at_base(path), qual) is None:
            judged[path, qual] = (node, tree)
    by_tree: dict[str, set[str]] = {}
    for (path, _), (_, tree) in judged.items():
        by_tree.setdefault(tree, set()).add(path)
    sources = {tree: _read_all(ctx.repo, tree, paths) for tree, paths in by_tree.items()}
    findings: list[Finding] = []
    for (path, qual), (node, tree) in judged.items():
        before = _function(sources[tree].get(path), qual)
        after = _function(now(path), qual)
        if before is None or after is None:
            continue
        for old, new, why in changed_assertions(*_changed_lines(before, after)):
            was = old.text.strip()
            if new is None:
                change, line = f"an assertion was removed: `{was[:120]}`", after[0]
            else:
                instead = new.text.strip()
                change = f"an assertion was weakened ({why}): `{was[:100]}` -> `{instead[:100]}`"
                line = new.new or after[0]
            message = WEAKENED.format(node=node, change=change)
            findings.append(Finding(message, path, line, rule=RULE_WEAKENED))
    return findings


def _read_all(repo: Path, tree: str, paths: set[str]) -> dict[str, bytes | None]:
    """The files at a failing run's tree, in one cat-file however many of its tests are judged."""
    try:
        return git.show_files(repo, tree, sorted(paths))
    except git.GitError:  # the tree is gone: nothing to compare with
        return {}


def _inside(path: str) -> bool:
    """A repository-relative path that stays inside the repository (a node id names a collected
    file relative to the app directory; one outside the repository is never read)."""
    return not (posixpath.isabs(path) or path == ".." or path.startswith("../"))


def _function(source: bytes | None, qual: tuple[str, ...]) -> tuple[int, list[str]] | None:
    """(first line, lines) of the function `qual` names (class names, then the function's)."""
    read = _parse(source) if source else None
    if read is None:
        return None
    text, body = read
    node: ast.stmt | None = None
    for index, name in enumerate(qual):
        last = index == len(qual) - 1
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
        node = next((n for n in body if isinstance(n, kinds) and n.name == name), None)
        if node is None:
            return None
        body = node.body
    if node is None:
        return None
    lines = text.splitlines()
    return node.lineno, lines[node.lineno - 1 : node.end_lineno or node.lineno]


def _parse(source: bytes) -> tuple[str, list[ast.stmt]] | None:
    """A test file's text and statements (bot.parsed parses it once however many tests failed)."""
    try:
        text = source.decode("utf-8")
        return text, parsed.parse(text).body
    except (SyntaxError, ValueError):
        return None


def _changed_lines(
    before: tuple[int, list[str]], after: tuple[int, list[str]]
) -> tuple[list[DiffLine], list[DiffLine]]:
    """The lines of the function removed and added between its two versions, numbered in each."""
    (old_start, old_lines), (new_start, new_lines) = before, after
    removed: list[DiffLine] = []
    added: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed += [DiffLine("-", old_lines[i], old_start + i, None) for i in range(i1, i2)]
        added += [DiffLine("+", new_lines[j], None, new_start + j) for j in range(j1, j2)]
    return removed, added
