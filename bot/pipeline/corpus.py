"""The verdict corpus format: a task, its scripted sessions and the verdicts each must get (read strictly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.exceptions import FatalError
from bot.gates import VERDICTS
from bot.gates.acceptance import scenario_key

FORMAT = 1
KINDS = ("honest", "buggy", "cheating")
CONCLUSIONS = ("success", "draft", "clarification", "stopped", "refused")
HIDDEN = ("pass", "fail")
TOP_KEYS = ("format", "task", "sessions")
TASK_KEYS = ("example", "feature", "spec", "needs", "settings", "hidden")
HIDDEN_KEYS = ("from", "into", "proves")
SESSION_KEYS = ("name", "kind", "about", "scenario", "start_from", "report_from", "expect")
EXPECT_KEYS = ("conclusion", "hidden", "gates")
FIX = "See the header of examples/taskboard/scenarios/verdicts/corpus.yaml for the format."


@dataclass(frozen=True)
class Hidden:
    """Hidden acceptance tests: a folder beside the corpus, copied under app-directory after a session.

    `proves` maps each acceptance scenario (spec key `US1-2`) to the hidden tests that prove it
    (`file.py::test_name`, relative to the folder).
    """

    source: Path
    into: str
    proves: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """A repository at a base commit (examples/<example>), one feature, services it needs, hidden tests.

    `spec` is the feature's Spec Kit folder when the task brings its own (copied to
    `<specs-dir>/<feature>` in the base commit); without it the example already has the feature.
    """

    example: str
    feature: str
    needs: tuple[str, ...] = ()
    settings: Mapping[str, str] = field(default_factory=dict)
    hidden: Hidden | None = None
    spec: Path | None = None


@dataclass(frozen=True)
class Expect:
    """The verdict a session must get: the run's conclusion, the hidden tests', every gate's."""

    conclusion: str
    hidden: str | None
    gates: Mapping[str, str]


@dataclass(frozen=True)
class Session:
    """One scripted session of a kind, optionally continuing another session's work and report."""

    name: str
    kind: str
    scenario: Path
    expect: Expect
    about: str = ""
    start_from: str | None = None
    report_from: str | None = None


