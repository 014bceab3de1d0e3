"""Only tracked files and the files the agent wrote are the project's: the tools and the sandbox see
nothing else, and an ignored `.env` or an untracked credentials file keeps its mode (finding 2)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import git, sandbox
from bot.agent.tools import Toolbox, ToolResult
from bot.sandbox.paths import PathRefused, Workspace
from tests.conftest import reachable_tempdir, run_git

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files to another uid")
CANARY = "DATABASE_PASSWORD=canary-0f9e8d7c6b5a"
PEM = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n"
CREDS = f'{{"type": "service_account", "private_key": "{PEM}"}}\n'


@pytest.fixture
def repo() -> Iterator[Path]:
    """A checkout as a runner leaves it: tracked code, an ignored private .env, an untracked
    credentials file an auth action wrote, and a tracked file only its owner may read."""
    with reachable_tempdir() as parent:
        root = parent / "repo"
        (root / "backend").mkdir(parents=True)
        (root / ".gitignore").write_text(".env\n.venv/\n")
        (root / "backend" / "app.py").write_text("DEBUG = False\n")
        (root / "backend" / "private_notes.md").write_text("tracked, but mode 0600\n")
        run_git(root, "init", "-q")
        run_git(root, "add", "-A")
        run_git(root, "commit", "-q", "-m", "base")
        (root / "backend" / "private_notes.md").chmod(0o600)
        env = root / "backend" / ".env"
        env.write_text(CANARY + "\n")
        env.chmod(0o600)
        creds = root / "gha-creds-1a2b3c4d5e6f.json"
        creds.write_text(CREDS)
        creds.chmod(0o600)
        (root / ".venv" / "lib" / "site-packages").mkdir(parents=True)
        (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        yield root


def toolbox(root: Path) -> Toolbox:
    return Toolbox(Workspace(root), lambda ids: ToolResult("ran"), lambda: ToolResult("checked"))


def edit(tools: Toolbox, **args: object) -> ToolResult:
    return tools.execute("str_replace_based_edit_tool", args)


@pytest.mark.parametrize("path", ["backend/.env", "gha-creds-1a2b3c4d5e6f.json"])
def test_untracked_and_ignored_files_cannot_be_viewed_or_edited(repo: Path, path: str) -> None:
    tools = toolbox(repo)
    for args in (
        {"command": "view", "path": path},
        {"command": "str_replace", "path": path, "old_str": "canary", "new_str": "x"},
        {"command": "insert", "path": path, "insert_line": 0, "insert_text": "x"},
        {"command": "create", "path": path, "file_text": "overwritten"},
    ):
        result = edit(tools, **args)
        assert result.is_error, args
        assert "git does not track it and Specship did not write it" in result.content
    assert (repo / "backend" / ".env").read_text() == CANARY + "\n"
    assert "BEGIN PRIVATE KEY" in (repo / "gha-creds-1a2b3c4d5e6f.json").read_text()


def test_search_and_listing_show_only_the_projects_files(repo: Path) -> None:
    tools = toolbox(repo)
    assert tools.execute("search", {"pattern": "canary|PRIVATE KEY"}).content == "No matches."
    listing = edit(tools, command="view", path=".").content
    assert "backend/" in listing
    assert "gha-creds" not in listing
    assert ".env" not in edit(tools, command="view", path="backend").content
    assert edit(tools, command="view", path=".venv").is_error


def test_files_the_agent_writes_are_visible_and_recorded(repo: Path) -> None:
    tools = toolbox(repo)
    assert not edit(tools, command="create", path="backend/new.py", file_text="VALUE = 1\n").is_error
    assert "VALUE = 1" in edit(tools, command="view", path="backend/new.py").content
    assert "backend/new.py:1: VALUE = 1" in tools.execute("search", {"pattern": "VALUE"}).content
    assert not edit(
        tools, command="str_replace", path="backend/app.py", old_str="False", new_str="True"
    ).is_error
    assert git.written_paths(repo) == ["backend/new.py", "backend/app.py"]
    # a new Workspace (a later tool call, another process) knows them too
    assert Workspace(repo).view.written == {"backend/new.py", "backend/app.py"}


@pytest.mark.parametrize("linked", [False, True], ids=["checkout", "linked-worktree"])
def test_what_git_tracks_is_read_again_whenever_the_index_changes(repo: Path, linked: bool) -> None:
    """The tracked set is kept between calls, but never past a change of the index: a file git
    starts tracking becomes visible, one it stops tracking stops being visible (in a linked
    worktree the index is that worktree's own)."""
    root = repo
    if linked:
        root = repo.parent / "linked"
        run_git(repo, "worktree", "add", "-q", "-b", "side", str(root))
    view = Workspace(root).view
    (root / "notes.txt").write_text("untracked for now\n")
    assert not view.visible("notes.txt")
    assert not view.visible("notes.txt")  # the same index: the same answer
    run_git(root, "add", "notes.txt")
    assert view.visible("notes.txt")
    run_git(root, "rm", "-q", "--cached", "backend/app.py")
    assert not view.visible("backend/app.py")
    if linked:  # the main checkout's index is another one, unchanged
        assert not Workspace(repo).view.visible("notes.txt")


def test_writes_to_ignored_paths_and_installed_environments_are_refused(repo: Path) -> None:
    workspace = Workspace(repo)
    with pytest.raises(PathRefused, match="git ignores this path"):
        workspace.write_text("config/.env", "SECRET=1\n")
    with pytest.raises(PathRefused, match="inside an installed environment"):
        workspace.write_text(".venv/lib/site-packages/simplejson.py", "import os\n")
    with pytest.raises(PathRefused, match="inside an installed environment"):
        workspace.write_text("vendor/site-packages/requests.py", "import os\n")
    assert not (repo / "config").exists()
    assert git.written_paths(repo) == []


def test_outside_a_git_work_tree_every_file_is_visible(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("plain directory\n")
    assert Workspace(tmp_path).read_text("notes.txt") == "plain directory\n"


PROBE = """
import sys
for path in sys.argv[1:]:
    try:
        print(path, "READ", open(path).read().strip()[:40])
    except OSError as exc:
        print(path, type(exc).__name__)
"""


@ROOT_ONLY
def test_the_sandbox_reads_tracked_and_written_files_only_and_modes_stay(repo: Path) -> None:
    Workspace(repo).write_text("backend/written.py", "WRITTEN = 1\n")
    (repo / "backend" / "written.py").chmod(0o600)
    (repo / "backend").chmod(0o777)  # no directory stays writable for others
    modes = {
        p: stat.S_IMODE(os.stat(repo / p).st_mode) for p in ("backend/.env", "gha-creds-1a2b3c4d5e6f.json")
    }
    sandbox.prepare_workspace_for_sandbox(repo)
    for path, mode in modes.items():
        assert stat.S_IMODE(os.stat(repo / path).st_mode) == mode == 0o600, path
    assert stat.S_IMODE(os.stat(repo / "backend").st_mode) == 0o775
    targets = [
        "backend/.env",
        "gha-creds-1a2b3c4d5e6f.json",
        "backend/private_notes.md",
        "backend/written.py",
    ]
    result = sandbox.run([sys.executable, "-c", PROBE, *targets], cwd=repo, timeout=30)
    lines = dict(line.split(" ", 1) for line in result.output.strip().splitlines())
    assert lines["backend/.env"] == "PermissionError"
    assert lines["gha-creds-1a2b3c4d5e6f.json"] == "PermissionError"
    assert lines["backend/private_notes.md"].startswith("READ tracked")
    assert lines["backend/written.py"].startswith("READ WRITTEN = 1")
    assert CANARY not in result.output
    made = sandbox.run([sys.executable, "-c", "open('backend/planted.py', 'w')"], cwd=repo, timeout=30)
    assert "PermissionError" in made.output
