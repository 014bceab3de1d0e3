"""The project's environment for its setup, tests and app: interpreter, venv, test-env, setup commands."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot import actions
from bot.sandbox.environment import SAFE_PATH
from bot.sandbox.interpreters import (
    Interpreter,
    choose,
    installed_interpreters,
    own_interpreter,
    project_requirement,
)
from bot.sandbox.project_layout import find_uv_lock, import_roots, uv_sync_argv
from bot.sandbox.project_venv import build_venv
from bot.sandbox.setup_commands import run_setup
from bot.sandbox.test_env import resolve_test_env
from bot.sandbox.users import dropping, require_reachable, sandbox_user
from bot.settings import Settings

UV_FOUND = "setup: {lock} found and no setup-command set, so `{argv}` builds the project's environment"


@dataclass(frozen=True)
class ProjectEnv:
    """What the project's code runs with: its interpreter and the extras of each sandboxed test or app run."""

    python: str = sys.executable
    env: Mapping[str, str] = field(default_factory=dict)
    interpreter: str = ""  # the Python version, when Specship built a venv for the project


def _interpreter(repo: Path, app_dir: Path, venv: bool) -> Interpreter:
    requirement = project_requirement(repo, app_dir)
    own = own_interpreter()
    if not requirement or requirement.allows(own.version):
        return own
    # Only now is it worth asking the other interpreters on the machine for their versions.
    return choose(requirement, installed_interpreters(), venv=venv)


@contextlib.contextmanager
def project_environment(
    repo: Path,
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    mask: Callable[[str], None] | None = None,
    info: Callable[[str], None] | None = None,
) -> Iterator[ProjectEnv]:
    """The project's interpreter and environment for one run; a venv it needed is removed afterwards.

    Without setup commands (none configured, no uv.lock) the project runs with Specship's own
    interpreter, which must satisfy its requires-python/.python-version. With them, a venv is built
    (see project_venv), the commands fill it in the sandbox, and its interpreter runs the tests and
    the app. test-env reaches the setup commands, the tests and the app probe.
    """
    environ = os.environ if environ is None else environ
    rt = actions.runtime()
    mask = mask or rt.mask
    info = info or rt.info
    repo = repo.resolve()
    app_dir = (repo / settings.app_directory).resolve()
    values = resolve_test_env(settings.test_env, environ, mask)
    extras = dict(values)
    roots = import_roots(app_dir)
    if roots and "PYTHONPATH" not in extras:
        extras["PYTHONPATH"] = ":".join(roots)  # relative: tests and the probe run from the app directory
    commands = [tuple(c) for c in settings.setup_command]
    lock = find_uv_lock(repo, app_dir) if not commands else None
    if lock is not None:
        commands = [uv_sync_argv(repo, lock)]
        info(UV_FOUND.format(lock=lock.relative_to(repo).as_posix(), argv=" ".join(commands[0])))
    interpreter = _interpreter(repo, app_dir, venv=bool(commands))
    if not commands:
        yield ProjectEnv(sys.executable, extras)
        return
    parent = Path(tempfile.mkdtemp(prefix="specship-env-"))
    try:
        parent.chmod(0o755)
        user = sandbox_user() if dropping() else None
        if user is not None:
            require_reachable(parent)
        # Specship's own packages (pip, pytest) stay importable behind the project's, for its own Python only.
        base = sysconfig.get_paths()["purelib"] if interpreter.own else None
        venv = build_venv(parent, interpreter, base, user)
        python = str(venv / "bin" / "python")
        cache = parent / "uv-cache"
        cache.mkdir(mode=0o700)
        if user is not None:
            os.chown(cache, user.uid, user.gid, follow_symlinks=False)
        own_bin = f"{os.path.dirname(sys.executable)}:" if interpreter.own else ""
        venv_env = {"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{own_bin}{SAFE_PATH}"}
        setup_env = {
            **values,
            **venv_env,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "UV_PROJECT_ENVIRONMENT": str(venv),
            "UV_PYTHON": python,
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_CACHE_DIR": str(cache),
            "UV_LINK_MODE": "copy",
            "UV_NO_PROGRESS": "1",
        }
        run_setup(repo, commands, python, setup_env, info=info)
        yield ProjectEnv(python, {**venv_env, **extras}, interpreter.label)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
