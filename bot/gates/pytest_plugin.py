"""Specship's result channel: a pytest plugin that streams each test report to the harness as it happens."""

# Standalone on purpose: Specship copies this file under a random module name into a directory the
# sandbox user cannot write and loads it with `-p`, under the project's interpreter (stdlib and
# pytest only). Records go to a pipe the orchestrator opened; what it has read cannot be taken back.
# Code in the same process can still write to the pipe or rewrite objects: the orchestrator
# cross-checks the records (pytest_channel.py), and the guard refuses the code that would try.
from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Generator
from typing import Any

import pytest

FD_VARIABLE = "SPECSHIP_RESULTS_FD"
MAX_JUNIT_BYTES = 20 * 1024 * 1024
MAX_MESSAGE = 500
MARKS = ("skip", "skipif", "xfail")


def _open_channel() -> int | None:
    value = os.environ.pop(FD_VARIABLE, "")
    if not value.isdigit():
        return None
    fd = int(value)
    try:
        os.set_inheritable(fd, False)  # subprocesses the tests start do not get it
    except OSError:
        return None
    return fd


_FD = _open_channel()
_MARKS_AT_COLLECTION: dict[str, list[str]] = {}
_DESELECTED: list[str] = []
_STATE: dict[str, Any] = {}


def _send(kind: str, **data: Any) -> None:
    if _FD is None:
        return
    line = (json.dumps({"k": kind, **data}, default=str) + "\n").encode("utf-8")
    view = memoryview(line)
    while view:
        try:
            written = os.write(_FD, view)
        except InterruptedError:
            continue
        except OSError:
            return  # the harness stopped listening; it judges what it has
        view = view[written:]


def _marks(item: pytest.Item) -> list[str]:
    return sorted({mark.name for mark in item.iter_markers() if mark.name in MARKS})


def _raw(call: pytest.CallInfo[None]) -> str:
    """The phase's outcome from what it raised, before any hook has seen the report."""
    if call.excinfo is None:
        return "passed"
    if isinstance(call.excinfo.value, pytest.xfail.Exception):
        return "xfailed"
    if isinstance(call.excinfo.value, pytest.skip.Exception):
        return "skipped"
    return "failed"


def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The error pytest printed last: its whole block of `E ` lines (an assertion's message and its
    comparison, not only the comparison's last diff line), else the report's last line."""
    text = getattr(report, "longreprtext", "") or ""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    marked = [line == "E" or line.startswith("E ") for line in lines]  # "E" alone: a blank one
    end = next((i for i in range(len(lines) - 1, -1, -1) if marked[i]), None)
    if end is None:
        return (lines[-1] if lines else "")[:MAX_MESSAGE]
    start = end
    while start > 0 and marked[start - 1]:
        start -= 1
    return "\n".join(line for line in lines[start : end + 1] if line != "E")[:MAX_MESSAGE]


_send("hello", pid=os.getpid(), pytest=pytest.__version__)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    _STATE["config"] = config
    _send(
        "config",
        junit=getattr(config.option, "xmlpath", None),
        maxfail=getattr(config.option, "maxfail", 0),
        runxfail=bool(getattr(config.option, "runxfail", False)),
        xdist=bool(getattr(config.option, "numprocesses", None)),
    )


@pytest.hookimpl(tryfirst=True)
def pytest_itemcollected(item: pytest.Item) -> None:
    _MARKS_AT_COLLECTION[item.nodeid] = _marks(item)


def pytest_deselected(items: list[pytest.Item]) -> None:
    _DESELECTED.extend(item.nodeid for item in items)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _send("collecterror", id=report.nodeid, msg=_message(report))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    _STATE["session"] = session
    ids = [item.nodeid for item in session.items]
    added = {
        item.nodeid: sorted(set(_marks(item)) - set(_MARKS_AT_COLLECTION.get(item.nodeid, [])))
        for item in session.items
    }
    present = set(ids) | set(_DESELECTED)
    dropped = [nodeid for nodeid in _MARKS_AT_COLLECTION if nodeid not in present]
    _send(
        "collected",
        ids=ids,
        xfail=[nodeid for nodeid, marks in _MARKS_AT_COLLECTION.items() if "xfail" in marks],
        added_marks={nodeid: marks for nodeid, marks in added.items() if marks},
        dropped=dropped,
        deselected=list(_DESELECTED),
    )


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    # Old-style wrapper (any pluggy); trylast makes it the innermost one, so every other wrapper
    # sees the report after this one has marked it with what the phase really raised.
    outcome = yield
    report = outcome.get_result()
    if report is not None:
        report.__dict__["specship_raw"] = _raw(call)


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _send(
        "report",
        id=report.nodeid,
        when=report.when,
        outcome=report.outcome,
        raw=report.__dict__.get("specship_raw"),
        wasxfail=hasattr(report, "wasxfail"),
        msg=_message(report) if report.failed else "",
    )


def _junit(path: object) -> dict[str, Any]:
    if not isinstance(path, str) or not path:
        return {"junit": None}
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_JUNIT_BYTES + 1)
    except OSError:
        return {"junit": None}
    if len(data) > MAX_JUNIT_BYTES:
        return {"junit": None, "junit_too_large": True}
    return {"junit": base64.b64encode(data).decode("ascii"), "junit_sha256": hashlib.sha256(data).hexdigest()}


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # trylast: after junitxml wrote its report, so the harness gets the file as pytest left it.
    config = _STATE.get("config")
    _send(
        "finish",
        exitstatus=int(exitstatus),
        session_exitstatus=int(session.exitstatus),
        testsfailed=session.testsfailed,
        stopped=bool(session.shouldstop or session.shouldfail),
        **_junit(getattr(config.option, "xmlpath", None) if config else None),
    )


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    session = _STATE.get("session")
    _send("end", exitstatus=int(session.exitstatus) if session is not None else None)
