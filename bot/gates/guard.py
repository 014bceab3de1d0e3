"""The guard gate: no deleted, skipped or weakened tests, no relaxed test config, no protected paths."""

from __future__ import annotations

import time
from collections import Counter

from bot import git
from bot.gates import Finding, GateContext, GateResult, Unverified
from bot.gates.diffs import FileDiff, base_source, shared_diff
from bot.gates.guard_asserts import assertions
from bot.gates.guard_config import config_findings
from bot.gates.guard_history import removed_failures, weakened_failures
from bot.gates.guard_paths import protected_findings
from bot.gates.guard_runner import runner_findings
from bot.gates.guard_tests import deleted_tests, removed_tests, skips

NAME = "guard"
NO_BASE = "the guard needs the base revision of the change to read its diff, and there is none"
FIX_BASE = "check out the history (actions/checkout with `fetch-depth: 0`) or pass `--base <commit>`"


def check(files: list[FileDiff], ctx: GateContext, base: str) -> list[Finding]:
    """Every guard finding for a parsed diff against `base`."""
    gone = removed_tests(files)

    def old_source(path: str) -> bytes | None:
        return base_source(ctx, files, base, path)  # one batched cat-file for all changed files

    def new_source(path: str) -> bytes | None:
        target = ctx.repo / path
        return None if target.is_symlink() else git.show_file(ctx.repo, None, path)

    return [
        *protected_findings(files, ctx),
        *deleted_tests(files, gone),
        *skips(files),
        *runner_findings(files, new_source),
        *assertions(files, gone, old_source),
        *config_findings(files, ctx.repo, base),
        *removed_failures(ctx, gone),
        *weakened_failures(ctx, old_source, new_source),
    ]


def gate(ctx: GateContext) -> GateResult:
    """The guard verdict on the work tree's diff against ctx.base; every finding is an error."""
    started = time.monotonic()
    if not ctx.base or ctx.base == git.ZERO_SHA:
        gap = Unverified(NO_BASE, FIX_BASE, rule="no-base")
        return GateResult(NAME, "not run: no base revision to compare with", ran=False, unverified=(gap,))
    files = shared_diff(ctx)
    findings = check(files, ctx, ctx.base)
    errors = [f for f in findings if f.severity == "error"]
    rules = Counter(f.rule for f in errors)
    summary = (
        f"{len(files)} changed file(s), nothing weakened"
        if not errors
        else f"{len(errors)} problem(s): " + ", ".join(f"{n} {rule}" for rule, n in sorted(rules.items()))
    )
    if len(findings) > len(errors):
        summary += f"; {len(findings) - len(errors)} warning(s) to review"
    return GateResult(NAME, summary, tuple(findings), seconds=time.monotonic() - started)
