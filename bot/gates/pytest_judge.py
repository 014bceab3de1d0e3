"""Cross-checking the result channel: records against each other, the process and the JUnit witness."""

from __future__ import annotations

import base64
import binascii
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.gates.pytest_channel import Received

PHASES = ("setup", "call", "teardown")
BAD = ("failed", "error")
_RANK = {"passed": 0, "skipped": 1, "failed": 2}
SHOWN = 5  # node ids named in one message

FIX_JUNIT = "remove `-p no:junitxml` (and any junit_* override) from the project's pytest options"
FIX_WORKERS = "run the tests in one process: drop pytest-xdist's `-n` from the project's pytest options"

# Outcome changes pytest itself makes after the phase ran (xfail handling in _pytest/skipping.py).
_LEGITIMATE = {
    ("xfailed", "skipped"),  # pytest.xfail() called by the test
    ("passed", "failed"),  # a strict xfail that passed (XPASS(strict)): stricter, never a cheat
}


@dataclass
class Judgement:
    """What the channel says happened, and every way it disagrees with itself or its witnesses."""

    outcomes: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    tampering: list[str] = field(default_factory=list)  # errors: the results cannot be trusted
    gaps: list[tuple[str, str]] = field(default_factory=list)  # not verified: (what, the fix)
    notes: list[str] = field(default_factory=list)  # warnings
    collect_errors: list[tuple[str, str]] = field(default_factory=list)
    collected: int | None = None  # None: the collection record never came
    opened: bool = False  # the plugin said hello


def _ids(ids: Iterable[str]) -> str:
    items = list(ids)
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _outcome(phases: dict[str, dict[str, Any]]) -> str | None:
    setup, call, teardown = (phases.get(p) for p in PHASES)
    if setup is None:
        return None
    if setup.get("outcome") == "failed":
        return "error"
    if setup.get("outcome") == "skipped":
        return "skipped"
    result = {"failed": "failed", "skipped": "skipped"}.get(str((call or {}).get("outcome")), "passed")
    if call is None:
        result = "error"  # setup passed but the test never reported its call
    if teardown is not None and teardown.get("outcome") == "failed" and result not in BAD:
        result = "error"
    return result


