"""setup-command: each command as argv in the sandbox, `python`, `pip` and `uv` meaning the project's venv."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bot.exceptions import FatalError
from bot.sandbox.environment import SAFE_PATH
from bot.sandbox.process import run

SETUP_TIMEOUT_S = 20 * 60
SETUP_FAILED_FIX = (
    "Fix setup-command in .github/specship.yml: each command runs as argv (a shell only if you write one, "
    "e.g. ['sh', '-c', '...']) from the repository root, in the sandbox, with `python`, `pip` and `uv` "
    "meaning the project's virtual environment and test-env in its environment."
)
NO_UV = "Use Specship's image (it ships uv), or install the dependencies with pip in setup-command."


def uv_path() -> str | None:
    """uv as we ship it: beside our interpreter (the dev venv), else on the safe PATH (the image)."""
    return shutil.which("uv", path=f"{os.path.dirname(sys.executable)}:{SAFE_PATH}")


def command_argv(argv: Sequence[str], python: str, search_path: str) -> list[str]:
    """One setup command as it runs: `python`/`pip`/`uv` are the venv's; others must exist on its PATH."""
    args = list(argv)
    if args[0] in ("python", "python3"):
        args[0] = python
    elif args[0] in ("pip", "pip3"):
        args[:1] = [python, "-m", "pip"]
    elif args[0] == "uv":
        uv = uv_path()
        if uv is None:
            raise FatalError(f"setup-command {shlex.join(argv)!r} needs uv, which is not installed.", NO_UV)
        args[0] = uv
    elif "/" not in args[0] and shutil.which(args[0], path=search_path) is None:
        raise FatalError(
            f"setup-command {shlex.join(argv)!r}: {args[0]!r} is neither in the project's virtual "
            "environment nor on the sandbox's PATH.",
            f"Install it in an earlier command, or call it through the venv (e.g. `python -m {args[0]}`). "
            + SETUP_FAILED_FIX,
        )
    return args


def run_setup(
    repo: Path,
    commands: Sequence[Sequence[str]],
    python: str,
    env: Mapping[str, str],
    *,
    info: Callable[[str], None],
    budget_s: float = SETUP_TIMEOUT_S,
) -> None:
    """Run every command in order (one time budget for all), telling `info` as each one finishes."""
    deadline = time.monotonic() + budget_s
    search_path = env.get("PATH", SAFE_PATH)
    for number, argv in enumerate(commands, 1):
        shown = shlex.join(argv)
        left = deadline - time.monotonic()
        if left <= 1:
            raise FatalError(
                f"setup-command ran out of its {budget_s / 60:g}-minute budget before {shown!r}.",
                "Make the setup faster (a lock file, fewer steps).",
            )
        result = run(command_argv(argv, python, search_path), cwd=repo, timeout=left, isolate=True, env=env)
        if not result.ok:
            which = f"command {number} of {len(commands)} " if len(commands) > 1 else ""
            raise FatalError(
                f"setup-command {which}{shown!r} {result.status}; its output ends with:\n"
                f"{result.output[-1500:]}",
                SETUP_FAILED_FIX,
            )
        info(f"setup: {shown} ({result.duration_s:.1f} s)")
