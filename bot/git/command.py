"""The one way Specship runs git: argv only, hardening options, a clean environment, a timeout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.exceptions import FatalError

ZERO_SHA = "0" * 40


# A hostile .git/config can name hooks, fsmonitor commands or filters that git would run for us;
# these options make every git call ignore them.
HARDENING: tuple[str, ...] = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.untrackedCache=false",
    "-c", "protocol.ext.allow=never",
    "-c", "protocol.file.allow=user",
    "-c", "core.sshCommand=false",
    "-c", "diff.external=",
    "-c", "core.pager=cat",
)  # fmt: skip


class GitError(Exception):
    """A git command failed; carries its stderr."""


def git_env() -> dict[str, str]:
    """The environment for git: no system config, no prompts, no pager, a fixed locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
        LC_ALL="C",
        GIT_ATTR_NOSYSTEM="1",
    )
    return env


def run(
    repo: Path,
    *args: str,
    input_bytes: bytes | None = None,
    timeout: float = 120,
    extra_env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
) -> bytes:
    """Run one hardened git command in `repo`; returns stdout, raises GitError on failure.

    ok_codes: exit codes that are answers, not failures (check-ignore exits 1 for "none ignored").
    """
    argv = ["git", *HARDENING, *args]
    try:
        proc = subprocess.run(
            argv,
            cwd=repo,
            input=input_bytes,
            capture_output=True,
            env={**git_env(), **(extra_env or {})},
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        if not Path(repo).is_dir():  # subprocess says the same for a missing working directory
            raise FatalError(
                f"The directory {repo} does not exist.", "Point Specship at the repository's directory."
            ) from None
        raise FatalError("git is not installed.", "Install git (2.30 or newer).") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:g} s") from None
    if proc.returncode not in ok_codes:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {' '.join(args[:2])} failed: {message}")
    return proc.stdout
