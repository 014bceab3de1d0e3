"""The pytest gate: the project's tests run in the sandbox, judged from the result channel."""

from __future__ import annotations

import contextlib
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot import git, sandbox
from bot.exceptions import FatalError
from bot.gates import Finding, GateResult, Unverified
from bot.gates.pytest_channel import Listener, installed_plugin
from bot.gates.pytest_judge import Judgement, judge
from bot.gates.pytest_plugins import plugin_args
from bot.gates.share import RunShare

NAME = "pytest"
DEFAULT_TIMEOUT_S = 900.0
MAX_JUNIT_BYTES = 20 * 1024 * 1024
OUTCOMES = ("passed", "failed", "error", "skipped")
TAMPERED = "the test results cannot be trusted: "
CHANNEL_NEVER_OPENED = (
    "the test process never opened Specship's result channel (exit {code}{said}), so no test result "
    "can be trusted"
)
NO_TESTS = "pytest collected no test in {where}/, so nothing was verified"
NEVER_COLLECTED = "pytest stopped (exit {code}) before it finished collecting the tests{said}"
FIX_NOT_COLLECTED = (
    "make the tests start in the sandbox: pass the settings and services they read with `test-env`, "
    "install their dependencies with `setup-command`, and run pytest from `app-directory`"
)
FIX_TEST_COMMAND = (
    "make `test-command` run pytest with the project's interpreter from `app-directory` "
    "(install pytest and the project's dependencies with `setup-command`)"
)
FIX_NO_TESTS = "set `app-directory` to the folder whose tests pytest should collect, or add tests"
NOTHING_PASSED = (
    "no test passed: {failed} failed at the base commit too and {skipped} were skipped, so nothing "
    "shows that the change works"
)
FIX_NOTHING_PASSED = (
    "make the project's tests pass in the sandbox at the base commit: pass the settings and services "
    "they read with `test-env` and install their dependencies with `setup-command` (a warning names "
    "each test that already failed there)"
)


@dataclass(frozen=True)
class TestRun:
    """One pytest run: per-node outcomes from the result channel, and the (capped) console output."""

    returncode: int
    outcomes: dict[str, str]
    output: str
    timed_out: bool
    seconds: float
    messages: dict[str, str] = field(default_factory=dict)
    judgement: Judgement = field(default_factory=Judgement)
    reused: bool = False  # the channel's verdict of an earlier run of this very content

    @property
    def complete(self) -> bool:
        """A run that ended on its own: only such a run may answer for the same content later."""
        return not self.timed_out

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


def run_tests(
    repo: Path,
    test_command: str,
    app_directory: str = ".",
    node_ids: Sequence[str] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
    share: RunShare | None = None,
) -> TestRun:
    """Run the tests in the sandbox, results over the channel; node ids are validated by the sandbox.

    With `share` a run is memoized by the content the sandbox sees (the work tree's git tree and
    every file the agent wrote), the node ids, the command and its environment: the same tests of
    the same content are run once per run. What is reused is the result channel's verdict of
    that earlier run, never anything the model said; a run that timed out is never reused.
    """

    def fresh() -> TestRun:
        prepare = share.prepare_workspace if share else sandbox.prepare_workspace_for_sandbox
        return _run_tests(
            repo,
            test_command,
            app_directory,
            node_ids,
            timeout=timeout,
            python=python,
            env=env,
            prepare=prepare,
        )

    if share is None:
        return fresh()
    try:
        index = share.private_index(repo)
        tree = git.worktree_tree(repo, "HEAD", index)
        content = git.content_key(repo, "HEAD", index, tree)
    except git.GitError:
        return fresh()
    key = ("tests", content, *_command_key(test_command, app_directory, python, env), tuple(node_ids))
    hits = share.tests.hits
    run = share.tests.once(key, fresh, keep=lambda done: done.complete)
    if share.tests.hits > hits:
        return replace(run, reused=True)
    if run.complete and not run.judgement.tampering:
        for node in run.failed:
            share.failed.setdefault(node, run.messages.get(node, ""))
            share.failed_trees[node] = tree
        if not node_ids:
            share.full_runs[content] = dict(run.outcomes)
    return run


