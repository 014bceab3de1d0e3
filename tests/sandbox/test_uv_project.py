"""uv projects: `uv sync --frozen` fills the project's venv when a uv.lock is found, offline in tests.

No test downloads anything: each project depends only on a wheel built here into its own
`wheels/` folder (a `path` source in pyproject.toml), its uv.lock is made with `uv lock --offline`,
and the sync runs with UV_OFFLINE=1 — passed through test-env, which also shows test-env
reaching the setup commands. A sync that needed the network would fail instead of downloading.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import sandbox
from bot.exceptions import FatalError
from bot.sandbox import project_env
from bot.sandbox.setup_commands import uv_path
from bot.settings import Settings
from tests.conftest import reachable_tempdir

UV = uv_path()
pytestmark = pytest.mark.skipif(UV is None, reason="uv is part of the dev lock; run `make test`")
OFFLINE = ("UV_OFFLINE=1",)
REGISTRY_LOCK = """version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "greeting"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.pythonhosted.org/packages/00/00/greeting-1.0-py3-none-any.whl", \
hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000", size = 1000 },
]

[[package]]
name = "tiny"
version = "0.1"
source = { virtual = "." }
dependencies = [
    { name = "greeting" },
]

[package.metadata]
requires-dist = [{ name = "greeting" }]
"""


@pytest.fixture
def reachable() -> Iterator[Path]:
    with reachable_tempdir() as parent:
        repo = parent / "repo"
        repo.mkdir()
        yield repo


def uv_project(folder: Path, word: str = "hello") -> None:
    """A tiny uv project whose only dependency is a local wheel; its uv.lock made offline."""
    src = folder.parent / f"src-{folder.name}" / "greeting"
    (src / "greeting").mkdir(parents=True)
    (src / "greeting" / "__init__.py").write_text(f"WORD = {word!r}\n")
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "greeting"\nversion = "1.0"\n'
    )
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(folder / "wheels"), str(src)],
        check=True, capture_output=True,
    )  # fmt: skip
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "tiny"\nversion = "0.1"\nrequires-python = ">=3.11"\ndependencies = ["greeting"]\n'
        "[tool.uv]\npackage = false\n"
        '[tool.uv.sources]\ngreeting = { path = "wheels/greeting-1.0-py3-none-any.whl" }\n'
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(folder.parent), "UV_OFFLINE": "1"}
    subprocess.run(
        [str(UV), "lock", "--offline", "--python", sys.executable],
        cwd=folder, env=env, check=True, capture_output=True,
    )  # fmt: skip
    shutil.rmtree(src.parent)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def imports_greeting(project: sandbox.ProjectEnv, cwd: Path) -> str:
    done = sandbox.run(
        [project.python, "-c", "import greeting; print(greeting.WORD)"], cwd=cwd, timeout=60, env=project.env
    )
    assert done.ok, done.output
    return done.output.strip()


def test_a_uv_lock_without_setup_command_means_uv_sync_frozen(reachable: Path) -> None:
    uv_project(reachable)
    lines: list[str] = []
    settings = dataclasses.replace(Settings(), test_env=OFFLINE)
    with project_env.project_environment(reachable, settings, environ={}, info=lines.append) as project:
        assert project.python != sys.executable
        assert imports_greeting(project, reachable) == "hello"
    assert lines[0] == (
        "setup: uv.lock found and no setup-command set, so `uv sync --frozen` builds the project's "
        "environment"
    )
    assert lines[1].startswith("setup: uv sync --frozen (")


def test_the_lock_of_the_app_directory_is_synced_from_the_root(reachable: Path) -> None:
    uv_project(reachable / "backend", word="from backend")
    settings = dataclasses.replace(Settings(), app_directory="backend", test_env=OFFLINE)
    lines: list[str] = []
    with project_env.project_environment(reachable, settings, environ={}, info=lines.append) as project:
        assert imports_greeting(project, reachable / "backend") == "from backend"
    assert "`uv sync --frozen --project backend`" in lines[0]


def test_an_explicit_setup_list_replaces_the_default_and_can_call_uv(reachable: Path) -> None:
    uv_project(reachable)
    settings = dataclasses.replace(
        Settings(),
        setup_command=(("uv", "sync", "--frozen"), ("python", "-c", "import greeting")),
        test_env=OFFLINE,
    )
    lines: list[str] = []
    with project_env.project_environment(reachable, settings, environ={}, info=lines.append) as project:
        assert imports_greeting(project, reachable) == "hello"
    assert [line.split(" (")[0] for line in lines] == [
        "setup: uv sync --frozen",
        "setup: python -c 'import greeting'",
    ]


def test_a_sync_that_needs_the_network_fails_offline_instead_of_downloading(reachable: Path) -> None:
    uv_project(reachable)
    # The lock now names a wheel that only PyPI has.
    (reachable / "uv.lock").write_text(REGISTRY_LOCK)
    settings = dataclasses.replace(Settings(), test_env=OFFLINE)
    with (
        pytest.raises(FatalError) as error,
        project_env.project_environment(reachable, settings, environ={}, info=print),
    ):
        pass
    assert "setup-command 'uv sync --frozen' exited with" in error.value.cause
    assert "Network connectivity is disabled" in error.value.cause, error.value.cause


def test_the_image_ships_uv_hash_pinned() -> None:
    root = Path(__file__).resolve().parents[2]
    lock = (root / "requirements.lock").read_text()
    lines = lock[lock.index("\nuv==") + 1 :].splitlines()
    end = next((i for i, line in enumerate(lines[1:], 1) if not line.startswith(" ")), len(lines))
    entry = "\n".join(lines[:end])  # `uv==...` and its indented hash and via lines
    assert "--hash=sha256:" in entry
    assert "# via -r requirements.in" in entry  # a runtime dependency, not only a dev tool
    dockerfile = (root / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile
    assert "-r /tmp/requirements.lock" in dockerfile
