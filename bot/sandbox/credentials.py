"""Persisted checkout credentials removed from every git config file of the work tree."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from bot import git
from bot.exceptions import FatalError

if TYPE_CHECKING:
    pass


def _git_config(config: Path, *args: str) -> str:
    try:
        out = git.run(config.parent, "config", "--file", str(config), *args, timeout=30)
    except git.GitError as exc:
        raise FatalError(
            f"Could not clean the git config file {config}: {exc}.",
            "Check that it is a valid git config file and writable.",
        ) from None
    return out.decode("utf-8", "surrogateescape")


def git_dir(work_tree: Path) -> Path:
    """The git directory of a work tree, following the `gitdir:` file of linked worktrees."""
    dot_git = work_tree / ".git"
    if dot_git.is_file():
        pointer = dot_git.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
        return (work_tree / pointer).resolve()
    return dot_git


def strip_persisted_credentials(repo: Path) -> list[str]:
    """Remove checkout credentials from the repo's git config files; returns names, never values.

    Covers http.*.extraheader in any URL-scoped spelling and tokens inside remote URLs, in the
    main config, worktree configs, submodule configs and every file they include or includeIf
    (actions/checkout v4+ puts the header in an included file under RUNNER_TEMP).
    """
    found = git_dir(repo)
    common = found
    if (found / "commondir").is_file():
        common = (found / (found / "commondir").read_text(encoding="utf-8").strip()).resolve()
    starts = [d / name for d in {found, common} for name in ("config", "config.worktree")]
    starts += (common / "modules").glob("**/config")
    removed: list[str] = []
    pending, seen = starts, set()
    while pending:
        config = Path(os.path.realpath(pending.pop()))
        if config in seen or not config.is_file():
            continue
        seen.add(config)
        label = os.path.relpath(config, repo) if config.is_relative_to(repo.resolve()) else config
        listing = _git_config(config, "-z", "--name-only", "--list")
        names = dict.fromkeys(name for name in listing.split("\0") if name)
        for name in names:
            low = name.lower()
            if low.startswith("http.") and low.endswith(".extraheader"):
                _git_config(config, "--unset-all", name)
                removed.append(f"{label}: {name}")
            elif low == "include.path" or (low.startswith("includeif.") and low.endswith(".path")):
                for value in _git_config(config, "-z", "--get-all", name).split("\0"):
                    if value:
                        target = Path(os.path.expanduser(value))
                        pending.append(target if target.is_absolute() else config.parent / target)
            elif low.startswith("remote.") and low.endswith((".url", ".pushurl")):
                values = [v for v in _git_config(config, "-z", "--get-all", name).split("\0") if v]
                cleaned = [_without_userinfo(v) for v in values]
                if cleaned != values:
                    _git_config(config, "--unset-all", name)
                    for value in cleaned:
                        _git_config(config, "--add", name, value)
                    removed.append(f"{label}: {name} (credentials in the URL)")
    return removed


def _without_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
