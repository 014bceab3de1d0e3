"""Sandboxed processes never outlive the run's time budget, nor Specship itself (findings 4 and 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import sandbox
from bot.sandbox.process import NOT_RUN
from tests.conftest import reachable_tempdir

ROOT = Path(__file__).resolve().parents[2]
SLEEP = "import time; time.sleep(%d)"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    with reachable_tempdir() as path:
        yield path


def test_a_process_is_stopped_when_the_budget_runs_out(shared_dir: Path) -> None:
    with sandbox.applied_policy(deadline=time.monotonic() + 1.0):
        result = sandbox.run([sys.executable, "-c", SLEEP % 60], cwd=shared_dir, timeout=900)
    assert result.timed_out
    assert result.out_of_time
    assert result.duration_s < 10  # the budget (1 s) and the kill grace, not the 900 s timeout
    assert "the run's time budget ran out after 1 s" in result.output
    assert "time budget ran out" in result.status


def test_with_no_time_left_nothing_runs(shared_dir: Path) -> None:
    marker = shared_dir / "ran"
    with sandbox.applied_policy(deadline=time.monotonic() - 1):
        result = sandbox.run(["touch", str(marker)], cwd=shared_dir, timeout=60)
    assert result.output == NOT_RUN
    assert result.out_of_time
    assert not result.ok
    assert not marker.exists()


def test_a_shorter_own_timeout_is_not_the_budget(shared_dir: Path) -> None:
    with sandbox.applied_policy(deadline=time.monotonic() + 600):
        result = sandbox.run([sys.executable, "-c", SLEEP % 30], cwd=shared_dir, timeout=0.5)
    assert result.timed_out
    assert not result.out_of_time
    assert "timed out after 0.5 s" in result.output


def test_trusted_commands_are_not_cut_by_the_budget(shared_dir: Path) -> None:
    # git (isolate=False) must still commit and push the work after the time is up.
    with sandbox.applied_policy(deadline=time.monotonic() - 1):
        result = sandbox.run(["true"], cwd=shared_dir, timeout=10, isolate=False)
    assert result.ok


def test_policies_nest_and_restore() -> None:
    assert sandbox.time_left() is None
    with sandbox.applied_policy(deadline=time.monotonic() + 100, network="none"):
        with sandbox.applied_policy(deadline=time.monotonic() + 5):
            left = sandbox.time_left()
            assert left is not None
            assert left <= 5
        outer = sandbox.time_left()
        assert outer is not None
        assert outer > 50
    assert sandbox.time_left() is None
    with pytest.raises(ValueError, match="network must be one of"), sandbox.applied_policy(network="bridge"):
        pass


# A stand-in for Specship: SIGTERM raises (like bot.__main__'s handler) while a sandboxed child runs.
CANCELLED_RUNNER = """
import signal, sys
from pathlib import Path
from bot import sandbox

class Cancelled(BaseException):
    pass

def on_term(signum, frame):
    raise Cancelled()

signal.signal(signal.SIGTERM, on_term)
child = "import os, time; open(%r, 'w').write(str(os.getpid())); time.sleep(300)" % sys.argv[1]
try:
    sandbox.run([sys.executable, "-c", child], cwd=Path(sys.argv[2]), timeout=900)
except Cancelled:
    print("cancelled", flush=True)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_a_cancelled_run_kills_its_sandboxed_process(shared_dir: Path) -> None:
    pid_file = shared_dir / "child.pid"
    os.chmod(shared_dir, 0o777)  # noqa: S103 - the sandbox user writes its pid here
    runner = subprocess.Popen(
        [sys.executable, "-c", CANCELLED_RUNNER, str(pid_file), str(shared_dir)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline, "the sandboxed child never started"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    runner.send_signal(signal.SIGTERM)
    out, _ = runner.communicate(timeout=30)
    assert out.strip() == "cancelled"
    gone_by = time.monotonic() + 5
    while alive(child) and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert not alive(child), "the sandboxed process outlived the cancelled run"
