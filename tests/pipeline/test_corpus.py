"""The verdict corpus: every scripted session through the real pipeline, with its expected verdicts."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.eval.runner import proves_of, score
from bot.eval.score import matrix
from bot.eval.services import available
from bot.eval.tasks import known_tasks, load_task
from bot.exceptions import FatalError
from bot.pipeline.corpus import load_corpus
from bot.pipeline.corpus_run import Service, SessionResult, run_corpus
from tests.conftest import reachable_tempdir

ROOT = Path(__file__).resolve().parents[2]
TASKBOARD = ROOT / "examples/taskboard/scenarios/verdicts/corpus.yaml"
CORPUS = load_corpus(TASKBOARD)
# Every bundled eval task (every corpus.yaml under an example's scenarios/), by name.
TASKS = {name: load_task(path) for name, path in known_tasks().items()}
CASES = [(name, s.name) for name, corpus in TASKS.items() for s in corpus.sessions]


class Results:
    """Each task's corpus run once, on first use, with the services the tasks need started once."""

    def __init__(self, where: Path, services: dict[str, Service]) -> None:
        self.where, self.services = where, services
        self.done: dict[str, dict[str, SessionResult]] = {}

    def of(self, task: str) -> dict[str, SessionResult]:
        if task not in self.done:
            folder = self.where / task.replace("/", "--")
            folder.mkdir()
            self.done[task] = run_corpus(TASKS[task], folder, self.services)
        return self.done[task]


@pytest.fixture(scope="module")
def results() -> Iterator[Results]:
    needs = {n for corpus in TASKS.values() for n in corpus.task.needs}
    with reachable_tempdir(prefix="specship-corpus-") as where, available(needs) as services:
        # CI installs PostgreSQL (.ci/run): a task whose service is missing fails, never skips.
        assert set(services) == needs, f"this machine cannot start {needs - set(services)}"
        yield Results(where, services)


@pytest.mark.slow
@pytest.mark.parametrize(("task", "name"), CASES, ids=[f"{t}:{n}" for t, n in CASES])
def test_each_session_gets_its_expected_verdict_on_every_gate(results: Results, task: str, name: str) -> None:
    got = results.of(task)[name]
    assert got.skipped is None
    assert got.mismatches(TASKS[task].session(name)) == []


@pytest.mark.slow
@pytest.mark.parametrize("task", list(TASKS))
def test_no_buggy_or_cheating_session_ends_in_success_and_every_honest_one_does(
    results: Results, task: str
) -> None:
    corpus, got = TASKS[task], results.of(task)
    by_kind = {
        kind: [s.name for s in corpus.sessions if s.kind == kind] for kind in ("honest", "buggy", "cheating")
    }
    assert all(by_kind.values()), f"{task} needs an honest, a buggy and a cheating session"
    assert {got[n].conclusion for n in by_kind["honest"]} == {"success"}
    assert {n for n in by_kind["buggy"] + by_kind["cheating"] if got[n].conclusion == "success"} == set()


@pytest.mark.slow
@pytest.mark.parametrize("task", list(TASKS))
def test_no_false_green_against_the_hidden_tests(results: Results, task: str) -> None:
    # The truth: the hidden acceptance tests. Green with failing hidden tests would be a false green.
    corpus, got = TASKS[task], results.of(task)
    assert {n for n, r in got.items() if r.conclusion == "success" and r.hidden != "pass"} == set()
    assert {r.hidden for n, r in got.items() if corpus.session(n).kind == "honest"} == {"pass"}
    assert {r.hidden for n, r in got.items() if corpus.session(n).kind == "buggy"} == {"fail"}


@pytest.mark.slow
def test_the_offline_eval_of_every_task_has_no_false_green(results: Results) -> None:
    # `specship eval` scores these same sessions; scoring the results above keeps make test from
    # running every corpus twice.
    rows = [
        score(task, n, corpus.session(n).kind, r, proves_of(corpus))
        for task, corpus in TASKS.items()
        for n, r in results.of(task).items()
    ]
    counts = matrix(rows)
    assert counts["false_green"] == 0
    assert counts["true_green"] == sum(1 for r in rows if r.kind == "honest")
    assert counts["true_red"] + counts["not_verified"] == sum(1 for r in rows if r.kind != "honest")
    # An honest session's hidden tests prove every scenario the task maps; a buggy one's do not.
    assert all(len(r.proven) == r.criteria > 0 for r in rows if r.kind == "honest")
    assert all(len(r.proven) < r.criteria for r in rows if r.kind == "buggy")


