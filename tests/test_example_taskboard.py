"""The taskboard example's own test suite passes, so `make test` also covers the example.

The suite runs as a real subprocess in a copy of the example (the source tree stays clean),
the way Specship's pytest gate runs a user's tests: `python -m pytest -q` from `backend/`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "taskboard"
# Update when tests are added to or removed from examples/taskboard/backend/tests.
EXPECTED_PASSED = 158
# The example must bring its own settings; none may leak in from the developer's shell.
SCRUBBED_ENV = {
    "DATABASE_URL",
    "JWT_SECRET",
    "JWT_ALGORITHM",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
}


def _files(root: Path) -> set[Path]:
    return {path.relative_to(root) for path in root.rglob("*")}


@pytest.mark.slow
def test_example_suite_passes(tmp_path: Path) -> None:
    repo = tmp_path / "taskboard"
    shutil.copytree(
        EXAMPLE_DIR,
        repo,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".env", "*.db"
        ),
    )
    before = _files(repo)
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
    # No bytecode, and no third-party pytest plugins from this venv: the example's run must
    # depend only on its own configuration.
    env |= {"PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=repo / "backend",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    summary = output.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    # Warnings depend on library versions; every other outcome (failed, skipped...) counts.
    counts = {word: n for word, n in counts.items() if not word.startswith("warning")}
    assert counts == {"passed": EXPECTED_PASSED}, summary
    assert _files(repo) == before, "the example's tests wrote into the source tree"
