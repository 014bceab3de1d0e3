"""Cancelling a run: the sandboxed tests die with it, and a second SIGTERM during the cleanup still
leaves the tracking comment in a final state (finding 6), end to end."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from tests.e2e import FEATURE, World, new_world, play
from tests.fakes.github_faults import Fault, error_body
from tests.fakes.github_fixture import BOT, REPO

WAITING_TEST = """
import os, time

def test_wait():
    with open(%r, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(300)
"""

SESSION = """
turns:
  - tool_calls:
      - name: str_replace_based_edit_tool
        input: {command: create, path: backend/tests/test_wait.py, file_text: %s}
  - tool_calls:
      - name: run_tests
        input: {node_ids: ["tests/test_wait.py::test_wait"]}
  - tool_calls:
      - name: submit_report
        input: {summary: "never sent", files: [], acceptance_criteria: []}
"""


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def wait_for(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.slow
def test_a_second_sigterm_during_cleanup_still_ends_the_tracking_comment(world: World) -> None:
    pids = world.tmp / "pids"
    pids.mkdir()
    os.chmod(pids, 0o777)  # noqa: S103 - the sandboxed test writes its pid here
    pid_file = pids / "test.pid"
    number = world.github.add_issue(REPO, f"Implement specs/{FEATURE}", body="Please.", author="alice")
    play(world.anthropic, SESSION % json.dumps(WAITING_TEST % str(pid_file)))
    process = world.start("issues", world.label_payload(number))
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the sandboxed test never started")
    sandboxed = int(pid_file.read_text())
    # GitHub is slow and failing exactly when the cleanup writes the final status: the edit waits
    # 2 s, gets a 502, and has to be retried.
    slow = world.github.inject(
        "PATCH", r"/issues/comments/\d+$", Fault(502, error_body(502, "Server Error"), delay=2.0)
    )
    process.send_signal(signal.SIGTERM)
    wait_for(lambda: slow.hits >= 1, "the cleanup never wrote the tracking comment")
    process.send_signal(signal.SIGTERM)  # the runner insists while the final edit is in flight
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    assert "signal 15 ignored: already stopping" in err
    comments = world.github.repo(REPO).comments.values()
    (tracking,) = [c.body for c in comments if c.login == BOT and c.issue_number == number]
    assert "Specship was cancelled" in tracking, tracking
    assert "Specship is working" not in tracking
    assert [r.status for r in world.github.calls("PATCH", r"/issues/comments/\d+$")][-2:] == [502, 200]
    wait_for(lambda: not alive(sandboxed), "the sandboxed test outlived the cancelled run", 10)
    assert world.outputs()["conclusion"] == "cancelled"
