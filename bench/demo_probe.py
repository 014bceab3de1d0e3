"""Benchmark-only helper: one `specship demo` in this process with its subprocesses timed; writes JSON.

`demo_probe.py OUT [--baseline] [demo arguments]`: with --baseline the demo runs as Specship did
before issue 17 (no memoized test runs, Specship's own pytest plugins autoloaded, the old cache
breakpoints), for a before/after ratio inside one `make bench` run.
"""

from __future__ import annotations

import time

T0 = time.monotonic()
EXTRA: list[str] = []  # more `specship demo` arguments (--model)
BASELINE = False

import hashlib  # noqa: E402 - the clock starts before anything is imported
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def classify(argv: Any) -> str:
    """pytest, bandit, app import (the probe script, or an inline `-c` import) or other, from a
    sandbox.run argv."""
    args = [str(a) for a in argv]
    if "pytest" in args:
        return "pytest"
    if any(Path(a).name == "bandit" for a in args) or "bandit" in args:
        return "bandit"
    if any(Path(a).name == "probe_script.py" for a in args) or (len(args) > 1 and args[1] == "-c"):
        return "app import"
    return "other"


def content_digest(repo: Path | None) -> str:
    """The git tree of the work tree as it is (untracked files too, ignored ones not), through a
    throwaway index: which tree a test run saw."""
    if repo is None:
        return ""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="specship-probe-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        for args in (["read-tree", "HEAD"], ["add", "-A"]):
            subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=False)
        done = subprocess.run(["git", "write-tree"], cwd=repo, env=env, capture_output=True, check=False)
    return done.stdout.decode().strip() or hashlib.sha256(done.stderr).hexdigest()


def old_breakpoints(
    system: str, tools: list[Any], messages: list[Any]
) -> tuple[list[Any], list[Any], list[Any]]:
    """The breakpoints before issue 17: system prompt, last tool, newest user turn only."""
    import copy

    ephemeral = {"type": "ephemeral"}
    blocks = [{"type": "text", "text": system, "cache_control": ephemeral}]
    tools, messages = copy.deepcopy(tools), copy.deepcopy(messages)
    if tools:
        tools[-1]["cache_control"] = ephemeral
    for message in reversed(messages):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, str):
                message["content"] = [{"type": "text", "text": content, "cache_control": ephemeral}]
            elif content:
                content[-1]["cache_control"] = ephemeral
            break
    return blocks, tools, messages


def node_ids(argv: Any) -> list[str]:
    args = [str(a) for a in argv]
    return args[args.index("--") + 1 :] if "--" in args else []


