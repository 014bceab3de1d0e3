"""A reused work branch brought up to date with its base: merged, never rebased or forced (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.git import Workdir
from bot.git.merge import MergeConflict
from tests.git.test_git import BRANCH, clone, hgit, human_push, remote, remote_ref, write

__all__ = ["clone", "remote"]  # the fixtures, shared with test_git

TASKS = "specs/001-x/tasks.md"


def main_commit(remote: Path, where: Path, files: dict[str, str]) -> str:
    """A person commits `files` on main and pushes: the base moves."""
    return human_push(remote, where, files, branch="main")


def parents(repo: Path, sha: str) -> list[str]:
    return hgit(repo, "rev-list", "--parents", "-n", "1", sha).split()[1:]


def specship_branch(remote: Path, clone: Callable[[str], Path], files: dict[str, str]) -> str:
    """An earlier run: the work branch with one Specship commit, pushed."""
    wd = Workdir(clone("run1"), remote_url=str(remote))
    wd.prepare_branch(BRANCH, "main")
    write(wd.path, files)
    wd.commit_all("Specship: implement x")
    return wd.push()


def test_a_reused_branch_gets_the_base_merged_in_keeping_human_commits(
    remote: Path, clone: Callable[[str], Path], tmp_path: Path
) -> None:
    specship_branch(remote, clone, {"app/items.py": "items = []\n"})
    human = human_push(remote, tmp_path / "human", {"app/human.py": "by hand\n"})
    moved = main_commit(remote, tmp_path / "human", {"README.md": "taskboard, now with docs\n"})

    wd = Workdir(clone("run2"), remote_url=str(remote))
    state = wd.prepare_branch(BRANCH, moved, base_name="main")
    assert state.reused
    assert state.merge is not None
    assert state.merge == wd.head_sha() == state.head
    assert parents(wd.path, state.merge) == [human, moved], "first parent: the branch as people left it"
    assert hgit(wd.path, "log", "-1", "--format=%s", state.merge) == f"Specship: merge main into {BRANCH}"
    assert (wd.path / "README.md").read_text() == "taskboard, now with docs\n"
    assert (wd.path / "app/human.py").read_text() == "by hand\n"
    assert hgit(wd.path, "status", "--porcelain") == "", "no merge left in progress"
    # Judged against the base, the branch shows only its own changes (the human's and Specship's).
    changed = hgit(wd.path, "diff", "--name-only", moved, "HEAD").split()
    assert changed == ["app/human.py", "app/items.py"]
    write(wd.path, {"app/items.py": "items = [1]\n"})
    wd.commit_all("Specship: revise x")
    pushed = wd.push()
    assert remote_ref(remote) == pushed
    hgit(remote, "merge-base", "--is-ancestor", human, pushed)  # a fast-forward: nothing forced away


def test_an_up_to_date_branch_is_not_merged_again(remote: Path, clone: Callable[[str], Path]) -> None:
    head = specship_branch(remote, clone, {"app/items.py": "items = []\n"})
    wd = Workdir(clone("run2"), remote_url=str(remote))
    state = wd.prepare_branch(BRANCH, "main")
    assert (state.merge, state.head, wd.head_sha()) == (None, head, head)


def test_update_false_leaves_the_branch_as_the_remote_has_it(
    remote: Path, clone: Callable[[str], Path], tmp_path: Path
) -> None:
    head = specship_branch(remote, clone, {"app/items.py": "items = []\n"})
    moved = main_commit(remote, tmp_path / "human", {"README.md": "moved\n"})
    wd = Workdir(clone("run2"), remote_url=str(remote))
    state = wd.prepare_branch(BRANCH, moved, update=False)
    assert (state.merge, wd.head_sha()) == (None, head)


def test_a_spec_conflict_takes_the_bases_text(
    remote: Path, clone: Callable[[str], Path], tmp_path: Path
) -> None:
    """Specship ticked a task on its branch; a person reworded that task on main."""
    main_commit(remote, tmp_path / "human", {TASKS: "- [ ] T001 Write it\n- [ ] T002 Test it\n"})
    specship_branch(remote, clone, {TASKS: "- [X] T001 Write it\n- [X] T002 Test it\n"})
    reworded = "- [ ] T001 Write it well\n- [ ] T002 Test it\n- [ ] T003 Ship it\n"
    moved = main_commit(remote, tmp_path / "human", {TASKS: reworded})
    wd = Workdir(clone("run2"), remote_url=str(remote))
    state = wd.prepare_branch(BRANCH, moved, base_name="main")
    assert state.resolved == (TASKS,)
    assert state.merge is not None
    assert (wd.path / TASKS).read_text() == reworded
    assert hgit(wd.path, "diff", "--name-only", moved, "HEAD") == "", "the spec is the base's"


def test_a_code_conflict_stops_with_the_files_and_changes_nothing(
    remote: Path, clone: Callable[[str], Path], tmp_path: Path
) -> None:
    head = specship_branch(remote, clone, {"app/main.py": "x = 2  # Specship\n", "app/ok.py": "ok\n"})
    moved = main_commit(remote, tmp_path / "human", {"app/main.py": "x = 3  # a person\n"})
    wd = Workdir(clone("run2"), remote_url=str(remote), retry_command="/bot retry")
    with pytest.raises(MergeConflict) as caught:
        wd.prepare_branch(BRANCH, moved, base_name="main")
    assert caught.value.files == ("app/main.py",)
    assert "app/main.py" in caught.value.cause
    assert "conflict" in caught.value.cause
    assert "git merge origin/main" in caught.value.fix
    assert "/bot retry" in caught.value.fix
    assert wd.head_sha() == head
    assert hgit(wd.path, "status", "--porcelain") == ""
    assert (wd.path / "app/main.py").read_text() == "x = 2  # Specship\n"
    assert remote_ref(remote) == head


def test_a_push_during_the_run_keeps_the_merge_and_the_human_commits(
    remote: Path, clone: Callable[[str], Path], tmp_path: Path
) -> None:
    specship_branch(remote, clone, {"app/items.py": "items = []\n"})
    moved = main_commit(remote, tmp_path / "human", {"README.md": "moved\n"})
    wd = Workdir(clone("run2"), remote_url=str(remote), sleep=lambda _: None)
    state = wd.prepare_branch(BRANCH, moved, base_name="main")
    write(wd.path, {"app/items.py": "items = [1]\n"})
    wd.commit_all("Specship: revise x")
    during = human_push(remote, tmp_path / "other", {"app/other.py": "pushed meanwhile\n"})
    pushed = wd.push()
    assert remote_ref(remote) == pushed
    hgit(remote, "merge-base", "--is-ancestor", during, pushed)
    hgit(remote, "merge-base", "--is-ancestor", moved, pushed)
    assert hgit(remote, "cat-file", "blob", f"{pushed}:app/items.py") == "items = [1]"
    # main's commit is merged, not copied: it appears once in the branch's history.
    subjects = hgit(remote, "log", "--format=%s", pushed).splitlines()
    assert subjects.count("human") == 2  # main's commit and the push during the run, once each
    assert state.merge is not None
