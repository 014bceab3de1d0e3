"""The pytest gate: the project's tests with fixed arguments in the sandbox, judged from JUnit XML."""

from __future__ import annotations

import contextlib
import shlex
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot import git, sandbox
from bot.exceptions import FatalError
from bot.gates import Finding, GateResult

NAME = "pytest"
DEFAULT_TIMEOUT_S = 900.0
MAX_JUNIT_BYTES = 20 * 1024 * 1024
OUTCOMES = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class TestRun:
    """One pytest run: per-node outcomes from JUnit, and the (capped) console output."""

    returncode: int
    outcomes: dict[str, str]
    output: str
    timed_out: bool
    seconds: float
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return sorted(n for n, o in self.outcomes.items() if o in ("failed", "error"))

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


def command_argv(test_command: str, python: str = sys.executable) -> list[str]:
    """The configured test command as argv; `python` means the project's interpreter."""
    try:
        argv = shlex.split(test_command)
    except ValueError as exc:
        raise FatalError(
            f"test-command {test_command!r} cannot be split into arguments: {exc}.",
            "Write it as plain words, e.g. 'python -m pytest -q'.",
        ) from None
    if not argv or "pytest" not in " ".join(argv):
        raise FatalError(
            f"test-command {test_command!r} does not run pytest, so Specship cannot read results.",
            "Use a pytest command such as 'python -m pytest' (Specship adds --junitxml itself).",
        )
    if argv[0] in ("python", "python3"):
        argv[0] = python
    return argv


def _node_from_case(case: ET.Element, rootdir: Path) -> str:
    """pytest's node id from a JUnit testcase: classname is the dotted module path (+ class)."""
    classname = case.get("classname", "")
    name = case.get("name", "")
    parts = classname.split(".") if classname else []
    for cut in range(len(parts), 0, -1):
        candidate = "/".join(parts[:cut]) + ".py"
        if (rootdir / candidate).is_file():
            return "::".join([candidate, *parts[cut:], name])
    return "::".join([p for p in (classname, name) if p])


def parse_junit(xml_bytes: bytes, rootdir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Outcomes and failure messages by node id."""
    root = ET.fromstring(xml_bytes)  # noqa: S314 - size-capped, produced by our own pytest flag
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    for case in root.iter("testcase"):
        node = _node_from_case(case, rootdir)
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
                messages[node] = (child.get("message") or child.text or "")[:500]
                break
            if child.tag == "skipped":
                outcome = "skipped"
        # a teardown error adds a second <testcase> with the same id: keep the worse outcome
        if outcomes.get(node) not in ("failed", "error"):
            outcomes[node] = outcome
    return outcomes, messages


def run_tests(
    repo: Path,
    test_command: str,
    app_directory: str = ".",
    node_ids: Sequence[str] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
) -> TestRun:
    """Run the tests in the sandbox; model-supplied node ids are validated by the sandbox."""
    cwd = (repo / app_directory).resolve()
    sandbox.prepare_workspace_for_sandbox(repo)
    started = time.monotonic()
    with sandbox.scratch_dir() as scratch:
        junit = scratch / "junit.xml"
        fixed = sandbox.pytest_argv(node_ids, junit)
        # keep the project's own command, then our fixed flags; node ids only ever follow `--`
        argv = [*command_argv(test_command, python), *fixed[fixed.index("-p") :]]
        result = sandbox.run(argv, cwd=cwd, timeout=timeout, isolate=True, env=env)
        outcomes: dict[str, str] = {}
        messages: dict[str, str] = {}
        try:
            # the sandbox wrote this file: no symlinks followed, size capped
            outcomes, messages = parse_junit(sandbox.read_untrusted_file(junit, MAX_JUNIT_BYTES), cwd)
        except (OSError, ValueError, ET.ParseError):
            outcomes = {}
    return TestRun(
        result.returncode, outcomes, result.output, result.timed_out, time.monotonic() - started, messages
    )


def gate(
    repo: Path,
    test_command: str,
    app_directory: str = ".",
    base: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
) -> GateResult:
    """The pytest verdict; failures that already failed at `base` are reported, not blamed."""
    run = run_tests(repo, test_command, app_directory, timeout=timeout, python=python, env=env)
    findings: list[Finding] = []
    preexisting: list[str] = []
    if run.timed_out:
        findings.append(Finding(f"pytest timed out after {timeout:.0f} s"))
    elif not run.outcomes:
        findings.append(Finding(f"pytest ran no test or wrote no JUnit report (exit {run.returncode})"))
    failed = run.failed
    if failed and base:
        before = failing_at(repo, base, test_command, app_directory, timeout=timeout, python=python, env=env)
        preexisting = sorted(set(failed) & set(before))
    for node in failed:
        if node in preexisting:
            findings.append(
                Finding(f"{node} already failed at the base commit", severity="warning", rule="preexisting")
            )
        else:
            findings.append(Finding(f"{node} {run.outcomes[node]}: {run.messages.get(node, '')}".strip()))
    if run.returncode not in (0, 1) and not run.timed_out and run.outcomes:
        findings.append(Finding(f"pytest exited with {run.returncode} (usage or collection error)"))
    summary = f"{run.count('passed')} passed, {len(failed)} failed, {run.count('skipped')} skipped" + (
        f" ({len(preexisting)} already failing at base)" if preexisting else ""
    )
    return GateResult(
        NAME,
        summary,
        tuple(findings),
        seconds=run.seconds,
        details={"outcomes": run.outcomes, "output": run.output, "returncode": run.returncode},
    )


def failing_at(
    repo: Path,
    rev: str,
    test_command: str,
    app_directory: str,
    *,
    timeout: float,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The failing node ids at another revision, from a temporary detached worktree."""
    parent = Path(tempfile.mkdtemp(prefix="specship-base-"))
    parent.chmod(0o755)  # the sandbox user must be able to reach the worktree inside
    worktree = parent / "base"
    try:
        git.run(repo, "worktree", "add", "--detach", "--quiet", str(worktree), rev)
        run = run_tests(worktree, test_command, app_directory, timeout=timeout, python=python, env=env)
        return run.failed
    except git.GitError:
        return []
    finally:
        with contextlib.suppress(git.GitError):
            git.run(repo, "worktree", "remove", "--force", str(worktree))
        shutil.rmtree(parent, ignore_errors=True)
