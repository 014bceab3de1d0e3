"""The project's tests load the plugins the project declares, not Specship's dev ones; ours always."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from bot.gates import pytest as pytest_gate
from bot.gates.pytest_plugins import AUTOLOAD_OFF, plugin_args

# hypothesis is installed in Specship's own (dev) environment and registers a pytest plugin.
PROBE = """
def test_plugins(request):
    manager = request.config.pluginmanager
    assert manager.has_plugin("hypothesispytest") is {hypothesis}
"""


def project(parent: Path, files: dict[str, str]) -> Path:
    root = parent / f"p{len(list(parent.iterdir()))}"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_an_undeclared_dev_plugin_stays_out_and_the_result_channel_still_reads(reachable_dir: Path) -> None:
    root = project(
        reachable_dir,
        {
            "pyproject.toml": '[project]\nname = "app"\ndependencies = ["pytest"]\n',
            "tests/test_p.py": PROBE.format(hypothesis=False),
        },
    )
    result = pytest_gate.gate(root, "python -m pytest -q", ".", timeout=120)
    # pass comes from Specship's result plugin: it loaded although autoload was off
    assert result.verdict == "pass", (result.findings, result.unverified, result.details["output"])
    assert result.details["outcomes"] == {"tests/test_p.py::test_plugins": "passed"}


def test_a_declared_plugin_is_loaded(reachable_dir: Path) -> None:
    pyproject = '[project]\nname = "app"\n[project.optional-dependencies]\ndev = ["hypothesis>=6"]\n'
    root = project(
        reachable_dir, {"pyproject.toml": pyproject, "tests/test_p.py": PROBE.format(hypothesis=True)}
    )
    result = pytest_gate.gate(root, "python -m pytest -q", ".", timeout=120)
    assert result.verdict == "pass", (result.findings, result.details["output"])


def test_requirements_files_and_dependencies_of_dependencies_count(tmp_path: Path) -> None:
    (tmp_path / "requirements-dev.txt").write_text(
        "# tools\nhypothesis==6.0 ; python_version >= '3'\n-r other.txt\n"
    )
    argv, env = plugin_args(sys.executable, [tmp_path])
    assert (argv, env) == (["-p", "hypothesispytest"], AUTOLOAD_OFF)
    # fastapi pulls in anyio (through starlette), whose plugin the project's own venv would have too
    (tmp_path / "requirements-dev.txt").write_text("fastapi\n")
    assert plugin_args(sys.executable, [tmp_path])[0] == ["-p", "anyio"]


def test_a_project_environment_keeps_its_own_plugins(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("hypothesis\n")
    assert plugin_args(str(tmp_path / ".venv/bin/python"), [tmp_path]) == ([], {})
