"""A test the run saw fail and then took out of the suite: real pytest runs in the sandbox, then the guard."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.gates import GateContext, GateResult
from bot.gates import pytest as pytest_gate
from bot.gates.run import run_all
from bot.settings import Settings
from tests.conftest import run_git

BASE = {
    "app.py": "def due(days):\n    return days\n",
    "tests/__init__.py": "",
    "tests/test_app.py": (
        "from app import due\n\n\ndef test_due():\n    assert due(1) == 1\n\n\n"
        "def test_due_zero():\n    assert due(0) >= 0\n"
    ),
}
NEW_TEST = """
    from app import due


    def test_overdue():
        assert due(-1) == 0
"""


def repo_with(parent: Path, files: dict[str, str]) -> Path:
    root = parent / "repo"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    run_git(root, "init", "-q")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "base")
    return root


def model_runs_tests(ctx: GateContext) -> None:
    """The model's run_tests tool: a full run of the work tree as it is, recorded in the run's share."""
    pytest_gate.run_tests(ctx.repo, ctx.settings.test_command, share=ctx.share, timeout=120)


def guard_after_tests(ctx: GateContext) -> GateResult:
    results = run_all(ctx, only=("pytest", "guard"))
    assert results[0].verdict == "pass", results[0].findings
    return results[1]


def context(repo: Path, **kwargs: object) -> GateContext:
    return GateContext(repo, "HEAD", Settings(test_command="python -m pytest -q"), **kwargs)  # type: ignore[arg-type]


def test_a_new_test_that_failed_and_was_deleted_fails_the_guard(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    (repo / "tests/test_overdue.py").write_text(textwrap.dedent(NEW_TEST).lstrip())
    model_runs_tests(ctx)  # red: due(-1) is -1
    (repo / "tests/test_overdue.py").unlink()  # the cheat: the failing test goes, the code stays
    guard = guard_after_tests(ctx)
    assert guard.verdict == "fail"
    [finding] = guard.errors
    assert (finding.rule, finding.file) == ("failed-test-removed", "tests/test_overdue.py")
    assert finding.message.startswith(
        "test tests/test_overdue.py::test_overdue failed earlier in this run and is no longer in the "
        "suite (assert -1 == 0; +  where -1 = due(-1)): make the code pass it"
    )


def test_a_failing_test_the_code_then_passes_is_no_finding(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    (repo / "tests/test_overdue.py").write_text(textwrap.dedent(NEW_TEST).lstrip())
    model_runs_tests(ctx)
    (repo / "app.py").write_text("def due(days):\n    return max(days, 0)\n")
    assert guard_after_tests(ctx).findings == ()


def test_new_parameters_of_a_failing_parametrized_test_are_no_finding(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    test = repo / "tests/test_overdue.py"
    cases = "import pytest\n\nfrom app import due\n\n\n@pytest.mark.parametrize('days', [{}])\n"
    body = "def test_never_negative(days):\n    assert due(days) >= 0\n"
    test.write_text(cases.format("-1") + body)
    model_runs_tests(ctx)
    (repo / "app.py").write_text("def due(days):\n    return max(days, 0)\n")
    test.write_text(cases.format("-2, 0") + body)
    assert guard_after_tests(ctx).findings == ()


def test_a_human_change_has_no_run_history_to_judge(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo, author="human")
    (repo / "tests/test_overdue.py").write_text(textwrap.dedent(NEW_TEST).lstrip())
    model_runs_tests(ctx)
    (repo / "tests/test_overdue.py").unlink()
    assert [f.rule for f in guard_after_tests(ctx).findings] == []


def test_a_base_test_deleted_after_failing_is_reported_once(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    (repo / "app.py").write_text("def due(days):\n    return days + 1\n")
    model_runs_tests(ctx)  # the base's own test_due fails now
    (repo / "tests/test_app.py").write_text(
        "from app import due\n\n\ndef test_due_zero():\n    assert due(0) >= 0\n"
    )
    guard = guard_after_tests(ctx)
    assert [f.rule for f in guard.errors] == ["deleted-test"]


# -- tests that failed, then passed because their assertions changed --------------------------

WEAKENABLE = """
    import pytest

    from app import due


    class TestOverdue:
        def test_overdue(self):
            result = due(-1)
            assert result == 0
            assert isinstance(result, int)