def _command_key(
    test_command: str, app_directory: str, python: str, env: Mapping[str, str] | None
) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    """Everything besides the content that decides what a test run does."""
    return test_command, app_directory, python, tuple(sorted((env or {}).items()))


def _run_tests(
    repo: Path,
    test_command: str,
    app_directory: str,
    node_ids: Sequence[str],
    *,
    timeout: float,
    python: str,
    env: Mapping[str, str] | None,
    prepare: Callable[[Path], object] = sandbox.prepare_workspace_for_sandbox,
) -> TestRun:
    cwd = (repo / app_directory).resolve()
    prepare(repo)
    started = time.monotonic()
    plugins, plugin_env = plugin_args(python, (cwd, repo.resolve()))
    with sandbox.scratch_dir() as scratch, installed_plugin() as plugin, Listener() as listener:
        junit = scratch / "junit.xml"
        fixed = sandbox.pytest_argv(node_ids, junit)
        # the project's own command, the plugins it declares and ours, then our fixed flags; node
        # ids only ever follow `--`
        ours = ["-p", plugin.module, *fixed[fixed.index("-p") :]]
        argv = [*command_argv(test_command, python), *plugins, *ours]
        result = sandbox.run(
            argv,
            cwd=cwd,
            timeout=timeout,
            isolate=True,
            env=plugin.env(listener.write_fd, {**(env or {}), **plugin_env}),
            pass_fds=(listener.write_fd,),
        )
        received = listener.finish()
        try:
            # Read only after the process and everything it started are gone: no symlinks, capped.
            on_disk: bytes | None = sandbox.read_untrusted_file(junit, MAX_JUNIT_BYTES)
        except (OSError, ValueError):
            on_disk = None
    verdict = judge(received, result.returncode, result.timed_out, on_disk)
    return TestRun(
        result.returncode,
        verdict.outcomes,
        result.output,
        result.timed_out,
        time.monotonic() - started,
        verdict.messages,
        verdict,
    )