@dataclass(frozen=True)
class Corpus:
    """A task and its sessions, in an order where every session comes after the ones it builds on."""

    source: Path
    task: Task
    sessions: tuple[Session, ...]

    def session(self, name: str) -> Session:
        return next(s for s in self.sessions if s.name == name)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> FatalError:
        return FatalError(f"{self.path}: {where}: {problem}.", FIX)

    def mapping(self, value: object, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})")
        return value

    def text(self, value: object, where: str, choices: tuple[str, ...] = ()) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be a non-empty string")
        if choices and value not in choices:
            raise self.fail(where, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def file(self, value: object, where: str, folder: bool = False) -> Path:
        path = (self.path.parent / self.text(value, where)).resolve()
        if not (path.is_dir() if folder else path.is_file()):
            raise self.fail(where, f"{path} does not exist")
        return path

    def task(self, raw: object) -> Task:
        task = self.mapping(raw, "task", TASK_KEYS)
        needs = task.get("needs") or []
        settings = task.get("settings") or {}
        if not isinstance(needs, list) or not isinstance(settings, dict):
            raise self.fail("task", "needs must be a list and settings a mapping")
        hidden = None
        if task.get("hidden") is not None:
            spec = self.mapping(task["hidden"], "task.hidden", HIDDEN_KEYS)
            source = self.file(spec.get("from"), "task.hidden.from", folder=True)
            hidden = Hidden(source, self.text(spec.get("into"), "task.hidden.into"),
                            self.proves(spec.get("proves") or {}, source))  # fmt: skip
        return Task(
            self.text(task.get("example"), "task.example"),
            self.text(task.get("feature"), "task.feature"),
            tuple(self.text(n, "task.needs") for n in needs),
            {self.text(k, "task.settings"): str(v) for k, v in settings.items()},
            hidden,
            self.file(task["spec"], "task.spec", folder=True) if task.get("spec") is not None else None,
        )

    def proves(self, raw: object, folder: Path) -> dict[str, tuple[str, ...]]:
        where = "task.hidden.proves"
        if not isinstance(raw, dict):
            raise self.fail(where, "must map scenario keys (US1-2) to lists of hidden tests")
        proves: dict[str, tuple[str, ...]] = {}
        for key, tests in raw.items():
            scenario = scenario_key(str(key))
            if scenario is None:
                raise self.fail(f"{where}.{key}", "is not a scenario key such as US1-2")
            if not isinstance(tests, list) or not tests:
                raise self.fail(
                    f"{where}.{key}", "must be a non-empty list of hidden tests (file.py::test_name)"
                )
            for test in tests:
                self.hidden_test(self.text(test, f"{where}.{key}"), folder, f"{where}.{key}")
            proves[scenario] = tuple(tests)
        return proves

    def hidden_test(self, node: str, folder: Path, where: str) -> None:
        """`file.py::test_name` names a test function defined in that file of the hidden folder."""
        name, _, test = node.partition("::")
        path = (folder / name).resolve()
        if not test or not path.is_file() or not path.is_relative_to(folder):
            raise self.fail(where, f"{node!r} is not file.py::test_name of a file in {folder}")
        function = test.split("::")[-1].split("[")[0]
        source = path.read_text(encoding="utf-8", errors="replace")
        if f"def {function}(" not in source:
            raise self.fail(where, f"{path.name} defines no test {function!r}")

    def session(self, raw: object, index: int, names: set[str], hidden: bool) -> Session:
        where = f"sessions[{index}]"
        item = self.mapping(raw, where, SESSION_KEYS)
        name = self.text(item.get("name"), f"{where}.name")
        if name in names:
            raise self.fail(where, f"the name {name!r} is used twice")
        expect = self.mapping(item.get("expect"), f"{name}.expect", EXPECT_KEYS)
        gates = self.mapping(expect.get("gates"), f"{name}.expect.gates", tuple(expect.get("gates") or ()))
        verdicts = {self.text(k, f"{name}.expect.gates"): self.text(v, f"{name}.expect.gates.{k}", VERDICTS)
                    for k, v in gates.items()}  # fmt: skip
        outcome = expect.get("hidden")
        if hidden and outcome is None:
            raise self.fail(f"{name}.expect", "hidden is missing (the task has hidden tests)")
        for key in ("start_from", "report_from"):
            if item.get(key) is not None and item[key] not in names:
                raise self.fail(f"{name}.{key}", f"{item[key]!r} is not a session listed before it")
        return Session(
            name,
            self.text(item.get("kind"), f"{name}.kind", KINDS),
            self.file(item.get("scenario"), f"{name}.scenario"),
            Expect(
                self.text(expect.get("conclusion"), f"{name}.expect.conclusion", CONCLUSIONS),
                self.text(outcome, f"{name}.expect.hidden", HIDDEN) if outcome is not None else None,
                verdicts,
            ),
            str(item.get("about") or ""),
            item.get("start_from"),
            item.get("report_from"),
        )


def load_corpus(path: Path) -> Corpus:
    """Read and check a corpus file; FatalError names the file, the key and the fix."""
    reader = _Reader(path.resolve())
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FatalError(f"Cannot read the corpus {path}: {exc}.", FIX) from None
    top = reader.mapping(raw, "the file", TOP_KEYS)
    if top.get("format") != FORMAT:
        raise reader.fail("format", f"must be {FORMAT}")
    task = reader.task(top.get("task"))
    sessions: list[Session] = []
    listed = top.get("sessions")
    if not isinstance(listed, list) or not listed:
        raise reader.fail("sessions", "must be a non-empty list")
    for index, raw_session in enumerate(listed):
        sessions.append(
            reader.session(raw_session, index, {s.name for s in sessions}, task.hidden is not None)
        )
    return Corpus(reader.path, task, tuple(sessions))
