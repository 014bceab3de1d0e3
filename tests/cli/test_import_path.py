"""The orchestrator never imports a file from the repository or the current directory (issue 13, finding 1).

Shadow modules that dump the environment are planted in the repository and in the current
directory; Specship runs as a real subprocess, started every way it can be, with canary secrets in
its environment, and none of the shadows may run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import pathguard
from tests.conftest import committed_example, reachable_tempdir, run_git

ROOT = Path(__file__).resolve().parents[2]
CANARY_TOKEN = "ghs_" + "Canary0GitHubToken0000000000000000000"
CANARY_KEY = "sk-ant-api03-" + "Canary0AnthropicKey000000000"
# Modules the orchestrator imports after the model has written files (requests through
# detect-secrets, simplejson through requests), at start (yaml, argparse, typing), and the names
# the interpreter itself looks for (sitecustomize, usercustomize, __future__).
SHADOWS = (
    "simplejson",
    "requests",
    "yaml",
    "argparse",
    "typing",
    "__future__",
    "sitecustomize",
    "usercustomize",
)


def shadow_source(name: str, sentinels: Path) -> str:
    """A module that, if imported where the secrets are (the orchestrator, not the sandbox, whose
    allow-listed environment never has them), writes that environment to a file."""
    target = sentinels / f"{name}.json"
    return (
        "import os as _os\n"
        "if 'GITHUB_TOKEN' in _os.environ or 'ANTHROPIC_API_KEY' in _os.environ:\n"
        f"    _f = open({str(target)!r}, 'w')\n"
        "    _f.write(repr(dict(_os.environ)))\n"
        "    _f.close()\n"
    )


def plant(directory: Path, sentinels: Path, tag: str) -> None:
    for name in SHADOWS:
        (directory / f"{name}.py").write_text(shadow_source(f"{tag}-{name}", sentinels), encoding="utf-8")
    # A .pth file runs its `import` lines only in a site directory: one here must stay inert.
    pth = sentinels / f"{tag}-pth.json"
    (directory / "zz-shadow.pth").write_text(f"import os; open({str(pth)!r}, 'w').write('pth')\n")


def base_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_", "PYTHON"))
    }
    return {**env, "GITHUB_TOKEN": CANARY_TOKEN, "ANTHROPIC_API_KEY": CANARY_KEY}


def ran(sentinels: Path) -> list[str]:
    return sorted(p.name for p in sentinels.iterdir())


@pytest.fixture
def planted() -> Iterator[tuple[Path, Path, Path]]:
    """(a small committed repository with shadows in it, another directory with shadows, sentinels)."""
    with reachable_tempdir() as parent:
        sentinels = parent / "sentinels"
        sentinels.mkdir()
        repo = parent / "repo"
        (repo / "tests").mkdir(parents=True)
        (repo / "app.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
        (repo / "tests" / "test_app.py").write_text(
            "from app import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n", encoding="utf-8"
        )
        run_git(repo, "init", "-q")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "base")
        plant(repo, sentinels, "repo")  # a commit of its own, so the gates scan these files
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "shadows")
        elsewhere = parent / "cwd"
        elsewhere.mkdir()
        plant(elsewhere, sentinels, "cwd")
        yield repo, elsewhere, sentinels


STARTS = {
    # how users and the image start Specship
    "python -m bot": [sys.executable, "-m", "bot"],
    "python -P -m bot (the image)": [sys.executable, "-P", "-m", "bot"],
    "the specship command": [str(Path(sys.executable).with_name("specship"))],
}


@pytest.mark.slow
@pytest.mark.parametrize("start", list(STARTS))
@pytest.mark.parametrize("where", ["repository", "elsewhere"])
def test_no_shadow_module_runs_however_specship_is_started(
    planted: tuple[Path, Path, Path], start: str, where: str
) -> None:
    repo, elsewhere, sentinels = planted
    argv = STARTS[start]
    assert Path(argv[0]).exists(), f"{argv[0]} is missing: `make` installs the specship command"
    # `check` runs every gate, so the security gate imports detect-secrets, requests, simplejson.
    done = subprocess.run(
        [*argv, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json"],
        cwd=repo if where == "repository" else elsewhere,
        env={**base_env(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran(sentinels) == [], done.stderr[-2000:]
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert [g["name"] for g in report["gates"]][:2] == ["pytest", "security"]
    assert report["gates"][1]["ran"] is True  # detect-secrets (and so requests) was imported
    for secret in (CANARY_TOKEN, CANARY_KEY):
        assert secret not in done.stdout + done.stderr


SHADOWING_SESSION = """
turns:
  - tool_calls:
      - name: str_replace_based_edit_tool
        input: {command: create, path: simplejson.py, file_text: %(simplejson)s}
      - name: str_replace_based_edit_tool
        input: {command: create, path: requests.py, file_text: %(requests)s}
  - tool_calls:
      - name: submit_report
        input:
          summary: "Adds two helper modules."
          files: [{path: simplejson.py, purpose: "helper"}, {path: requests.py, purpose: "helper"}]
          acceptance_criteria: [{id: US1-AS1, criterion: "c", tests: []}]
