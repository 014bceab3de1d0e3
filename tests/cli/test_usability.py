"""The smaller things a newcomer meets: --version, a missing --repo, located config errors, the
action's `command` input, local-mode hints, the model checked before the branch, and the pause
before money is spent (a real terminal, driven through a pty)."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from bot import actions
from bot.actions import Runtime
from bot.cli.confirm import COUNTDOWN_SECONDS, STOPPED, warn_then_wait
from tests.cli.test_cli import ROOT, assert_one_user_error, event_file, labeled_payload, run_bot
from tests.conftest import committed_example, run_git
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator

SCENARIO = ROOT / "examples/taskboard/scenarios/002-task-due-dates.yaml"
FEATURE = "002-task-due-dates"


def test_version_comes_from_the_package_metadata() -> None:
    done = run_bot("--version")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert (done.returncode, done.stdout.strip()) == (0, f"specship {version}")


@pytest.mark.parametrize("command", ["local", "specs", "plan", "check"])
def test_a_missing_repo_directory_says_so(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "no-such-dir"
    extra = ["--feature", FEATURE] if command == "local" else []
    env = {"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(event_file(tmp_path, "{}"))}
    done = run_bot(command, "--repo", str(missing), *extra, env=env)
    assert_one_user_error(done, f"--repo {missing} does not exist.")
    assert "git is not installed" not in done.stderr


def test_git_at_a_missing_directory_is_not_a_missing_git(tmp_path: Path) -> None:
    from bot import git
    from bot.exceptions import FatalError

    with pytest.raises(FatalError) as info:
        git.run(tmp_path / "gone", "status")
    assert info.value.cause == f"The directory {tmp_path / 'gone'} does not exist."


def test_a_repo_that_is_a_file_says_so(tmp_path: Path) -> None:
    file = tmp_path / "README.md"
    file.write_text("x\n")
    assert_one_user_error(run_bot("specs", "--repo", str(file)), "is a file, not a directory")


# ---- Action config errors carry the file and line ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("draft: true\nmax-turns: lots\n", 2, "'max-turns' must be a whole number"),
        ("draft: true\n\nmax-turn: 3\n", 3, "unknown key 'max-turn'"),
        ("labels: [a, b\nx: 1\n", 2, "specship.yml:2:"),
        ("specs-dir: ../elsewhere\n", 1, "'specs-dir' is '../elsewhere'"),
        ("command: plan\n", 1, "is an action input: set it in the workflow's `with:`"),
    ],
)
def test_in_actions_a_config_error_is_an_annotation_on_its_line(
    tmp_path: Path, text: str, line: int, expected: str
) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/specship.yml").write_text(text)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_EVENT_PATH": str(event_file(tmp_path, json.dumps(labeled_payload()))),
    }
    done = run_bot("plan", "--repo", str(tmp_path), env=env)
    assert done.returncode == 1
    (error,) = [x for x in done.stdout.splitlines() if x.startswith("::error")]
    assert error.startswith(f"::error file=.github/specship.yml,line={line},title=Specship::")
    assert expected in error


def test_in_actions_a_bad_input_points_at_the_workflow_file(tmp_path: Path) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKFLOW_REF": "octo/app/.github/workflows/specship.yml@refs/heads/main",
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_EVENT_PATH": str(event_file(tmp_path, json.dumps(labeled_payload()))),
        "INPUT_MAX-TURNS": "many",
    }
    done = run_bot("plan", "--repo", str(tmp_path), env=env)
    (error,) = [x for x in done.stdout.splitlines() if x.startswith("::error")]
    assert error.startswith("::error file=.github/workflows/specship.yml,title=Specship::action input")


# ---- the action's `command` input --------------------------------------------------------------


def test_the_action_runs_the_command_its_input_names(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.write_text("")
    payload = labeled_payload()
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_EVENT_PATH": str(event_file(tmp_path, json.dumps(payload))),
        "GITHUB_OUTPUT": str(output),
        "INPUT_COMMAND": "plan",
    }
    done = run_bot("action", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"ignored": "label \'bug\' is not the trigger label' in done.stdout
    assert "job-count=0" in output.read_text()


@pytest.mark.parametrize(
    ("value", "hint"), [("deploy", ""), ("plann", " Did you mean 'plan'?"), ("local", "")]
)
def test_the_action_refuses_any_other_command_before_anything_runs(
    tmp_path: Path, value: str, hint: str
) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKFLOW_REF": "octo/app/.github/workflows/specship.yml@refs/heads/main",
        "INPUT_COMMAND": value,
    }
    done = run_bot("action", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "::error file=.github/workflows/specship.yml,title=Specship::action input 'command': "
        f"'command' is '{value}'. How to fix: Use one of: run, plan, check.{hint}"
    ]


def test_an_unset_command_input_means_run(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "INPUT_COMMAND": ""}
    done = run_bot("action", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "GITHUB_EVENT_NAME is not set" in done.stdout  # `run` started, and needs an event


# ---- local mode: the model before the branch, and hints that fit a terminal ---------------------


def local(repo: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "local", "--repo", str(repo), "--feature", FEATURE, *extra],
        env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_local_checks_the_model_before_it_creates_the_branch(tmp_path: Path) -> None:
    repo = committed_example(tmp_path)
    head = run_git(repo, "rev-parse", "HEAD").strip()
    done = local(repo)
    assert done.returncode == 1
    assert "ANTHROPIC_API_KEY is not set" in done.stderr
    assert run_git(repo, "branch", "--list", f"specship/{FEATURE}") == ""
    assert run_git(repo, "branch", "--show-current").strip() == "main"
    assert run_git(repo, "rev-parse", "HEAD").strip() == head
    assert run_git(repo, "status", "--porcelain") == ""


@pytest.mark.slow
def test_local_model_errors_say_how_to_run_again_locally(reachable_dir: Path) -> None:
    """Never '/specship retry' on a terminal: the fix names the local command."""
    from bot.agent.scenario import Fault

    repo = committed_example(reachable_dir)
    with AnthropicEmulator() as emulator:
        emulator.inject(Fault(status=529, times=3))
        done = local(repo, env={"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": emulator.url})
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Anthropic overloaded" in done.stderr
    assert f"re-run later (specship local --feature {FEATURE})" in done.stderr
    assert "/specship" not in done.stderr


def test_a_cancelled_local_run_does_not_suggest_a_github_command(tmp_path: Path) -> None:
    from bot import __main__ as cli

    assert "/specship" not in cli.CANCELLED_FIX["local"]
    assert "/specship" not in cli.CANCELLED_FIX["demo"]
    assert "/specship retry" in cli.CANCELLED_FIX["run"]


# ---- the pause before money is spent -------------------------------------------------------------


class Clock:
    """An injected sleep: records the countdown instead of waiting, and can be interrupted."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.calls = 0
        self.interrupt_at = interrupt_at

    def __call__(self, seconds: float) -> None:
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt


