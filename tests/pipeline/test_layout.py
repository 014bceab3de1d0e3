"""Where the backend is: `backend/` found when `.` has no app, a clear error for a missing folder."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.exceptions import FatalError
from bot.pipeline.layout import resolve_app_directory
from bot.settings import Settings
from tests.conftest import run_git

ROOT = Path(__file__).resolve().parents[2]
APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_backend_is_detected_when_the_root_has_no_app(tmp_path: Path) -> None:
    repo = tree(tmp_path, {"backend/app/__init__.py": "", "backend/app/main.py": APP, "README.md": "x"})
    assert resolve_app_directory(repo, Settings()).app_directory == "backend"


def test_a_configured_app_module_is_looked_up_in_backend_too(tmp_path: Path) -> None:
    repo = tree(tmp_path, {"backend/app/__init__.py": "", "backend/app/main.py": APP})
    settings = dataclasses.replace(Settings(), app="app.main:app")
    assert resolve_app_directory(repo, settings).app_directory == "backend"


def test_an_app_at_the_root_keeps_the_root(tmp_path: Path) -> None:
    repo = tree(tmp_path, {"main.py": APP, "backend/app/main.py": APP})
    assert resolve_app_directory(repo, Settings()).app_directory == "."


def test_a_configured_folder_is_kept_as_configured(tmp_path: Path) -> None:
    repo = tree(tmp_path, {"api/main.py": APP, "backend/app/main.py": APP})
    settings = dataclasses.replace(Settings(), app_directory="api")
    assert resolve_app_directory(repo, settings) is settings


def test_a_missing_folder_is_named_with_the_folders_there_are(tmp_path: Path) -> None:
    repo = tree(tmp_path, {"backend/app/main.py": APP, "docs/x.md": "x"})
    with pytest.raises(FatalError) as error:
        resolve_app_directory(repo, dataclasses.replace(Settings(), app_directory="backnd"))
    assert error.value.cause.startswith(
        "app-directory 'backnd' (in .github/specship.yml or the action inputs)"
    )
    assert "the repository has: backend/, docs/" in error.value.fix
    assert "Did you mean 'backend'?" in error.value.fix


def test_a_folder_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tree(tmp_path / "repo", {"main.py": APP})
    with pytest.raises(FatalError, match="leaves the repository"):
        resolve_app_directory(repo, dataclasses.replace(Settings(), app_directory="../.."))


def test_check_says_so_instead_of_exit_127(tmp_path: Path) -> None:
    repo = tree(tmp_path / "repo", {".github/specship.yml": "app-directory: server\n", "main.py": APP})
    run_git(repo, "init", "-q")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "base")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--repo", str(repo)],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert (
        "app-directory 'server' (in .github/specship.yml or the action inputs) does not exist" in done.stderr
    )
    assert "exit 127" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