def main(out_path: Path) -> int:  # noqa: PLR0915 - one scripted measurement
    from bot import git, sandbox
    from bot.__main__ import main as cli_main
    from bot.agent import scripted
    from bot.cli import demo as cli_demo
    from bot.cli.progress import TerminalProgress

    state: dict[str, Any] = {"phase": "setup", "repo": None}
    marks: list[tuple[str, float]] = [("setup", 0.0)]
    calls: list[dict[str, Any]] = []

    probing = [0.0]  # the probe's own bookkeeping time, taken out of the harness's share

    def timed(
        kind: str, func: Callable[..., Any], label: Callable[..., str] | None = None
    ) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return func(*args, **kwargs)
            finally:
                ended = time.monotonic()
                call = {
                    "kind": kind if label is None else label(*args),
                    "phase": state["phase"],
                    "start": started - T0,
                    "seconds": ended - started,
                }
                if call["kind"] == "git" and len(args) > 1:
                    call["what"] = str(args[1])
                if call["kind"] == "pytest":
                    call["node_ids"] = node_ids(args[0])
                    call["tree"] = content_digest(state["repo"])
                calls.append(call)
                probing[0] += time.monotonic() - ended

        return wrapper

    def everywhere(func: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
        """Replace func in every loaded bot module that bound it (faces and `from x import f` alike)."""
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("bot"):
                for name, value in list(vars(module).items()):
                    if value is func:
                        setattr(module, name, wrapper)

    # Load what the demo calls before patching, so no module binds an unpatched function later.
    import bot.gates.pytest_plugins
    import bot.gates.run
    import bot.gates.share
    import bot.pipeline.session

    if BASELINE:
        # Before issue 17: every test run ran, with whatever plugins Specship's venv autoloads.
        bot.gates.pytest_plugins.is_ours = lambda python: False  # type: ignore[assignment]
        original_once = bot.gates.share.Shared.once

        def never_kept(self: Any, key: Any, compute: Any, keep: Any = None) -> Any:
            if isinstance(key, tuple) and key and key[0] in ("tests", "failing-at"):
                return compute()
            return (
                original_once(self, key, compute) if keep is None else original_once(self, key, compute, keep)
            )

        bot.gates.share.Shared.once = never_kept  # type: ignore[method-assign]
        import bot.agent.client

        bot.agent.client.with_cache_breakpoints = old_breakpoints  # type: ignore[assignment]

    for name in dir(git):  # the git face loads its modules on first use: load them all now
        getattr(git, name)
    assert bot.gates.run
    assert bot.pipeline.session
    everywhere(sandbox.run, timed("subprocess", sandbox.run, lambda argv, *a: classify(argv)))
    everywhere(
        sandbox.prepare_workspace_for_sandbox,
        timed("prepare workspace", sandbox.prepare_workspace_for_sandbox),
    )
    everywhere(git.run, timed("git", git.run))
    scripted.ScriptedModel.complete = timed(  # type: ignore[method-assign]
        "scripted model", scripted.ScriptedModel.complete
    )
    original_phase = TerminalProgress.phase

    def phase(self: Any, name: str) -> None:
        state["phase"] = name
        marks.append((name, time.monotonic() - T0))
        original_phase(self, name)

    TerminalProgress.phase = phase  # type: ignore[method-assign]
    original_run_local = cli_demo.run_local

    def run_local(repo: Path, *args: Any, **kwargs: Any) -> int:
        state["repo"] = repo
        return original_run_local(repo, *args, **kwargs)

    cli_demo.run_local = run_local  # type: ignore[assignment]
    imported = time.monotonic() - T0
    try:
        code = cli_main(["demo", *EXTRA])
    finally:
        ended = time.monotonic() - T0
        repo: Path | None = state["repo"]
        turns: list[dict[str, Any]] = []
        system = task = ""
        if repo is not None:
            transcript = repo / ".specship" / "transcript.jsonl"
            if transcript.is_file():
                for line in transcript.read_text(encoding="utf-8").splitlines():
                    record = json.loads(line)
                    if record["kind"] == "assistant":
                        uses = [b for b in record.get("content") or [] if b.get("type") == "tool_use"]
                        turns.append(
                            {"turn": record["turn"], "usage": record["usage"], "tool_calls": len(uses)}
                        )
                    elif record["kind"] == "task":
                        system, task = record["system"], record["task"]
            shutil.rmtree(repo.parent, ignore_errors=True)  # `specship demo` itself keeps the folder
        # Reading the transcript and removing the demo's folder are the probe's work, not Specship's.
        after = time.monotonic() - T0 - ended
        out_path.write_text(
            json.dumps(
                {
                    "imported_s": imported,
                    "ended_s": ended,
                    "marks": marks,
                    "calls": calls,
                    "turns": turns,
                    "system_chars": len(system),
                    "task_chars": len(task),
                    "probe_s": probing[0] + after,
                    "probe_after_s": after,
                    "baseline": BASELINE,
                    # ru_maxrss: this process (the harness) and the largest child it waited for
                    "harness_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "child_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                }
            ),
            encoding="utf-8",
        )
    return code


if __name__ == "__main__":
    BASELINE = "--baseline" in sys.argv[2:]
    EXTRA.extend(a for a in sys.argv[2:] if a != "--baseline")
    sys.exit(main(Path(sys.argv[1])))
