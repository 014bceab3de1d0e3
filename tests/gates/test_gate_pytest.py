"""The pytest gate's result channel: real pytest runs in the sandbox, honest and hostile, and the judge."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.gates import GateResult
from bot.gates import pytest as pytest_gate
from bot.gates.pytest_channel import Received
from bot.gates.pytest_judge import judge
from tests.conftest import run_git

BASE = {
    "tests/__init__.py": "",
    "tests/test_x.py": "def test_ok():\n    assert True\n\n\ndef test_bad():\n    assert 1 == 2\n",
}
GREEN = {"tests/__init__.py": "", "tests/test_x.py": "def test_ok():\n    assert True\n"}

# The tricks of the verdict issue, each as test code would play it. None of them may pass.
ATEXIT = """
import atexit, os, re, sys

def _rewrite():
    path = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--junitxml="))
    text = re.sub(r"<failure.*?</failure>", "", open(path).read(), flags=re.S)
    open(path, "w").write(text.replace('failures="1"', 'failures="0"'))
    os._exit(0)

atexit.register(_rewrite)

def test_z():
    pass
"""
MAKEREPORT = """
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.outcome = "passed"
"""
NEW_REPORT = """
import pytest
from _pytest.reports import TestReport

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    return TestReport(item.nodeid, item.location, {}, "passed", None, call.when)
"""
MODIFYITEMS = """
import pytest

def pytest_collection_modifyitems(items):
    for item in items:
        if "bad" in item.name:
            item.add_marker(pytest.mark.skip(reason="flaky"))
"""
DROP_ITEMS = """
def pytest_collection_modifyitems(items):
    items[:] = [item for item in items if "bad" not in item.name]
"""
SESSIONFINISH = """
def pytest_sessionfinish(session, exitstatus):
    session.exitstatus = 0
"""
FORGED = """
import json, os

def test_a_forger():
    environ = open("/proc/self/environ", "rb").read()
    fd = int(environ.split(b"SPECSHIP_RESULTS_FD=")[1].split(b"\\0")[0])
    for when in ("setup", "call", "teardown"):
        record = {"k": "report", "id": "tests/test_x.py::test_bad", "when": when,
                  "outcome": "passed", "raw": "passed"}
        os.write(fd, (json.dumps(record) + "\\n").encode())
