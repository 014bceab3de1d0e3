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
    # A benchmark measures time: the verdict is reported with the figure, not asserted.
    method = result.details.get("method")
    return {
        "seconds": seconds,
        "subprocess_s": sum(spent),
        "detail": f"{result.verdict} ({method}): {result.summary}",
    }


def _auth_split(repo: Path) -> dict[str, Any]:
    """Where the sandboxed probe's time goes, by its own steps run here in order (unsandboxed, in
    this fresh helper process): importing the app, reading the route table, the OpenAPI document,
    and the probe requests (four per route)."""
    import os

    from bot.gates import probe_auth, probe_script

    app_dir = repo / "backend"
    os.chdir(app_dir)
    sys.path.insert(0, str(app_dir))
    root = str(app_dir.resolve())
    spent: dict[str, float] = {}
    started = time.perf_counter()
    app = probe_script._load("src.main:app")
    spent["import"] = time.perf_counter() - started
    started = time.perf_counter()
    routes = [r for r in (probe_script._route(o, e, root) for o, e in probe_script._contexts(app)) if r]
    targets = probe_script._targets(routes, probe_auth)
    spent["routes"] = time.perf_counter() - started
    started = time.perf_counter()
    app.openapi()
    spent["openapi"] = time.perf_counter() - started
    started = time.perf_counter()
    probe_auth.probe_routes(app, targets, "bench-key")
    spent["requests"] = time.perf_counter() - started
    return {**spent, "targets": len(targets), "seconds": sum(spent.values()), "detail": "split of the probe"}


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
    from bot import settings
    from bot.speckit import contracts, markdown
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

    # every spec, plan, tasks and checklist file, once each: speckit.blocks, or markdown-it for a
    # file outside the scanner's subset
    timed(markdown, "_blocks", "markdown")
    timed(contracts, "_load_yaml", "yaml")  # each contract: one libyaml parse, PyYAML's Python constructor
    policy = settings.load({}, repo_root=repo).checklists
    started = time.perf_counter()
    count = sum(1 for feature in iter_features(repo)[2] if readiness(feature, policy) is not None)
    total = time.perf_counter() - started
    return {"seconds": total, "features": count, **spent, "detail": "split of `specs`"}


def _check(repo: Path) -> dict[str, Any]:
    """Every gate on the repository with one module changed (`check`'s own call), against git's
    own time to see that change (`git status` + `git diff HEAD`, run in the same process)."""
    import subprocess

    from bot.gates import GateContext
    from bot.gates.run import run_all
    from bot.settings import Settings

    changed = repo / "backend" / "src" / "pkg_000" / "mod_000.py"
    original = changed.read_text(encoding="utf-8")
    changed.write_text(original + "\nCHANGED = True\n", encoding="utf-8")
    try:
        started = time.perf_counter()
        for args in (["status", "--porcelain"], ["diff", "HEAD"]):
            subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True)
        git_s = time.perf_counter() - started
        spent = _timed_subprocesses()
        ctx = GateContext(repo, "HEAD", Settings(app_directory="backend"))
        started = time.perf_counter()
        results = run_all(ctx)
        seconds = time.perf_counter() - started
    finally:
        changed.write_text(original, encoding="utf-8")
    verdicts = ", ".join(f"{r.name} {r.verdict}" for r in results)
    return {"seconds": seconds, "subprocess_s": sum(spent), "git_s": git_s, "detail": verdicts}


def _read_all(repo: Path) -> dict[str, Any]:
    """What one interpreter needs to read every file under specs/ (the floor for `specs`)."""
    import os

    started = time.perf_counter()
    total = 0
    for folder, _dirs, files in os.walk(repo / "specs"):
        for name in files:
            total += len((Path(folder) / name).read_bytes())
    return {"seconds": time.perf_counter() - started, "detail": f"{total / 1e6:.1f} MB read"}


def main(case: str, repo: Path) -> None:
    cases = {
        "search": lambda: _search(repo),
        "repo-map": lambda: _repo_map(repo),
        "auth-static": lambda: _auth(repo, dynamic=False),
        "auth-dynamic": lambda: _auth(repo, dynamic=True),
        "auth-split": lambda: _auth_split(repo),
        "specs-split": lambda: _specs_split(repo),
        "check": lambda: _check(repo),
        "read-all": lambda: _read_all(repo),
    }
    print(json.dumps(cases[case]()))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
