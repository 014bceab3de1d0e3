"""The project's Python: .python-version and requires-python against the interpreters on the machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.exceptions import FatalError
from bot.sandbox.interpreters import (
    Interpreter,
    Requirement,
    choose,
    installed_interpreters,
    project_requirement,
)

OWN = Interpreter("/usr/local/bin/python3.12", (3, 12, 4), own=True)
OLDER = Interpreter("/usr/bin/python3.11", (3, 11, 2))
NEWER = Interpreter("/usr/bin/python3.13", (3, 13, 1))
MACHINE = [OWN, NEWER, OLDER]


def repo_with(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("text", "pin"),
    [
        ("3.13\n", "3.13"),
        ("# pinned\n3.12.4\n", "3.12.4"),
        ("cpython@3.13\n", "cpython@3.13"),
        ("system\n", ""),
    ],
)
def test_python_version_files_as_uv_and_pyenv_write_them(tmp_path: Path, text: str, pin: str) -> None:
    repo = repo_with(tmp_path, {".python-version": text})
    assert project_requirement(repo, repo).pin == pin


def test_a_pin_specship_cannot_provide_is_refused_by_name(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {".python-version": "pypy3.10\n"})
    with pytest.raises(FatalError) as error:
        project_requirement(repo, repo)
    assert ".python-version asks for Python 'pypy3.10'" in error.value.cause


def test_the_nearest_files_win_from_the_app_directory_up(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {
            "pyproject.toml": "[tool.uv.workspace]\nmembers = ['backend']\n",  # no [project]: keep looking
            ".python-version": "3.12\n",
            "backend/pyproject.toml": '[project]\nname = "app"\nrequires-python = ">=3.10,<4.0"\n',
        },
    )
    req = project_requirement(repo, repo / "backend")
    assert req == Requirement(">=3.10,<4.0", "backend/pyproject.toml", "3.12", ".python-version")


def test_an_invalid_specifier_names_its_file(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nrequires-python = "three"\n'})
    with pytest.raises(
        FatalError, match=r"pyproject.toml: requires-python 'three' is not a version specifier"
    ):
        project_requirement(repo, repo)


def test_specship_own_python_is_preferred_when_the_project_allows_it() -> None:
    assert choose(Requirement(">=3.10"), MACHINE, venv=True) is OWN
    assert choose(Requirement(), MACHINE, venv=False) is OWN


def test_a_venv_uses_the_newest_python_that_fits() -> None:
    assert choose(Requirement(pin="3.13", pin_file=".python-version"), MACHINE, venv=True) is NEWER
    assert choose(Requirement("<3.12", "pyproject.toml"), MACHINE, venv=True) is OLDER


def test_without_a_venv_another_python_is_an_error_that_suggests_setup() -> None:
    with pytest.raises(FatalError) as error:
        choose(Requirement(pin="3.13", pin_file=".python-version"), MACHINE, venv=False)
    assert "needs Python 3.13 (.python-version)" in error.value.cause
    assert "Add a setup-command" in error.value.fix
    assert "Python 3.13.1" in error.value.fix


def test_no_python_that_fits_names_both_versions() -> None:
    req = Requirement(">=3.14", "backend/pyproject.toml", "3.14", ".python-version")
    with pytest.raises(FatalError) as error:
        choose(req, MACHINE, venv=True)
    assert error.value.cause == (
        "The project needs Python 3.14 (.python-version) and requires-python '>=3.14' "
        "(backend/pyproject.toml), but this machine has 3.12.4 (/usr/local/bin/python3.12), "
        "3.13.1 (/usr/bin/python3.13), 3.11.2 (/usr/bin/python3.11)."
    )
    assert ".python-version and backend/pyproject.toml" in error.value.fix


def test_the_machine_lists_our_own_interpreter_first() -> None:
    found = installed_interpreters()
    assert found[0].own
    assert found[0].path == sys.executable
    assert found[0].version == tuple(sys.version_info[:3])
    assert len({i.version for i in found}) == len(found)
