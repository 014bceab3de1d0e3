"""Benchmark-only helper: one in-process scale case in a fresh process; prints its call time as JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

NO_MATCH = r"specship_bench_no_such_symbol_[0-9]+"


def _search(repo: Path) -> dict[str, Any]:
    from bot.agent.tools import Toolbox, ToolResult
    from bot.sandbox.paths import Workspace

    def refuse(*_: object) -> ToolResult:
        return ToolResult("not in this benchmark", is_error=True)

    toolbox = Toolbox(Workspace(repo), refuse, refuse)
    started = time.perf_counter()
    result = toolbox.execute("search", {"pattern": NO_MATCH})
    seconds = time.perf_counter() - started
    assert result.content == "No matches.", result.content[:300]
    return {"seconds": seconds, "detail": f"no match, every file read: /{NO_MATCH}/"}


def _repo_map(repo: Path) -> dict[str, Any]:
    from bot.agent.repomap import repo_map

    started = time.perf_counter()
    text = repo_map(repo)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "detail": f"{len(text):,} characters, {text.count(chr(10)) + 1} lines"}


def _auth(repo: Path, dynamic: bool) -> dict[str, Any]:
    from bot.gates import GateContext
    from bot.gates.app_source import locate_app
    from bot.gates.fastapi_auth import gate
    from bot.gates.static_routes import static_app_info
    from bot.settings import Settings

    settings = Settings(
        app_directory="backend",
        app="src.main:app",
        auth_dependencies=("get_current_user_id",),
        public_routes=("/public/**",),
    )
    ctx = GateContext(repo, None, settings)
    spent = _timed_subprocesses()
    started = time.perf_counter()
    if dynamic:
        result = gate(ctx, timeout=120)  # imports the app in the sandbox, static analysis on failure
    else:
        location = locate_app(ctx.app_dir, settings.app)
        assert location is not None
        result = gate(ctx, static_app_info(ctx, location))
    seconds = time.perf_counter() - started
    method = result.details.get("method")
    assert method == ("import" if dynamic else "static"), (method, result.details.get("error"))
    assert result.passed, result.summary
    return {"seconds": seconds, "subprocess_s": sum(spent), "detail": result.summary}


def _timed_subprocesses() -> list[float]:
    """Record the wall time of every bot.sandbox.run call (benchmark-only wrapper)."""
    from bot import sandbox

    spent: list[float] = []
    original = sandbox.run

    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    sandbox.run = run
    return spent


def _specs_split(repo: Path) -> dict[str, Any]:
    """Where `specs` spends its time, on the command's own path: Markdown, contract YAML, the rest."""
    from markdown_it import MarkdownIt

    from bot import settings
    from bot.speckit import contracts
    from bot.speckit.api import iter_features, readiness

    spent: dict[str, float] = {}

    def timed(owner: Any, name: str, key: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - started

        setattr(owner, name, wrapper)

    timed(MarkdownIt, "parse", "markdown")  # every spec, plan, tasks and checklist file, once each
    timed(contracts, "_load_yaml", "yaml")  # each contract: one libyaml parse, PyYAML's Python constructor
    policy = settings.load({}, repo_root=repo).checklists
    started = time.perf_counter()
    count = sum(1 for feature in iter_features(repo)[2] if readiness(feature, policy) is not None)
    total = time.perf_counter() - started
    return {"seconds": total, "features": count, **spent, "detail": "split of `specs`"}


def main(case: str, repo: Path) -> None:
    cases = {
        "search": lambda: _search(repo),
        "repo-map": lambda: _repo_map(repo),
        "auth-static": lambda: _auth(repo, dynamic=False),
        "auth-dynamic": lambda: _auth(repo, dynamic=True),
        "specs-split": lambda: _specs_split(repo),
    }
    print(json.dumps(cases[case]()))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