def _junit_key(nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's junitxml derives them from a node id."""
    base, bracket, params = nodeid.partition("[")
    parts = base.split("::")
    path = parts[0].removesuffix(".py").replace("/", ".")
    return ".".join([path, *parts[1:-1]]), parts[-1] + (bracket + params if bracket else "")


def _junit_outcomes(xml_bytes: bytes) -> dict[tuple[str, str], str]:
    root = ET.fromstring(xml_bytes)  # noqa: S314 - size-capped, from our own pytest flag
    found: dict[tuple[str, str], str] = {}
    for case in root.iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        tags = {child.tag for child in case}
        outcome = "bad" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
        if found.get(key) != "bad":
            found[key] = outcome
    return found


class _Judge:
    def __init__(self, received: Received, returncode: int, junit_on_disk: bytes | None) -> None:
        self.received = received
        self.returncode = returncode
        self.junit_on_disk = junit_on_disk
        self.j = Judgement()
        self.phases: dict[str, dict[str, dict[str, Any]]] = {}
        self.unmarked: list[str] = []

    def problem(self, text: str) -> None:
        self.j.tampering.append(text)

    def run(self, timed_out: bool) -> Judgement:
        received, j = self.received, self.j
        if received.flooded:
            self.problem("the result channel received more data than any test run writes (flooded)")
        if received.malformed:
            self.problem(f"{received.malformed} malformed record(s) were written to the result channel")
        if received.held:
            self.problem("a process outside the killed test run kept the result channel open")
        hellos = received.of("hello")
        j.opened = bool(hellos)
        if len(hellos) > 1:
            self.problem("a second result stream was started on the channel (forged records)")
        for record in received.of("collecterror"):
            j.collect_errors.append((str(record.get("id") or "?"), str(record.get("msg") or "")))
        collected = received.of("collected")
        if len(collected) > 1:
            self.problem("the collected tests were announced twice on the channel (forged records)")
        if not collected:
            return j
        first = collected[0]
        ids = [str(i) for i in first.get("ids") or []]
        j.collected = len(ids)
        self._collection(first)
        self._reports(set(ids), {str(i) for i in first.get("xfail") or []})
        if self.unmarked:
            j.gaps.append(
                (
                    f"{len(self.unmarked)} result(s) carry no mark of what the test raised "
                    f"({_ids(self.unmarked)}), so a rewritten outcome could not be ruled out",
                    FIX_WORKERS,
                )
            )
        deselected = set(map(str, first.get("deselected") or []))
        if timed_out:
            return j
        self._completeness(ids, deselected)
        self._session()
        self._junit()
        return j

    def _collection(self, record: dict[str, Any]) -> None:
        added = record.get("added_marks") or {}
        if isinstance(added, dict) and added:
            marks = sorted({str(m) for value in added.values() for m in value})
            self.problem(
                f"a hook added {'/'.join(marks)} markers to {len(added)} test(s) after they were "
                f"collected: {_ids(map(str, added))}"
            )
        dropped = [str(i) for i in record.get("dropped") or []]
        if dropped:
            self.problem(
                f"{len(dropped)} collected test(s) were removed from the run without being deselected: "
                f"{_ids(dropped)}"
            )
        deselected = [str(i) for i in record.get("deselected") or []]
        if deselected:
            self.j.notes.append(
                f"{len(deselected)} test(s) were deselected by the project's pytest configuration and did "
                f"not run: {_ids(deselected)}"
            )

    def _reports(self, ids: set[str], xfail_marked: set[str]) -> None:
        for record in self.received.of("report"):
            nodeid, when, outcome = str(record.get("id")), str(record.get("when")), record.get("outcome")
            if outcome == "rerun":
                continue  # pytest-rerunfailures: the last report of the phase counts
            if nodeid not in ids:
                self.problem(f"a result was sent for {nodeid}, which was never collected (forged record)")
                continue
            phases = self.phases.setdefault(nodeid, {})
            believed = {**record, "outcome": self._raw(nodeid, when, record, nodeid in xfail_marked)}
            if when in phases:
                self.problem(f"two results for {nodeid} ({when}): a forged or repeated record")
                # Which one is forged cannot be told: the worse of the two is believed.
                if _RANK.get(str(believed["outcome"]), 0) > _RANK.get(str(phases[when].get("outcome")), 0):
                    phases[when] = believed
                continue
            phases[when] = believed
            if outcome == "failed" and record.get("msg"):
                self.j.messages.setdefault(nodeid, str(record["msg"]))

    def _raw(self, nodeid: str, when: str, record: dict[str, Any], xfail_marked: bool) -> str | None:
        """The outcome to believe: the report's, unless a hook rewrote it (then what the test raised)."""
        raw, final = record.get("raw"), record.get("outcome")
        if raw is None:
            self.unmarked.append(f"{nodeid} ({when})")
            return str(final)
        if raw == final or (raw, final) in _LEGITIMATE:
            return str(final)
        if raw == "failed" and final == "skipped" and record.get("wasxfail") and xfail_marked:
            return str(final)  # an xfail marker present at collection: pytest's own xfail handling
        self.problem(f"the result of {nodeid} ({when}) was changed from {raw} to {final} by a hook")
        return "skipped" if raw == "xfailed" else str(raw)

    def _completeness(self, ids: list[str], deselected: set[str]) -> None:
        finish = self.received.of("finish")
        # Stopped early by pytest itself: --maxfail, or errors during collection (exit status 2).
        stopped = bool(finish and (finish[0].get("stopped") or finish[0].get("exitstatus") == 2))
        stopped = stopped or bool(self.j.collect_errors)
        missing = []
        for nodeid in ids:
            outcome = _outcome(self.phases.get(nodeid, {}))
            if outcome is None:
                if nodeid not in deselected:
                    missing.append(nodeid)
                continue
            self.j.outcomes[nodeid] = outcome
        if missing and stopped:
            self.j.notes.append(
                f"{len(missing)} test(s) did not run: pytest stopped early (collection errors or maxfail)"
            )
        elif missing:
            self.problem(
                f"no result for {len(missing)} collected test(s) ({_ids(missing)}): the run was cut "
                "short or its results were suppressed"
            )

    def _session(self) -> None:
        finish, end = self.received.of("finish"), self.received.of("end")
        if not finish or not end:
            self.problem(
                f"pytest did not finish its session: the process ended (exit {self.returncode}) without "
                "pytest's own session finish, through os._exit, a signal or a crash"
            )
            return
        if len(finish) > 1 or len(end) > 1:
            self.problem("pytest's session end was announced twice on the channel (forged records)")
        status, after, final = (
            finish[0].get("exitstatus"),
            finish[0].get("session_exitstatus"),
            end[0].get("exitstatus"),
        )
        bad = sorted(n for n, o in self.j.outcomes.items() if o in BAD)
        if bad and status == 0:
            self.problem(f"pytest's session ended with exit status 0 although {len(bad)} test(s) failed")
        if after != status:
            self.problem(f"a pytest_sessionfinish hook changed the exit status from {status} to {after}")
        elif final != after:
            self.problem(f"the exit status was changed from {after} to {final} after the session finished")
        if final != self.returncode:
            self.problem(
                f"the test process exited with {self.returncode} although pytest's session ended with "
                f"{final}: code ran after pytest had finished (an atexit hook, os._exit or a signal)"
            )

    def _junit(self) -> None:
        finish = self.received.of("finish")
        if not finish:
            return
        encoded = finish[0].get("junit")
        if not isinstance(encoded, str):
            self.j.gaps.append(("pytest wrote no JUnit report, the second witness of the results", FIX_JUNIT))
            return
        try:
            streamed = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            self.problem("the JUnit report sent on the channel is not readable (forged record)")
            return
        if hashlib.sha256(streamed).hexdigest() != finish[0].get("junit_sha256"):
            self.problem("the JUnit report sent on the channel does not match its own checksum")
        if self.junit_on_disk is None or self.junit_on_disk != streamed:
            self.problem("the JUnit report was rewritten or removed after pytest finished writing it")
        try:
            cases = _junit_outcomes(streamed)
        except ET.ParseError:
            self.problem("the JUnit report pytest wrote is not valid XML")
            return
        self._compare(cases)

    def _compare(self, cases: dict[tuple[str, str], str]) -> None:
        matched, differ = 0, []
        for nodeid, outcome in self.j.outcomes.items():
            classname, name = _junit_key(nodeid)
            key = next((k for k in cases if k[1] == name and k[0].endswith(classname)), None)
            if key is None:
                continue
            matched += 1
            expected = "bad" if outcome in BAD else outcome
            if cases[key] != expected:
                differ.append(f"{nodeid}: {outcome} on the channel, {cases[key]} in JUnit")
        if self.j.outcomes and not matched:
            self.j.gaps.append(
                ("the JUnit report's test names could not be matched to the collected tests", FIX_JUNIT)
            )
        elif differ:
            self.problem(
                f"the JUnit report and the result stream disagree on {len(differ)} test(s): {_ids(differ)}"
            )


def judge(received: Received, returncode: int, timed_out: bool, junit_on_disk: bytes | None) -> Judgement:
    """Everything the channel proves about one pytest run."""
    return _Judge(received, returncode, junit_on_disk).run(timed_out)