def _last_error(output: str) -> str:
    """`: <the error pytest printed last>` (its `E ` line when there is one), or nothing."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
    last = (errors or lines)[-1:]
    return f": {last[0][:300]}" if last else ""


def _gaps(run: TestRun, app_directory: str) -> list[Unverified]:
    """What this run could not establish, each with the fix that makes it checkable."""
    verdict = run.judgement
    if run.timed_out:
        return []
    said = _last_error(run.output)
    if not verdict.opened:
        return [
            Unverified(
                CHANNEL_NEVER_OPENED.format(code=run.returncode, said=said),
                FIX_TEST_COMMAND,
            )
        ]
    gaps = [Unverified(what, fix, rule="unverified-results") for what, fix in verdict.gaps]
    if verdict.collected == 0 and not verdict.collect_errors:
        gaps.append(Unverified(NO_TESTS.format(where=app_directory), FIX_NO_TESTS, rule="no-tests"))
    elif verdict.collected is None and not verdict.collect_errors:
        gaps.append(
            Unverified(
                NEVER_COLLECTED.format(code=run.returncode, said=said), FIX_NOT_COLLECTED, rule="no-tests"
            )
        )
    return gaps


def gate(
    repo: Path,
    test_command: str,
    app_directory: str = ".",
    base: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
    share: RunShare | None = None,
) -> GateResult:
    """The pytest verdict; failures that already failed at `base` are reported, not blamed.

    With `share`, a full run of this very content earlier in the run (the model's `run_tests`)
    is the verdict: the suite is not run a second time on an identical tree.
    """
    run = run_tests(repo, test_command, app_directory, timeout=timeout, python=python, env=env, share=share)
    verdict = run.judgement
    findings: list[Finding] = []
    preexisting: list[str] = []
    if run.timed_out:
        findings.append(Finding(f"pytest timed out after {timeout:.0f} s"))
    findings += [Finding(TAMPERED + text, rule="tampered-results") for text in verdict.tampering]
    findings += [
        Finding(f"collection error in {node}: {message}".strip(), rule="collection-error")
        for node, message in verdict.collect_errors
    ]
    findings += [Finding(note, severity="warning", rule="not-run") for note in verdict.notes]
    failed = run.failed
    if failed and base and not verdict.tampering:
        before = failing_at(
            repo, base, test_command, app_directory, timeout=timeout, python=python, env=env, share=share
        )
        preexisting = sorted(set(failed) & set(before))
    for node in failed:
        if node in preexisting:
            findings.append(
                Finding(f"{node} already failed at the base commit", severity="warning", rule="preexisting")
            )
        else:
            findings.append(Finding(f"{node} {run.outcomes[node]}: {run.messages.get(node, '')}".strip()))
    if run.returncode not in (0, 1, 5) and not run.timed_out and run.outcomes and not verdict.tampering:
        findings.append(Finding(f"pytest exited with {run.returncode} (usage or collection error)"))
    summary = f"{run.count('passed')} passed, {len(failed)} failed, {run.count('skipped')} skipped" + (
        f" ({len(preexisting)} already failing at base)" if preexisting else ""
    )
    if verdict.tampering:
        summary += f"; results tampered with ({len(verdict.tampering)} problem(s))"
    gaps = _gaps(run, app_directory)
    failing = any(f.severity == "error" for f in findings)
    if run.outcomes and not run.count("passed") and not failing:
        # Every test was skipped or failed at the base too (a broken environment): no evidence.
        what = NOTHING_PASSED.format(failed=len(failed), skipped=run.count("skipped"))
        gaps.append(Unverified(what, FIX_NOTHING_PASSED, rule="nothing-passed"))
    return GateResult(
        NAME,
        summary,
        tuple(findings),
        seconds=run.seconds,
        details={
            "outcomes": run.outcomes,
            "output": run.output,
            "returncode": run.returncode,
            "reused": run.reused,
        },
        unverified=tuple(gaps),
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
    share: RunShare | None = None,
) -> list[str]:
    """The failing node ids at another revision, from a temporary detached worktree (once per
    tree of that revision in a run with `share`: every repair round asks about the same base)."""

    def fresh() -> tuple[list[str], bool]:
        return _failing_at(repo, rev, test_command, app_directory, timeout=timeout, python=python, env=env)

    if share is None:
        return fresh()[0]
    try:
        tree = git.run(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{tree}}").decode().strip()
    except git.GitError:
        return fresh()[0]
    key = ("failing-at", tree, *_command_key(test_command, app_directory, python, env))
    return share.tests.once(key, fresh, keep=lambda found: found[1])[0]


def _failing_at(
    repo: Path,
    rev: str,
    test_command: str,
    app_directory: str,
    *,
    timeout: float,
    python: str,
    env: Mapping[str, str] | None,
) -> tuple[list[str], bool]:
    """(failing node ids, whether that answer is complete and may be reused)."""
    parent = Path(tempfile.mkdtemp(prefix="specship-base-"))
    parent.chmod(0o755)  # the sandbox user must be able to reach the worktree inside
    worktree = parent / "base"
    try:
        git.run(repo, "worktree", "add", "--detach", "--quiet", str(worktree), rev)
        run = run_tests(worktree, test_command, app_directory, timeout=timeout, python=python, env=env)
        return run.failed, run.complete
    except git.GitError:
        return [], False
    finally:
        with contextlib.suppress(git.GitError):
            git.run(repo, "worktree", "remove", "--force", str(worktree))
        shutil.rmtree(parent, ignore_errors=True)
