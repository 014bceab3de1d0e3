"""`specship demo`: the bundled taskboard example implemented end to end in a fresh repository, offline."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bot import actions, git
from bot.cli.local import run_local

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "taskboard"
DEMO_FEATURE = "002-task-due-dates"
DEMO_SCENARIO = EXAMPLE / "scenarios" / f"{DEMO_FEATURE}.yaml"


def main(args: argparse.Namespace) -> int:
    """Copy the taskboard example into a fresh git repository and implement 002 there."""
    model = args.model
    if model is None and not os.environ.get("ANTHROPIC_API_KEY"):
        model = f"scripted:{DEMO_SCENARIO}"
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
    return run_local(repo, DEMO_FEATURE, model, None)
