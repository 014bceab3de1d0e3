"""Issue 13, finding 3: root never writes where sandboxed code points, and never through a symlink.

On main, root asked the sandboxed venv Python for its site-packages and wrote a .pth there; a
`sysconfig.py` committed at the repository root answered with a folder of the attacker's, whose
`zz-specship-base.pth` was a symlink to a root-only file: root overwrote it and made it 0644.
The end-to-end test below replays that through `specship local` (it fails on main); the others
pin the primitives that now make it impossible.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox import project_venv
from bot.sandbox.interpreters import own_interpreter
from bot.sandbox.users import dropping, sandbox_user
from tests.conftest import reachable_tempdir, run_git

ROOT = Path(__file__).resolve().parents[2]
SPEC = """# Feature Specification: Notes

### User Story 1 - Keep a note (Priority: P1)

**Acceptance Scenarios**:

1. **Given** a user, **When** they save a note, **Then** it is stored.
"""
SCENARIO = """turns:
  - text: "Nothing to do here."
    tool_calls:
      - name: submit_report
        input:
          summary: "Nothing."
          files: []
          acceptance_criteria: []
"""
# The hostile shim: the real sysconfig, except that get_paths() names the attacker's folder.
SHIM = """import importlib.util, os
_spec = importlib.util.spec_from_file_location(
    "_stdlib_sysconfig", os.path.join(os.path.dirname(os.__file__), "sysconfig.py"))
_real = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_real)
globals().update({k: v for k, v in vars(_real).items() if not k.startswith("__")})


def get_paths(*args, **kwargs):
    paths = dict(_real.get_paths(*args, **kwargs))
    paths["purelib"] = EVIL
    return paths
"""
VICTIM_TEXT = "root-only: never rewritten by Specship\n"


@pytest.fixture
def reachable() -> Iterator[Path]:
    with reachable_tempdir() as parent:
        yield parent


def files_under(folder: Path) -> dict[str, tuple[int, str]]:
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        detail = os.readlink(path) if path.is_symlink() else path.read_text() if path.is_file() else ""
        found[str(path.relative_to(folder))] = (stat.S_IMODE(info.st_mode), detail)
    return found


@pytest.mark.slow
def test_a_shimmed_sysconfig_cannot_make_root_write_through_a_symlink(reachable: Path) -> None:
    secret = reachable / "root-only"
    secret.mkdir(mode=0o700)
    victim = secret / "victim.conf"
    victim.write_text(VICTIM_TEXT)
    victim.chmod(0o600)
    evil = reachable / "evil-site-packages"  # a folder the sandboxed code controls
    evil.mkdir()
    evil.chmod(0o777)
    (evil / "zz-specship-base.pth").symlink_to(victim)
    before = files_under(evil)

    repo = reachable / "repo"
    repo.mkdir()
    (repo / "sysconfig.py").write_text(SHIM.replace("EVIL", repr(str(evil))))
    (repo / ".github").mkdir()
    (repo / ".github/specship.yml").write_text('setup-command: "python -c pass"\n')
    (repo / "specs/001-notes").mkdir(parents=True)
    (repo / "specs/001-notes/spec.md").write_text(SPEC)
    scenario = reachable / "scenario.yaml"
    scenario.write_text(SCENARIO)
    run_git(repo, "init", "-q")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "base")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_"))}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "bot", "local", "--repo", str(repo), "--feature", "001-notes",
         "--model", f"scripted:{scenario}"],
        env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert "phase: setup" in done.stderr, done.stderr[-3000:]
    assert victim.read_text() == VICTIM_TEXT, "root wrote through the symlink the sandbox planted"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert files_under(evil) == before
    assert sorted(p.name for p in secret.iterdir()) == ["victim.conf"]


def test_the_venv_and_its_pth_are_ours_until_handed_over(reachable: Path) -> None:
    parent = reachable / "env"
    parent.mkdir(mode=0o755)
    interpreter = own_interpreter()
    user = sandbox_user() if dropping() else None
    venv = project_venv.build_venv(parent, interpreter, "/opt/specship-site", user)
    pth = venv / interpreter.site_dir / project_venv.BASE_PTH
    assert pth.read_text() == "/opt/specship-site\n"
    assert not pth.is_symlink()
    assert stat.S_IMODE(pth.stat().st_mode) == 0o644
    if user is not None:
        assert pth.stat().st_uid == user.uid  # handed over only after we wrote it
        assert parent.stat().st_uid == os.geteuid()  # the folder holding it stays ours


def test_write_new_file_refuses_a_symlinked_site_packages(reachable: Path) -> None:
    venv = reachable / "venv" / "lib" / "python3.12"
    venv.mkdir(parents=True)
    target = reachable / "elsewhere"
    target.mkdir()
    (venv / "site-packages").symlink_to(target)
    with pytest.raises(project_venv.UnsafePath, match="not a plain directory"):
        project_venv.write_new_file(venv / "site-packages", project_venv.BASE_PTH, "x\n")
    assert list(target.iterdir()) == []


def test_write_new_file_refuses_a_planted_file_and_a_symlink_in_place(reachable: Path) -> None:
    site = reachable / "site"
    site.mkdir()
    victim = reachable / "victim"
    victim.write_text(VICTIM_TEXT)
    (site / project_venv.BASE_PTH).symlink_to(victim)
    with pytest.raises(FileExistsError):  # O_EXCL | O_NOFOLLOW: an existing entry is never reused
        project_venv.write_new_file(site, project_venv.BASE_PTH, "x\n")
    assert victim.read_text() == VICTIM_TEXT


def test_write_new_file_refuses_a_folder_others_can_write(reachable: Path) -> None:
    site = reachable / "site"
    site.mkdir()
    site.chmod(0o777)
    with pytest.raises(project_venv.UnsafePath, match="writable by others"):
        project_venv.write_new_file(site, "x.pth", "x\n")
    assert list(site.iterdir()) == []


@pytest.mark.skipif(not dropping(), reason="ownership can differ only as root")
def test_write_new_file_refuses_a_folder_the_sandbox_user_owns(reachable: Path) -> None:
    site = reachable / "site"
    site.mkdir()
    user = sandbox_user()
    os.chown(site, user.uid, user.gid)
    with pytest.raises(project_venv.UnsafePath, match=r"not created by us|belongs to uid"):
        project_venv.write_new_file(site, "x.pth", "x\n")
    assert list(site.iterdir()) == []


@pytest.mark.skipif(not dropping(), reason="handing over changes owners only as root")
def test_hand_over_never_follows_a_link_inside_the_tree(reachable: Path) -> None:
    tree = reachable / "venv"
    (tree / "bin").mkdir(parents=True)
    outside = reachable / "root-file"
    outside.write_text("x")
    (tree / "bin" / "link").symlink_to(outside)
    user = sandbox_user()
    project_venv.hand_over(tree, user)
    assert (tree / "bin").stat().st_uid == user.uid
    assert outside.stat().st_uid == os.geteuid()
