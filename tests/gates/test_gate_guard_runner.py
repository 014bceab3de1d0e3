"""The guard's static refusal of runner tampering and hollow tests, on real git repositories."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.gates import GateContext, GateResult, guard
from bot.settings import Settings
from tests.gates.test_gate_pytest import (
    ATEXIT,
    DROP_ITEMS,
    EXIT_MID,
    FORGED,
    MAKEREPORT,
    MODIFYITEMS,
    NEW_REPORT,
    SESSIONFINISH,
)

BASE = {
    "tests/__init__.py": "",
    "tests/conftest.py": "import pytest\n",
    "tests/test_x.py": "def test_ok():\n    assert True\n",
    "app/__init__.py": "",
    "app/main.py": "X = 1\n",
}


def run(repo: Path) -> GateResult:
    return guard.gate(GateContext(repo, "HEAD", Settings()))


def write(repo: Path, rel: str, text: str) -> None:
    (repo / rel).write_text(textwrap.dedent(text), encoding="utf-8")


def rules(result: GateResult) -> list[tuple[str, str, int | None]]:
    return [(f.rule, f.file or "", f.line) for f in result.errors]


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        pytest.param(
            "tests/test_zz.py", ATEXIT, {"runner-handler", "runner-exit", "report-tamper"}, id="atexit"
        ),
        pytest.param("tests/conftest.py", MAKEREPORT, {"pytest-hook"}, id="makereport"),
        pytest.param("tests/conftest.py", NEW_REPORT, {"pytest-hook", "pytest-internals"}, id="new-report"),
        pytest.param("tests/conftest.py", MODIFYITEMS, {"pytest-hook"}, id="modifyitems-skip"),
        pytest.param("tests/conftest.py", DROP_ITEMS, {"pytest-hook"}, id="modifyitems-drop"),
        pytest.param("tests/conftest.py", SESSIONFINISH, {"pytest-hook"}, id="sessionfinish"),
        pytest.param("tests/test_a.py", FORGED, {"report-tamper"}, id="forged-records"),
        pytest.param("tests/test_zz.py", EXIT_MID, {"runner-exit"}, id="os-exit"),
    ],
)
def test_each_trick_is_refused_by_the_guard_alone(
    git_repo: Callable[..., Path], rel: str, text: str, expected: set[str]
) -> None:
    repo = git_repo(BASE)
    write(repo, rel, text)
    result = run(repo)
    assert result.verdict == "fail"
    assert {rule for rule, _, _ in rules(result)} >= expected
    assert all(path == rel and line for _, path, line in rules(result))


def test_messages_name_the_line_and_what_it_does(git_repo: Callable[..., Path]) -> None:
    repo = git_repo(BASE)
    write(repo, "tests/conftest.py", SESSIONFINISH)
    [finding] = run(repo).errors
    assert finding.location == "tests/conftest.py:3"
    assert (
        finding.message
        == "sets pytest's exit status (session.exitstatus), which decides whether the run passed"
    )


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("import sys\nsys.exit(0)\n\n\ndef test_a():\n    assert True\n", "runner-exit"),
        (
            "import signal\nsignal.signal(signal.SIGTERM, lambda *a: None)\n\n\n"
            "def test_a():\n    assert True\n",
            "runner-handler",
        ),
        (
            "import pytest\n\n\ndef pytest_configure(config):\n    config.pluginmanager.register(object())\n",
            "pytest-hook",
        ),
        ("pytest_plugins = ['helpers.plugin']\n", "pytest-hook"),
        ("def test_nothing(client):\n    client.get('/api/tasks')\n", "test-asserts-nothing"),
        # a setup helper's own status check is not what the test claims to prove
        (
            "def _create(client):\n    assert client.post('/t').status_code == 201\n\n\n"
            "def test_overdue(client):\n    _create(client)\n    client.get('/t?overdue=true')\n",
            "test-asserts-nothing",
        ),
        (
            "def test_hides(client):\n    try:\n        assert client.get('/x').status_code == 200\n"
            "    except AssertionError:\n        pass\n",
            "test-swallows-failure",
        ),
        (
            "import contextlib\n\n\ndef test_hides(client):\n    with contextlib.suppress(Exception):\n"
            "        assert client.get('/x').status_code == 200\n",
            "test-swallows-failure",
        ),
    ],
)
def test_more_refusals(git_repo: Callable[..., Path], text: str, rule: str) -> None:
    repo = git_repo(BASE)
    write(repo, "tests/test_new.py" if "def test_" in text else "tests/conftest.py", text)
    assert rule in {r for r, _, _ in rules(run(repo))}


def test_os_exit_is_refused_in_application_code_too(git_repo: Callable[..., Path]) -> None:
    repo = git_repo(BASE)
    write(repo, "app/main.py", "import os\n\n\ndef stop():\n    os._exit(0)\n")
    assert rules(run(repo)) == [("runner-exit", "app/main.py", 5)]


def test_honest_test_code_passes(git_repo: Callable[..., Path]) -> None:
    repo = git_repo(BASE)
    write(
        repo,
        "tests/conftest.py",
        """
        import pytest

        def pytest_configure(config):
            config.addinivalue_line("markers", "slow: a slow test")

        def pytest_collection_modifyitems(items):
            items.sort(key=lambda item: item.name)

        @pytest.fixture
        def client():
            return object()
        """,
    )
    write(
        repo,
        "tests/test_new.py",
        """
        import pytest

        def assert_created(client):
            assert client is not None

        def test_uses_a_checking_helper(client):
            assert_created(client)

        def test_raises():
            with pytest.raises(ValueError):
                int("x")

        def test_try_reraises(client):
            try:
                assert client
            except AssertionError:
                raise
        """,
    )
    result = run(repo)
    assert result.verdict == "pass", result.findings


def test_only_added_lines_count(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({**BASE, "tests/conftest.py": MAKEREPORT})
    write(repo, "tests/conftest.py", MAKEREPORT + "\n\nX = 1\n")  # the old hook is not the change
    assert run(repo).verdict == "pass"