"""


def write_test(repo: Path, text: str) -> Path:
    path = repo / "tests/test_overdue.py"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_a_new_test_loosened_after_it_failed_fails_the_guard(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    test = write_test(repo, WEAKENABLE)
    model_runs_tests(ctx)  # red: due(-1) is -1
    # the cheat: the expectation bends to the broken code instead of the code to the spec
    test.write_text(test.read_text().replace("assert result == 0", "assert result <= 0"))
    model_runs_tests(ctx)
    guard = guard_after_tests(ctx)
    [finding] = guard.errors
    assert (finding.rule, finding.file, finding.line) == ("failed-test-weakened", "tests/test_overdue.py", 9)
    assert finding.message == (
        "test tests/test_overdue.py::TestOverdue::test_overdue failed earlier in this run and passes "
        "only since an assertion was weakened (exact comparison `result == 0` loosened to "
        "`result <= 0`): `assert result == 0` -> `assert result <= 0`: make the code pass the test "
        "as it was, or correct its expectation where it contradicts the spec; do not weaken it"
    )


def test_a_new_test_whose_failing_assertion_was_dropped_fails_the_guard(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    test = write_test(repo, WEAKENABLE)
    model_runs_tests(ctx)
    test.write_text(test.read_text().replace("        assert result == 0\n", ""))
    guard = guard_after_tests(ctx)  # the gate's own full run is the final one
    [finding] = guard.errors
    assert finding.rule == "failed-test-weakened"
    assert "passes only since an assertion was removed: `assert result == 0`" in finding.message


def test_a_corrected_expectation_or_a_fixed_code_is_no_finding(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    test = write_test(repo, WEAKENABLE)
    model_runs_tests(ctx)
    # a wrong expectation corrected (still an exact check) plus an assertion added: not weaker
    (repo / "app.py").write_text("def due(days):\n    return max(days, -1) if days < -5 else max(days, 0)\n")
    test.write_text(
        test.read_text().replace("assert result == 0", "assert result == 0\n        assert due(-9) == -1")
    )
    assert guard_after_tests(ctx).findings == ()


def test_a_base_test_loosened_after_failing_is_reported_once_against_the_base(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    (repo / "app.py").write_text("def due(days):\n    return days + 1\n")
    model_runs_tests(ctx)  # the base's own test_due fails now
    base_test = repo / "tests/test_app.py"
    base_test.write_text(base_test.read_text().replace("assert due(1) == 1", "assert due(1) >= 1"))
    guard = guard_after_tests(ctx)
    assert [f.rule for f in guard.errors] == ["assertion-weakened"]


def test_a_parametrized_test_loosened_after_failing_is_one_finding(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo)
    cases = "import pytest\n\nfrom app import due\n\n\n@pytest.mark.parametrize('days', [-1, -2])\n"
    test = repo / "tests/test_overdue.py"
    test.write_text(cases + "def test_never_negative(days):\n    assert due(days) == 0\n")
    model_runs_tests(ctx)  # both cases fail
    test.write_text(cases + "def test_never_negative(days):\n    assert due(days)\n")
    guard = guard_after_tests(ctx)
    assert [(f.rule, f.line) for f in guard.errors] == [("failed-test-weakened", 8)]


def test_a_human_change_loosened_after_failing_has_no_history_to_judge(reachable_dir: Path) -> None:
    repo = repo_with(reachable_dir, BASE)
    ctx = context(repo, author="human")
    test = write_test(repo, WEAKENABLE)
    model_runs_tests(ctx)
    test.write_text(test.read_text().replace("assert result == 0", "assert result <= 0"))
    assert guard_after_tests(ctx).findings == ()