"""
EXIT_MID = "import os\n\n\ndef test_z():\n    os._exit(0)\n"


def project(parent: Path, files: dict[str, str]) -> Path:
    root = parent / f"p{len(list(parent.iterdir()))}"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def run(parent: Path, files: dict[str, str], command: str = "python -m pytest -q") -> GateResult:
    return pytest_gate.gate(project(parent, files), command, ".", timeout=120)


def tampering(result: GateResult) -> list[str]:
    return [f.message for f in result.findings if f.rule == "tampered-results"]


def test_an_honest_green_run_passes(reachable_dir: Path) -> None:
    result = run(reachable_dir, GREEN)
    assert result.verdict == "pass", (result.findings, result.unverified)
    assert result.details["outcomes"] == {"tests/test_x.py::test_ok": "passed"}


def test_a_real_failure_fails_and_is_not_called_tampering(reachable_dir: Path) -> None:
    result = run(reachable_dir, BASE)
    assert result.verdict == "fail"
    assert tampering(result) == []
    assert [f.message for f in result.errors] == ["tests/test_x.py::test_bad failed: E       assert 1 == 2"]


def test_a_failure_says_the_assertion_message_and_the_comparison_not_only_its_last_line(
    reachable_dir: Path,
) -> None:
    test = (
        'def test_due():\n    got = "2026/03/10"\n'
        '    assert got == "2026-03-10", "due_date is not ISO 8601"\n'
    )
    result = run(reachable_dir, {"tests/__init__.py": "", "tests/test_due.py": test})
    [message] = [f.message for f in result.errors]
    assert message.startswith("tests/test_due.py::test_due failed: E ")
    assert "AssertionError: due_date is not ISO 8601" in message
    assert "assert '2026/03/10' == '2026-03-10'" in message


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"tests/test_zz.py": ATEXIT},
            [
                "the test process exited with 0 although pytest's session ended with 1",
                "the JUnit report was rewritten or removed after pytest finished writing it",
            ],
            id="atexit-rewrites-junit-then-os-exit",
        ),
        pytest.param(
            {"tests/conftest.py": MAKEREPORT},
            ["the result of tests/test_x.py::test_bad (call) was changed from failed to passed by a hook"],
            id="makereport-flips-the-outcome",
        ),
        pytest.param(
            {"tests/conftest.py": NEW_REPORT},
            ["the result of tests/test_x.py::test_bad (call) was changed from failed to passed by a hook"],
            id="makereport-returns-a-new-report",
        ),
        pytest.param(
            {"tests/conftest.py": MODIFYITEMS},
            ["a hook added skip markers to 1 test(s) after they were collected: tests/test_x.py::test_bad"],
            id="modifyitems-skips-the-failing-test",
        ),
        pytest.param(
            {"tests/conftest.py": DROP_ITEMS},
            ["1 collected test(s) were removed from the run without being deselected"],
            id="modifyitems-drops-the-failing-test",
        ),
        pytest.param(
            {"tests/conftest.py": SESSIONFINISH},
            ["a pytest_sessionfinish hook changed the exit status from 1 to 0"],
            id="sessionfinish-sets-the-exit-status",
        ),
        pytest.param(
            {"tests/test_a.py": FORGED},
            ["two results for tests/test_x.py::test_bad (setup): a forged or repeated record"],
            id="forged-records-on-the-channel",
        ),
        pytest.param(
            {"tests/test_zz.py": EXIT_MID},
            ["pytest did not finish its session: the process ended (exit 0) without pytest's own"],
            id="os-exit-in-the-middle",
        ),
    ],
)
def test_each_trick_is_caught_by_the_channel_alone(
    reachable_dir: Path, files: dict[str, str], expected: list[str]
) -> None:
    result = run(reachable_dir, {**BASE, **files})
    assert result.verdict == "fail"
    found = tampering(result)
    for text in expected:
        assert any(text in message for message in found), (text, found)
    # What the acceptance gate and the PR body read is what really happened.
    if "skip" not in str(expected) and "removed" not in str(expected):
        assert result.details["outcomes"]["tests/test_x.py::test_bad"] == "failed"


def test_legitimate_xfail_skip_and_strict_xpass_are_not_tampering(reachable_dir: Path) -> None:
    files = {
        "tests/__init__.py": "",
        "tests/test_x.py": """
            import pytest

            @pytest.mark.xfail(reason="known")
            def test_known_bug():
                assert 1 == 2

            @pytest.mark.xfail(strict=True, reason="fixed?")
            def test_strict():
                assert True

            @pytest.mark.skip(reason="later")
            def test_later():
                assert False

            def test_imperative():
                pytest.xfail("not today")
        """,
    }
    result = run(reachable_dir, files)
    assert tampering(result) == []
    assert result.details["outcomes"] == {
        "tests/test_x.py::test_known_bug": "skipped",
        "tests/test_x.py::test_strict": "failed",  # XPASS(strict) fails, as pytest says
        "tests/test_x.py::test_later": "skipped",
        "tests/test_x.py::test_imperative": "skipped",
    }
    assert result.verdict == "fail"  # only because of the strict xpass


def test_a_test_process_without_the_channel_is_not_verified(reachable_dir: Path) -> None:
    # python -I ignores PYTHONPATH, so the plugin cannot load: nothing the process says counts.
    result = run(reachable_dir, GREEN, "python -I -m pytest -q")
    assert result.verdict == "not verified"
    [gap] = result.unverified
    assert "never opened Specship's result channel" in gap.what
    assert "`test-command`" in gap.fix


def test_no_test_collected_is_not_verified(reachable_dir: Path) -> None:
    result = run(reachable_dir, {"tests/__init__.py": "", "tests/helpers.py": "X = 1\n"})
    assert result.verdict == "not verified"
    assert [u.rule for u in result.unverified] == ["no-tests"]
    assert "`app-directory`" in result.unverified[0].fix


def test_a_collection_error_fails_without_crying_tampering(reachable_dir: Path) -> None:
    result = run(reachable_dir, {**GREEN, "tests/test_broken.py": "import nothing_here\n"})
    assert result.verdict == "fail"
    assert tampering(result) == []
    assert [f.rule for f in result.errors] == ["collection-error"]


def test_junit_switched_off_by_the_project_is_not_verified(reachable_dir: Path) -> None:
    files = {**GREEN, "pytest.ini": "[pytest]\naddopts = -p no:junitxml\n"}
    result = run(reachable_dir, files)
    assert result.verdict == "not verified"
    assert any("no JUnit report" in u.what for u in result.unverified)


def test_the_plugin_copy_cannot_be_shadowed_or_rewritten(reachable_dir: Path) -> None:
    # A module the tests plant under the plugin's name loses: its name is random per run.
    files = {**GREEN, "specship_results.py": "raise SystemExit('shadowed')\n"}
    assert run(reachable_dir, files).verdict == "pass"


# -- the judge on hand-made streams ----------------------------------------------------------------


def stream(*records: dict[str, object], malformed: int = 0) -> Received:
    return Received(records=[dict(r) for r in records], malformed=malformed)


def reports(nodeid: str, call: str = "passed") -> list[dict[str, object]]:
    return [
        {"k": "report", "id": nodeid, "when": "setup", "outcome": "passed", "raw": "passed"},
        {"k": "report", "id": nodeid, "when": "call", "outcome": call, "raw": call},
        {"k": "report", "id": nodeid, "when": "teardown", "outcome": "passed", "raw": "passed"},
    ]


COLLECTED = {
    "k": "collected",
    "ids": ["t.py::a"],
    "xfail": [],
    "added_marks": {},
    "dropped": [],
    "deselected": [],
}
FINISH = {"k": "finish", "exitstatus": 0, "session_exitstatus": 0, "stopped": False, "junit": None}


def test_judge_accepts_a_consistent_stream_but_notes_the_missing_witness() -> None:
    verdict = judge(
        stream({"k": "hello"}, COLLECTED, *reports("t.py::a"), FINISH, {"k": "end", "exitstatus": 0}),
        0,
        False,
        None,
    )
    assert verdict.tampering == []
    assert verdict.outcomes == {"t.py::a": "passed"}
    assert [what for what, _ in verdict.gaps] == [
        "pytest wrote no JUnit report, the second witness of the results"
    ]


def test_judge_refuses_garbage_second_streams_and_unknown_ids() -> None:
    verdict = judge(
        stream(
            {"k": "hello"}, {"k": "hello"}, COLLECTED, *reports("t.py::a"),
            {"k": "report", "id": "t.py::ghost", "when": "call", "outcome": "passed", "raw": "passed"},
            FINISH, {"k": "end", "exitstatus": 0}, malformed=2,
        ),
        0,
        False,
        None,
    )  # fmt: skip
    assert verdict.tampering == [
        "2 malformed record(s) were written to the result channel",
        "a second result stream was started on the channel (forged records)",
        "a result was sent for t.py::ghost, which was never collected (forged record)",
    ]


def test_judge_without_collection_leaves_nothing_to_trust() -> None:
    verdict = judge(stream({"k": "hello"}), 4, False, None)
    assert (verdict.opened, verdict.collected, verdict.outcomes) == (True, None, {})


SETTINGS_CONFTEST = {
    **GREEN,
    "tests/conftest.py": "import os\n\nSECRET = os.environ['APP_SECRET']\n",
    "src/shop/__init__.py": "NAME = 'shop'\n",
    "tests/test_shop.py": "import shop\n\n\ndef test_shop():\n    assert shop.NAME == 'shop'\n",
}


def test_tests_that_cannot_start_are_not_verified_with_the_error_and_test_env(reachable_dir: Path) -> None:
    root = project(reachable_dir, SETTINGS_CONFTEST)
    result = pytest_gate.gate(root, "python -m pytest -q", ".", timeout=120, env={"PYTHONPATH": "src"})
    assert result.verdict == "not verified"
    [gap] = result.unverified
    assert gap.what == (
        "pytest stopped (exit 4) before it finished collecting the tests: KeyError: 'APP_SECRET'"
    )
    assert "`test-env`" in gap.fix


def test_the_project_environment_reaches_the_tests_beside_the_channel(reachable_dir: Path) -> None:
    # test-env values and a src layout's import root (PYTHONPATH) arrive; the plugin still loads.
    root = project(reachable_dir, SETTINGS_CONFTEST)
    env = {"APP_SECRET": "s3", "PYTHONPATH": "src"}
    result = pytest_gate.gate(root, "python -m pytest -q", ".", timeout=120, env=env)
    assert result.verdict == "pass", (result.findings, result.unverified)
    assert set(result.details["outcomes"]) == {"tests/test_x.py::test_ok", "tests/test_shop.py::test_shop"}


def test_the_channel_and_the_plugin_name_the_same_descriptor_variable() -> None:
    from bot.gates import pytest_channel, pytest_plugin

    assert pytest_channel.FD_VARIABLE == pytest_plugin.FD_VARIABLE


def test_tests_that_fail_at_the_base_too_and_none_passing_are_not_verified(reachable_dir: Path) -> None:
    # A broken environment (the database the tests need is missing) fails every test at the base
    # and after the change alike: no failure is the change's, and no test shows that it works.
    broken = {
        "tests/__init__.py": "",
        "tests/test_x.py": "def test_db():\n    raise ConnectionError('no db')\n",
    }
    repo = project(reachable_dir, broken)
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "base")):
        run_git(repo, *args)
    (repo / "app.py").write_text("VALUE = 2\n")
    result = pytest_gate.gate(repo, "python -m pytest -q", ".", "HEAD", timeout=120)
    assert result.verdict == "not verified"
    assert result.summary == "0 passed, 1 failed, 0 skipped (1 already failing at base)"
    [gap] = result.unverified
    assert (gap.rule, gap.what) == (
        "nothing-passed",
        "no test passed: 1 failed at the base commit too and 0 were skipped, so nothing shows that "
        "the change works",
    )
    assert "`test-env`" in gap.fix


def test_a_suite_that_only_skips_is_not_verified_and_one_pass_is_enough(reachable_dir: Path) -> None:
    skipped = "import pytest\n\n\n@pytest.mark.skip(reason='needs a db')\ndef test_db():\n    pass\n"
    result = run(reachable_dir, {"tests/__init__.py": "", "tests/test_x.py": skipped})
    assert result.verdict == "not verified"
    assert [u.rule for u in result.unverified] == ["nothing-passed"]
    one = skipped + "\n\ndef test_ok():\n    assert True\n"
    assert run(reachable_dir, {"tests/__init__.py": "", "tests/test_x.py": one}).verdict == "pass"


def test_a_new_failure_with_nothing_passing_fails_rather_than_going_unverified(reachable_dir: Path) -> None:
    result = run(
        reachable_dir, {"tests/__init__.py": "", "tests/test_x.py": "def test_bad():\n    assert 0\n"}
    )
    assert result.verdict == "fail"
    assert result.unverified == ()
