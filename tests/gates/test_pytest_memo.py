"""Test runs memoized by content: one process per (content, node ids, command), the channel's own verdict."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot import git
from bot.gates import pytest as pytest_gate
from bot.gates.share import RunShare
from tests.conftest import run_git

# Every test process appends one line to a log outside the repository: the count of real runs.
COUNTING = """
import os

def pytest_sessionstart(session):
    with open(os.environ["RUNS_LOG"], "a") as log:
        log.write("run\\n")
"""
FILES = {
    "tests/__init__.py": "",
    "tests/conftest.py": COUNTING,
    "tests/test_x.py": "def test_ok():\n    assert True\n\n\ndef test_two():\n    assert 2 == 2\n",
}


def repo_with(parent: Path, files: dict[str, str]) -> tuple[Path, dict[str, str]]:
    root = parent / "repo"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    run_git(root, "init", "-q")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "base")
    logs = parent / "logs"
    logs.mkdir()
    logs.chmod(0o777)  # the sandbox user writes the count
    return root, {"RUNS_LOG": str(logs / "runs.log")}


def runs(env: dict[str, str]) -> int:
    path = Path(env["RUNS_LOG"])
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_the_same_content_runs_once_and_any_change_runs_again(reachable_dir: Path) -> None:
    repo, env = repo_with(reachable_dir, FILES)
    share = RunShare()
    first = pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share)
    again = pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share)
    assert runs(env) == 1
    assert (first.reused, again.reused) == (False, True)
    assert (
        again.outcomes
        == first.outcomes
        == {"tests/test_x.py::test_ok": "passed", "tests/test_x.py::test_two": "passed"}
    )

    # rewriting a file with the same bytes is the same content; other bytes are not
    (repo / "tests/test_x.py").write_text((repo / "tests/test_x.py").read_text())
    assert pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share).reused
    (repo / "tests/test_x.py").write_text("def test_ok():\n    assert False\n")
    changed = pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share)
    assert (changed.reused, changed.failed, runs(env)) == (False, ["tests/test_x.py::test_ok"], 2)
    # an untracked new file is content too
    (repo / "tests/test_new.py").write_text("def test_new():\n    pass\n")
    assert not pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share).reused
    assert runs(env) == 3


def test_node_ids_command_and_environment_are_part_of_the_key(reachable_dir: Path) -> None:
    repo, env = repo_with(reachable_dir, FILES)
    share = RunShare()
    pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share)
    one = pytest_gate.run_tests(
        repo, "python -m pytest -q", node_ids=["tests/test_x.py::test_ok"], env=env, share=share
    )
    assert (one.reused, list(one.outcomes)) == (False, ["tests/test_x.py::test_ok"])
    assert not pytest_gate.run_tests(repo, "python -m pytest -q -x", env=env, share=share).reused
    assert not pytest_gate.run_tests(
        repo, "python -m pytest -q", env={**env, "MODE": "b"}, share=share
    ).reused
    assert runs(env) == 4


def test_the_gate_reuses_the_models_full_run_of_the_same_tree(reachable_dir: Path) -> None:
    repo, env = repo_with(reachable_dir, FILES)
    share = RunShare()
    pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share)
    result = pytest_gate.gate(repo, "python -m pytest -q", ".", env=env, share=share)
    assert result.verdict == "pass"
    assert result.details["reused"] is True
    assert runs(env) == 1
    # without a share (another run) nothing is reused
    assert pytest_gate.gate(repo, "python -m pytest -q", ".", env=env).details["reused"] is False
    assert runs(env) == 2


def test_an_ignored_file_the_agent_wrote_is_part_of_the_content(reachable_dir: Path) -> None:
    # The adversary: a conftest the tests load, outside the tree git hashes. Only the harness's
    # key decides reuse, so changing it must run the tests again.
    files = {
        **FILES,
        ".gitignore": "tests/conftest_local.py\n",
        "tests/conftest.py": COUNTING + "from tests.conftest_local import *\n",
    }
    files["tests/conftest_local.py"] = "VALUE = 1\n"
    repo, env = repo_with(reachable_dir, files)
    git.record_written(repo, "tests/conftest_local.py")
    share = RunShare()
    pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share)
    (repo / "tests/conftest_local.py").write_text("VALUE = 2\n")
    assert not pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share).reused
    assert runs(env) == 2


def test_a_run_that_timed_out_is_never_reused(reachable_dir: Path) -> None:
    slow = {**FILES, "tests/test_slow.py": "import time\n\n\ndef test_slow():\n    time.sleep(30)\n"}
    repo, env = repo_with(reachable_dir, slow)
    share = RunShare()
    first = pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share, timeout=3)
    assert first.timed_out
    second = pytest_gate.run_tests(repo, "python -m pytest -q", env=env, share=share, timeout=3)
    assert (second.timed_out, second.reused, runs(env)) == (True, False, 2)


def test_the_base_commit_is_run_once_per_run(reachable_dir: Path) -> None:
    files = {
        **FILES,
        "tests/test_x.py": "def test_ok():\n    assert True\n\n\ndef test_bad():\n    assert 1 == 2\n",
    }
    repo, env = repo_with(reachable_dir, files)
    (repo / "tests/test_x.py").write_text(
        "def test_ok():\n    assert False\n\n\ndef test_bad():\n    assert 1 == 2\n"
    )
    share = RunShare()
    for _ in range(2):
        result = pytest_gate.gate(repo, "python -m pytest -q", ".", "HEAD", env=env, share=share)
        assert sorted(f.message for f in result.findings) == [
            "tests/test_x.py::test_bad already failed at the base commit",
            "tests/test_x.py::test_ok failed: E       assert False",
        ]
    # one run of the work tree (reused the second time) and one of the base (asked twice)
    assert runs(env) == 2
