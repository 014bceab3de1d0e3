"""Where the backend is: a configured app-directory that exists, or `backend/` found when `.` has no app."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot import actions
from bot.exceptions import FatalError
from bot.gates.app_source import locate_app
from bot.settings import Settings
from bot.settings_parse import closest

# Folders a FastAPI backend commonly lives in when the repository root is not the Python project.
BACKEND_DIRS = ("backend",)


def _subdirs(repo: Path) -> list[str]:
    return sorted(p.name for p in repo.iterdir() if p.is_dir() and not p.name.startswith("."))


def _module_file(app_dir: Path, module: str) -> bool:
    base = app_dir.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _backend_with_app(repo: Path, settings: Settings) -> str | None:
    """`backend/` when the app the root would import lives there (`.` cannot import it)."""
    for name in BACKEND_DIRS:
        folder = repo / name
        if not folder.is_dir() or (folder / "__init__.py").exists():
            continue
        if settings.app:
            module = settings.app.partition(":")[0]
            if _module_file(folder, module) and not _module_file(repo, module):
                return name
            continue
        found = locate_app(repo)
        if found is not None and found.module.startswith(f"{name}."):
            return name
    return None


def resolve_app_directory(repo: Path, settings: Settings) -> Settings:
    """Settings whose app-directory exists: detected for the default `.`, refused with a fix when missing."""
    configured = settings.app_directory
    target = (repo / configured).resolve()
    if not target.is_relative_to(repo.resolve()):
        raise FatalError(
            f"app-directory {configured!r} leaves the repository.",
            "Give a folder inside the repository, relative to its root, e.g. 'backend'.",
        )
    if not target.is_dir():
        folders = _subdirs(repo)
        hint = closest(configured, folders)
        listing = ", ".join(f"{f}/" for f in folders[:12]) or "none"
        raise FatalError(
            f"app-directory {configured!r} (in .github/specship.yml or the action inputs) does not exist "
            f"in the repository.",
            f"Set it to the folder that holds the FastAPI app (the repository has: {listing}).{hint}",
        )
    if configured == ".":
        detected = _backend_with_app(repo, settings)
        if detected is not None:
            actions.runtime().info(f"app-directory: {detected}/ (detected: the FastAPI app is there)")
            return dataclasses.replace(settings, app_directory=detected)
    return settings
