"""setup-command: the project's venv is built in the sandbox and used for its tests and app import."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import sandbox
from bot.exceptions import FatalError
from bot.sandbox import project_env
from tests.conftest import reachable_tempdir


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A repository dir the sandbox user can read (pytest's tmp_path is private to root)."""
    with reachable_tempdir() as parent:
        yield parent


def write_wheel(repo: Path) -> None:
    """A wheel in the repository, as a project's vendored dependency (the tree is read-only to setup)."""
    pkg = repo.parent / "src" / "greeting"
    (pkg / "greeting").mkdir(parents=True)
    (pkg / "greeting" / "__init__.py").write_text('WORD = "hello"\n')
    (pkg / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "greeting"\nversion = "1.0"\n'
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(repo / "wheels"),
            str(pkg),
        ],
        check=True,
        capture_output=True,
    )
    for path in [repo, *repo.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_no_setup_command_means_specship_own_interpreter(reachable: Path) -> None:
    assert project_env.prepare(reachable, "", reachable) == sys.executable


def test_setup_command_installs_into_a_venv_the_tests_then_use(reachable: Path) -> None:
    repo = reachable / "repo"
    repo.mkdir()
    write_wheel(repo)
    with sandbox.scratch_dir() as home:
        python = project_env.prepare(
            repo, "pip install --no-index --quiet --find-links wheels greeting", home
        )
        assert python == str(home / "venv" / "bin" / "python")
        probe = sandbox.run(
            [python, "-c", "import greeting, pytest; print(greeting.WORD, pytest.__name__)"],
            cwd=repo,
            timeout=60,
        )
        assert probe.ok, probe.output
        assert probe.output.strip() == "hello pytest"


def test_failing_setup_command_is_one_clear_error(reachable: Path) -> None:
    with sandbox.scratch_dir() as home, pytest.raises(FatalError) as error:
        project_env.prepare(reachable, "python -c 'raise SystemExit(\"no such requirements file\")'", home)
    assert "exited with 1" in error.value.cause
    assert "no such requirements file" in error.value.cause
    assert "setup-command" in error.value.fix


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        (
            "pip install -r backend/requirements.txt",
            ["/v/python", "-m", "pip", "install", "-r", "backend/requirements.txt"],
        ),
        ("python -m pip install .", ["/v/python", "-m", "pip", "install", "."]),
        ("uv pip install -r r.txt", ["uv", "pip", "install", "-r", "r.txt"]),
    ],
)
def test_setup_argv(command: str, argv: list[str]) -> None:
    assert project_env.setup_argv(command, "/v/python") == argv


def test_setup_argv_refuses_unbalanced_quotes() -> None:
    with pytest.raises(FatalError, match="cannot be split"):
        project_env.setup_argv("pip install 'x", "/v/python")