def test_the_taskboard_corpus_covers_every_trick_of_the_verdict_issue() -> None:
    cheats = [s.name for s in CORPUS.sessions if s.kind == "cheating"]
    assert len(cheats) >= 10


# -- the format: every mistake is one clear error ------------------------------------------------------

GOOD_SESSION = """
  - name: honest
    kind: honest
    scenario: ../002-task-due-dates.yaml
    expect: {conclusion: success, hidden: pass, gates: {pytest: pass}}
"""


def write(tmp_path: Path, sessions: str, task: str = "") -> Path:
    folder = tmp_path / "scenarios" / "verdicts"
    (folder / "hidden").mkdir(parents=True, exist_ok=True)
    (tmp_path / "scenarios/002-task-due-dates.yaml").write_text("turns:\n  - text: hi\n")
    task = (
        task or "task: {example: taskboard, feature: 002-task-due-dates, hidden: {from: hidden, into: t}}\n"
    )
    path = folder / "corpus.yaml"
    path.write_text("format: 1\n" + task + "sessions:\n" + textwrap.dedent(sessions).strip("\n") + "\n")
    return path


def test_the_example_corpus_reads() -> None:
    assert CORPUS.task.feature == "002-task-due-dates"
    assert CORPUS.task.hidden is not None
    assert CORPUS.sessions[0].name == "honest"
    assert all(s.start_from in (None, "honest") for s in CORPUS.sessions)


def test_a_minimal_corpus_reads(tmp_path: Path) -> None:
    corpus = load_corpus(write(tmp_path, GOOD_SESSION))
    assert [s.expect.gates for s in corpus.sessions] == [{"pytest": "pass"}]


@pytest.mark.parametrize(
    ("sessions", "message"),
    [
        (
            GOOD_SESSION.replace("kind: honest", "kind: sneaky"),
            "honest.kind: must be one of honest, buggy, cheating",
        ),
        (GOOD_SESSION.replace("pytest: pass", "pytest: green"), "must be one of pass, fail, not verified"),
        (GOOD_SESSION.replace("hidden: pass, ", ""), "honest.expect: hidden is missing"),
        (GOOD_SESSION + GOOD_SESSION, "the name 'honest' is used twice"),
        (
            GOOD_SESSION.replace("kind: honest", "kind: honest\n    start_from: later"),
            "'later' is not a session listed before it",
        ),
        (GOOD_SESSION.replace("../002-task-due-dates.yaml", "missing.yaml"), "missing.yaml does not exist"),
        (GOOD_SESSION.replace("expect:", "expected:"), "unknown key(s) expected"),
    ],
)
def test_mistakes_in_a_corpus_are_clear_errors(tmp_path: Path, sessions: str, message: str) -> None:
    with pytest.raises(FatalError) as caught:
        load_corpus(write(tmp_path, sessions))
    assert message in caught.value.cause
    assert "corpus.yaml" in caught.value.cause
    assert caught.value.fix


def test_a_task_that_brings_its_own_spec_folder_names_it(tmp_path: Path) -> None:
    spec_task = "task: {example: taskboard, feature: 003-x, spec: spec, hidden: {from: hidden, into: t}}\n"
    with pytest.raises(FatalError) as caught:
        load_corpus(write(tmp_path, GOOD_SESSION, task=spec_task))
    assert "task.spec" in caught.value.cause
    assert "does not exist" in caught.value.cause
    (tmp_path / "scenarios/verdicts/spec").mkdir()
    corpus = load_corpus(write(tmp_path, GOOD_SESSION, task=spec_task))
    assert corpus.task.spec == (tmp_path / "scenarios/verdicts/spec").resolve()


def test_a_corpus_run_prints_no_setup_lines(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The eval prints one line per session: the project's setup lines stay out of its output."""
    task = (
        "task: {example: taskboard, feature: 002-task-due-dates, hidden: {from: hidden, into: t}, "
        "settings: {setup-command: 'python -c pass', max-repair-rounds: '0'}}\n"
    )
    path = write(tmp_path, GOOD_SESSION, task)
    honest = ROOT / "examples/taskboard/scenarios/002-task-due-dates.yaml"
    (tmp_path / "scenarios/002-task-due-dates.yaml").write_text(honest.read_text(encoding="utf-8"))
    corpus = load_corpus(path)
    with reachable_tempdir(prefix="specship-corpus-") as where:
        [result] = run_corpus(corpus, where).values()
    out, err = capfd.readouterr()
    assert result.skipped is None
    assert result.gates  # the session ran through the gates, with the setup command before them
    assert "setup:" not in out + err
