"""Tests the run saw fail and then took out of the suite: its own earlier test runs against the last.

The diff against the base cannot see a test the agent wrote and removed again in one run: at the
base it never existed. The run's test runs can: a test that failed in one of them and is missing
from the full run of the final content was deleted, renamed or uncollected after it failed.
"""

from __future__ import annotations

import posixpath

from bot import git
from bot.gates import Finding, GateContext

RULE = "failed-test-removed"
REMOVED = (
    "test {node} failed earlier in this run and is no longer in the suite ({message}): make the code "
    "pass it, or correct its expectation where it contradicts the spec; do not delete or rename it"
)


def removed_failures(ctx: GateContext, gone: dict[str, list[tuple[str, int]]]) -> list[Finding]:
    """Every test that failed in one of the run's test runs and is absent from the final full run.

    Only the agent's change is judged so (`check` on a human's change has no run history); a test
    of the base that was deleted is the deleted-test rule's (`gone`), not reported twice."""
    share = ctx.share
    if ctx.author != "agent" or not share.failed:
        return []
    try:
        content = git.content_key(ctx.repo, "HEAD", share.private_index(ctx.repo))
    except git.GitError:
        return []
    final = share.full_runs.get(content)
    if final is None:  # the final content was never run in full: the pytest gate reports that
        return []
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
