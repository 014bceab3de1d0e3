"""The project's Python: a venv the sandbox user owns, filled by `setup-command`, for its tests and app."""

from __future__ import annotations

import shlex
import sys
import sysconfig
from pathlib import Path

from bot import sandbox
from bot.exceptions import FatalError

SETUP_TIMEOUT_S = 20 * 60
SETUP_FAILED_FIX = (
    "Fix setup-command in .github/specship.yml (it runs as argv, without a shell, from the repository "
    "root, with `pip` and `python` meaning the project's venv), or install the dependencies another way."
)


def setup_argv(setup_command: str, python: str) -> list[str]:
    """The setup command as argv; `pip` and `python` mean the project venv's."""
    try:
        argv = shlex.split(setup_command)
    except ValueError as exc:
        raise FatalError(f"setup-command cannot be split into arguments: {exc}.", SETUP_FAILED_FIX) from None
    if not argv:
        raise FatalError("setup-command is empty.", SETUP_FAILED_FIX)
    if argv[0] in ("python", "python3"):
        argv[0] = python
    elif argv[0] in ("pip", "pip3"):
        argv[:1] = [python, "-m", "pip"]
    return argv


def prepare(repo: Path, setup_command: str, home: Path) -> str:
    """The interpreter the project's code runs with.

    Without a setup command that is Specship's own interpreter (its packages include pytest and
    FastAPI's stack only in development). With one, a venv is created in `home` (owned by the
    sandbox user), sees Specship's packages through a .pth file at the lowest priority, and the
    command installs the project's dependencies into it - run in the sandbox, because installing
    a project can execute its code.
    """
    if not setup_command.strip():
        return sys.executable
    venv = home / "venv"
    created = sandbox.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=repo, timeout=120, isolate=True
    )
    python = venv / "bin" / "python"
    if not created.ok or not python.exists():
        raise FatalError(
            f"Could not create the project's virtual environment: {created.output[-500:]}", SETUP_FAILED_FIX
        )
    site = Path(
        sandbox.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=repo,
            timeout=60,
            isolate=True,
        ).output.strip()
    )
    # Specship's own packages (pip, pytest) stay importable, behind whatever the project installs.
    (site / "zz-specship-base.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    (site / "zz-specship-base.pth").chmod(0o644)
    result = sandbox.run(
        setup_argv(setup_command, str(python)),
        cwd=repo,
        timeout=SETUP_TIMEOUT_S,
        isolate=True,
        env={
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}:{sandbox.SAFE_PATH}",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        },
    )
    if not result.ok:
        raise FatalError(
            f"setup-command {setup_command!r} {result.status}; its output ends with:\n"
            f"{result.output[-1500:]}",
            SETUP_FAILED_FIX,
        )
    return str(python)
