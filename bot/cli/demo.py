"""`specship demo`: the bundled taskboard example implemented end to end in a fresh repository, offline."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bot import actions, git, settings
from bot.cli.confirm import warn_then_wait
from bot.cli.local import run_local

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "taskboard"
DEMO_FEATURE = "002-task-due-dates"
DEMO_SCENARIO = EXAMPLE / "scenarios" / f"{DEMO_FEATURE}.yaml"
# The figure comes from `make bench` (docs/benchmarks.md, "Tokens"): the bundled 002 session
# priced at claude-sonnet-4-6's list price. A real session takes its own number of turns.
DEMO_COST = (
    "The demo will call Claude ({model}) with your ANTHROPIC_API_KEY, so it spends real money: "
    "about $1 for this example (the bundled session prices at $0.81 on claude-sonnet-4-6), and "
    "it stops at max-cost-usd, ${cap:.2f}. To run it offline for free, unset "
    "ANTHROPIC_API_KEY or pass --model scripted:{scenario}."
)


def main(args: argparse.Namespace) -> int:
    """Copy the taskboard example into a fresh git repository and implement 002 there."""
    model = args.model
    if model is None and not os.environ.get("ANTHROPIC_API_KEY"):
        model = f"scripted:{DEMO_SCENARIO}"
    if not (model or "").startswith("scripted:"):
        # Before anything is created: stopping here leaves nothing behind and costs nothing.
        config = settings.load(os.environ, repo_root=EXAMPLE)
        cost = DEMO_COST.format(model=model or config.model, cap=config.max_cost_usd, scenario=DEMO_SCENARIO)
        warn_then_wait(cost, yes=args.yes)
    parent = Path(tempfile.mkdtemp(prefix="specship-demo-"))
    parent.chmod(0o755)  # the sandbox user runs the example's tests from inside it
    repo = parent / "taskboard"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("scenarios", "__pycache__", ".ruff_cache"))
    for command in (("init", "--quiet", "--initial-branch=main"), ("add", "-A")):
        git.run(repo, *command)
    git.run(
        repo, "-c", "user.name=Specship Demo", "-c", "user.email=demo@specship.invalid",
        "commit", "--quiet", "-m", "Taskboard example: 001 implemented, 002 specified",
    )  # fmt: skip
    actions.runtime().info(f"Demo repository: {repo}")
    actions.runtime().info(f"Model: {model or 'Claude (ANTHROPIC_API_KEY)'}")
    sys.stderr.flush()
    return run_local(repo, DEMO_FEATURE, model, None, yes=args.yes, rerun="make demo")