"""


@pytest.mark.slow
def test_modules_the_model_writes_are_never_imported_by_local_mode_run_from_the_repository() -> None:
    """The finding as reported: `python -m bot local` from inside the repository, the model writes
    simplejson.py at the root, and the security gate's detect-secrets -> requests imported it."""
    with reachable_tempdir() as parent:
        sentinels = parent / "sentinels"
        sentinels.mkdir()
        repo = committed_example(parent)
        plant(repo, sentinels, "repo")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "shadows")
        scenario = parent / "session.yaml"
        scenario.write_text(
            SHADOWING_SESSION
            % {
                "simplejson": json.dumps(shadow_source("model-simplejson", sentinels)),
                "requests": json.dumps(shadow_source("model-requests", sentinels)),
            },
            encoding="utf-8",
        )
        model = f"scripted:{scenario}"
        done = subprocess.run(
            [sys.executable, "-m", "bot", "local", "--feature", "002-task-due-dates", "--model", model],
            cwd=repo,
            env={**base_env(), "PYTHONPATH": str(ROOT), "INPUT_MAX-REPAIR-ROUNDS": "0"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert ran(sentinels) == [], done.stderr[-3000:]
        assert "Conclusion:" in done.stderr, done.stderr[-3000:]
        assert run_git(repo, "show", "HEAD:simplejson.py").startswith("import os as _os")


def test_a_shadow_that_ran_before_specship_stops_it(tmp_path: Path) -> None:
    """Code imported before Specship's first line (here: a relative PYTHONPATH at interpreter start)
    cannot be undone, so Specship refuses to go on and says how to start it."""
    sentinels = tmp_path / "sentinels"
    sentinels.mkdir()
    (tmp_path / "sitecustomize.py").write_text(shadow_source("early", sentinels), encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("specship")), "--help"],
        cwd=tmp_path,
        env={**base_env(), "PYTHONPATH": "."},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "'sitecustomize' was imported from" in done.stderr
    assert "python -P -m bot" in done.stderr
    assert "usage:" not in done.stdout


def test_a_relative_pythonpath_is_dropped_before_anything_imports_from_it(tmp_path: Path) -> None:
    sentinels = tmp_path / "sentinels"
    sentinels.mkdir()
    for name in ("argparse", "typing", "gettext"):
        (tmp_path / f"{name}.py").write_text(shadow_source(name, sentinels), encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("specship")), "--help"],
        cwd=tmp_path,
        env={**base_env(), "PYTHONPATH": "."},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran(sentinels) == []
    assert done.returncode == 0, done.stderr
    assert "usage: specship" in done.stdout


# -- the rules, directly ----------------------------------------------------------------------


def test_relative_entries_and_workspace_entries_are_unsafe(tmp_path: Path) -> None:
    repo, venv, other = tmp_path / "repo", tmp_path / "repo" / ".venv", tmp_path / "lib"
    site = venv / "lib" / "python3" / "site-packages"
    for folder in (site, other, repo / "src"):
        folder.mkdir(parents=True)
    roots = [str(tmp_path / "cwd"), str(repo)]
    entries = ["", ".", "src", str(repo), str(repo / "src"), str(site), str(other), str(tmp_path / "cwd")]
    unsafe = pathguard.unsafe_entries(entries, roots, [str(venv)])
    assert unsafe == ["", ".", "src", str(repo), str(repo / "src"), str(tmp_path / "cwd")]


def test_a_repository_inside_the_interpreter_prefix_is_still_a_workspace(tmp_path: Path) -> None:
    prefix = tmp_path / "usr"
    stdlib, app = prefix / "lib" / "python3", prefix / "src" / "app"
    for folder in (stdlib, app):
        folder.mkdir(parents=True)
    unsafe = pathguard.unsafe_entries([str(stdlib), str(app)], [str(app)], [str(prefix)])
    assert unsafe == [str(app)]


def test_workspaces_come_from_the_cwd_github_workspace_and_repo_arguments(tmp_path: Path) -> None:
    found = pathguard.workspaces(
        ["local", "--repo", "a", "--repo=b"], {"GITHUB_WORKSPACE": str(tmp_path / "ws")}, str(tmp_path)
    )
    assert found == [str(tmp_path), str(tmp_path / "ws"), str(tmp_path / "a"), str(tmp_path / "b")]


def test_foreign_modules_name_what_ran_from_a_workspace_but_not_specship_itself(tmp_path: Path) -> None:
    class Module:
        def __init__(self, file: str) -> None:
            self.__file__ = file

    own = tmp_path / "specship"
    modules = {
        "bot.cli": Module(str(own / "bot" / "cli" / "__init__.py")),
        "evil": Module(str(tmp_path / "evil.py")),
        "json": Module("/usr/lib/python3/json/__init__.py"),
        "builtin": object(),
    }
    found = pathguard.foreign_modules(modules, [str(tmp_path)], [], str(own))
    assert found == [("evil", str(tmp_path / "evil.py"))]
