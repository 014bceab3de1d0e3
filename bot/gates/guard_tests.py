"""Tests removed or switched off: deleted test functions and files, new skips and xfails."""

from __future__ import annotations

import re

from bot.gates import Finding
from bot.gates.diffs import FileDiff, is_test_file

TEST_DEF_RE = re.compile(r"^\s*(?:async\s+)?def\s+(test\w*)\s*\(")


def removed_tests(files: list[FileDiff]) -> dict[str, list[tuple[str, int]]]:
    """Test functions whose `def` line was removed and not added anywhere in the diff, by file."""
    added = {
        m.group(1)
        for fd in files
        if fd.path.endswith(".py")
        for h in fd.hunks
        for line in h.added
        if (m := TEST_DEF_RE.match(line.text))
    }
    gone: dict[str, list[tuple[str, int]]] = {}
    for fd in files:
        if not is_test_file(fd.path):
            continue
        for hunk in fd.hunks:
            for line in hunk.removed:
                m = TEST_DEF_RE.match(line.text)
                if m and m.group(1) not in added and line.old:
                    gone.setdefault(fd.path, []).append((m.group(1), line.old))
    return gone


def deleted_tests(files: list[FileDiff], gone: dict[str, list[tuple[str, int]]]) -> list[Finding]:
    findings = []
    for fd in files:
        if not is_test_file(fd.path):
            continue
        missing = gone.get(fd.path, [])
        if fd.status == "D" or fd.emptied:
            had_tests = any(TEST_DEF_RE.match(line.text) for h in fd.hunks for line in h.removed)
            if missing or not had_tests:
                names = ", ".join(name for name, _ in missing[:8]) + (" ..." if len(missing) > 8 else "")
                what = f" with {len(missing)} test(s) not re-added elsewhere: {names}" if missing else ""
                verb = "deleted" if fd.status == "D" else "emptied"
                findings.append(
                    Finding(f"test file {fd.path} {verb}{what}", fd.path, 1, rule="deleted-test-file")
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


def skips(files: list[FileDiff]) -> list[Finding]:
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
    return findings