@pytest.fixture
def err() -> io.StringIO:
    stream = io.StringIO()
    actions.use(Runtime(env={}, out=io.StringIO(), err=stream))
    yield stream
    actions.use(Runtime())


def test_at_a_terminal_the_warning_counts_down(err: io.StringIO) -> None:
    clock = Clock()
    warn_then_wait("This spends money.", yes=False, tty=True, sleep=clock)
    assert clock.calls == COUNTDOWN_SECONDS
    assert err.getvalue().startswith("specship: warning: This spends money.\n")
    assert "Starting in 10 s: press Ctrl-C to stop" in err.getvalue()
    assert "Starting in  1 s" in err.getvalue()


@pytest.mark.parametrize(("yes", "tty"), [(True, True), (False, False), (True, False)])
def test_yes_or_no_terminal_only_warns(err: io.StringIO, yes: bool, tty: bool) -> None:
    """CI has no terminal: the warning is printed and the run goes on without waiting."""
    clock = Clock()
    warn_then_wait("This spends money.", yes=yes, tty=tty, sleep=clock)
    assert clock.calls == 0
    assert err.getvalue() == "specship: warning: This spends money.\n"


def test_ctrl_c_during_the_countdown_stops_before_anything_is_sent(err: io.StringIO) -> None:
    with pytest.raises(KeyboardInterrupt):
        warn_then_wait("This spends money.", yes=False, tty=True, sleep=Clock(interrupt_at=3))
    assert err.getvalue().endswith(STOPPED + "\n")


def _read_until(fd: int, wanted: str, timeout: float = 60) -> str:
    seen = ""
    end = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk.decode("utf-8", "replace")
    return seen


def test_a_real_api_demo_warns_of_the_cost_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    """The demo with ANTHROPIC_API_KEY set, at a real terminal: cost warning, countdown, Ctrl-C ->
    cancelled before any request, and no demo repository left behind."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with AnthropicEmulator() as emulator:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_"))}
        env = {
            **base,
            "PYTHONPATH": str(ROOT),
            "ANTHROPIC_API_KEY": API_KEY,
            "ANTHROPIC_BASE_URL": emulator.url,
            "TMPDIR": str(scratch),
        }
        controller, terminal = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "demo"],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(terminal)
        try:
            seen = _read_until(controller, "Starting in")
            assert "spends real money" in seen, seen
            assert "about $1" in seen
            assert "stops at max-cost-usd, $5.00" in seen
            assert "--model scripted:" in seen
            os.killpg(proc.pid, signal.SIGINT)
            seen += _read_until(controller, "cancelled")
            assert proc.wait(timeout=30) == 130
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(controller)
        assert emulator.requests == []
    assert STOPPED in seen
    assert "The run was cancelled. How to fix: Run `make demo` again." in seen
    assert list(scratch.iterdir()) == []
