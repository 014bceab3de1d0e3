"""Shared fixtures: the --run-live switch, real git repositories in temp dirs, the repo root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLE = ROOT / "examples" / "taskboard"
EXAMPLE_IGNORED = shutil.ignore_patterns(
    "scenarios", "__pycache__", ".ruff_cache", ".venv", "*.db", ".pytest_cache", ".mypy_cache"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-live",
        action="store_true",
        default=False,
        help="also run tests that call the real GitHub or Anthropic API (needs tokens)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-live"):
        return
    skip = pytest.mark.skip(reason="live test: pass --run-live to call the real services")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def run_git(repo: Path, *args: str) -> str:
    """Run git in a test repository with a fixed identity; returns stdout."""
    env = {**os.environ, **GIT_ENV, "HOME": str(repo.parent)}
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@contextmanager
def reachable_tempdir(prefix: str = "specship-test-") -> Iterator[Path]:
    """A temp dir the sandbox user can traverse (pytest's tmp_path is mode 0700), removed after."""
    parent = Path(tempfile.mkdtemp(prefix=prefix))
    parent.chmod(0o755)
    try:
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def committed_example(parent: Path, message: str = "base") -> Path:
    """A copy of examples/taskboard (001 implemented, 002 specified) as a fresh one-commit repository."""
    repo = parent / "taskboard"
    shutil.copytree(EXAMPLE, repo, ignore=EXAMPLE_IGNORED)
    run_git(repo, "init", "-q")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", message)
    return repo


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """reachable_tempdir as a fixture."""
    with reachable_tempdir() as path:
        yield path


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a real git repository in a temp dir, optionally seeded with files and committed."""

    def make(files: dict[str, str | bytes] | None = None, name: str = "repo") -> Path:
        repo = tmp_path / name
        repo.mkdir()
        run_git(repo, "init", "-q")
        if files:
            for rel, content in files.items():
                target = repo / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content, encoding="utf-8")
            run_git(repo, "add", "-A")
            run_git(repo, "commit", "-q", "-m", "initial")
        return repo

    return make


# The HTTP emulators of GitHub and Anthropic, available to every test.
from tests.fakes.anthropic_fixture import anthropic_api  # noqa: E402, F401
from tests.fakes.github_fixture import gh, github_emu  # noqa: E402, F401
