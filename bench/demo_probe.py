"""Benchmark-only helper: one `specship demo` in this process with its subprocesses timed; writes JSON."""

from __future__ import annotations

import time

T0 = time.monotonic()

import json  # noqa: E402 - the clock starts before anything is imported
import shutil  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def classify(argv: Any) -> str:
    """pytest, bandit, app import (the probe script) or other, from a sandbox.run argv."""
    args = [str(a) for a in argv]
    if "pytest" in args:
        return "pytest"
    if any(Path(a).name == "bandit" for a in args) or "bandit" in args:
        return "bandit"
    if len(args) > 1 and args[1] == "-c":
        return "app import"
    return "other"


def main(out_path: Path) -> int:  # noqa: PLR0915 - one scripted measurement
    from bot import git, sandbox
    from bot.__main__ import main as cli_main
    from bot.agent import scripted
    from bot.cli import demo as cli_demo
    from bot.cli.progress import TerminalProgress

    state: dict[str, Any] = {"phase": "setup", "repo": None}
    marks: list[tuple[str, float]] = [("setup", 0.0)]
    calls: list[dict[str, Any]] = []

    def timed(
        kind: str, func: Callable[..., Any], label: Callable[..., str] | None = None
    ) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return func(*args, **kwargs)
            finally:
                calls.append(
                    {
                        "kind": kind if label is None else label(*args),
                        "phase": state["phase"],
                        "start": started - T0,
                        "seconds": time.monotonic() - started,
                    }
                )

        return wrapper

    def everywhere(func: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
        """Replace func in every loaded bot module that bound it (faces and `from x import f` alike)."""
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("bot"):
                for name, value in list(vars(module).items()):
                    if value is func:
                        setattr(module, name, wrapper)

    # Load what the demo calls before patching, so no module binds an unpatched function later.
    import bot.gates.run
    import bot.pipeline.session

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

    def run_local(repo: Path, *args: Any) -> int:
        state["repo"] = repo
        return original_run_local(repo, *args)

    cli_demo.run_local = run_local  # type: ignore[assignment]
    imported = time.monotonic() - T0
    try:
        code = cli_main(["demo"])
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
                        turns.append({"turn": record["turn"], "usage": record["usage"]})
                    elif record["kind"] == "task":
                        system, task = record["system"], record["task"]
            shutil.rmtree(repo.parent, ignore_errors=True)
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
                }
            ),
            encoding="utf-8",
        )
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
