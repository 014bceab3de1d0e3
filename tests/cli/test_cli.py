"""The CLI as users meet it: fast --help, one clear line per user error, exit codes, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import __main__ as cli
from bot import actions
from bot.actions import Runtime

ROOT = Path(__file__).resolve().parents[2]
WEBHOOKS = Path(__file__).resolve().parents[1] / "fixtures/github/webhooks"


def run_bot(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **(env or {})},
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_lists_commands_and_imports_nothing_heavy() -> None:
    done = run_bot("--help")
    assert done.returncode == 0
    for command in ("run", "plan", "local", "demo", "check", "specs"):
        assert command in done.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.__main__ as m; m.build_parser();"
            "print(sorted(n for n in ('anthropic', 'github', 'jinja2', 'bandit') if n in sys.modules))",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "[]"


def event_file(tmp_path: Path, content: str | bytes, name: str = "event.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def labeled_payload() -> dict[str, object]:
    return json.loads((WEBHOOKS / "issues/labeled.payload.json").read_text())


MALFORMED_EVENTS: list[tuple[str, dict[str, str] | None, str | bytes | None, str]] = [
    # (id, env overrides, event file content or None, expected text in the message)
    ("no-event-name", {"GITHUB_EVENT_NAME": ""}, "{}", "GITHUB_EVENT_NAME is not set"),
    ("bad-event-name", {"GITHUB_EVENT_NAME": "issues; rm -rf /"}, "{}", "is not a GitHub event name"),
    ("no-event-path", {"GITHUB_EVENT_PATH": ""}, None, "GITHUB_EVENT_PATH is not set"),
    ("missing-file", {"GITHUB_EVENT_PATH": "/nonexistent/event.json"}, None, "Cannot read the event file"),
    ("invalid-json", None, '{"action": "labeled",', "is not valid JSON"),
    ("array-payload", None, "[1, 2]", "holds an array"),
    ("not-utf8", None, b'{"action": "\xff\xfe"}', "is not UTF-8"),
]


@pytest.mark.parametrize(
    ("case", "env", "content", "expected"), MALFORMED_EVENTS, ids=[c[0] for c in MALFORMED_EVENTS]
)
def test_malformed_event_is_one_clear_line(
    tmp_path: Path, case: str, env: dict[str, str] | None, content: str | bytes | None, expected: str
) -> None:
    full_env = {"GITHUB_EVENT_NAME": "issues"}
    if content is not None:
        full_env["GITHUB_EVENT_PATH"] = str(event_file(tmp_path, content))
    full_env.update(env or {})
    assert_one_user_error(run_bot("plan", "--repo", str(tmp_path), env=full_env), expected)


def mutate_labeled(path: str, value: object) -> dict[str, object]:
    payload = labeled_payload()
    node: dict[str, object] = payload
    keys = path.split(".")
    for key in keys[:-1]:
        child = node[key]
        assert isinstance(child, dict)
        node = child
    if value is KeyError:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return payload


MALFORMED_FIELDS = [
    ("issues", "issue.number", KeyError, "issue.number"),
    ("issues", "issue.number", "seven", "issue.number"),
    ("issues", "label.name", KeyError, "label.name"),
    ("issues", "repository.full_name", 42, "repository.full_name"),
    ("issues", "sender.login", KeyError, "sender.login"),
]


@pytest.mark.parametrize(("event", "path", "value", "expected"), MALFORMED_FIELDS)
def test_missing_or_mistyped_field_names_the_field(
    tmp_path: Path, event: str, path: str, value: object, expected: str
) -> None:
    payload = mutate_labeled(path, value)
    env = {"GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_file(tmp_path, json.dumps(payload)))}
    # the trigger label must match so the parser reads the whole payload
    env["INPUT_TRIGGER-LABEL"] = "bug"
    assert_one_user_error(run_bot("plan", "--repo", str(tmp_path), env=env), expected)


MALFORMED_CONFIGS = [
    ("unknown-key", "max-turn: 3\n", {}, "unknown key 'max-turn'"),
    ("wrong-type", "draft: sometimes\n", {}, "must be true or false"),
    ("invalid-yaml", "labels: [a, b\n", {}, "specship.yml:"),
    ("secret-in-file", "anthropic-api-key: sk-ant-abcdefgh12345678\n", {}, "belongs in the workflow"),
    ("out-of-range", "timeout-minutes: 1000\n", {}, "above the maximum 360"),
    ("bad-input", "", {"INPUT_MAX-TURNS": "many"}, "action input 'max-turns'"),
]


@pytest.mark.parametrize(
    ("case", "text", "env", "expected"), MALFORMED_CONFIGS, ids=[c[0] for c in MALFORMED_CONFIGS]
)
def test_malformed_config_is_one_clear_line(
    tmp_path: Path, case: str, text: str, env: dict[str, str], expected: str
) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/specship.yml").write_text(text)
    full_env = {
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_EVENT_PATH": str(event_file(tmp_path, json.dumps(labeled_payload()))),
        **env,
    }
    done = run_bot("plan", "--repo", str(tmp_path), env=full_env)
    assert_one_user_error(done, expected)
    assert "sk-ant-abcdefgh12345678" not in done.stdout + done.stderr


def assert_one_user_error(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("specship: error: ")
    assert expected in lines[0]
    assert "How to fix: " in lines[0]


def test_in_actions_a_user_error_is_an_annotation_and_a_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_EVENT_PATH": str(event_file(tmp_path, "not json")),
    }
    done = run_bot("plan", "--repo", str(tmp_path), env=env)
    assert done.returncode == 1
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=Specship::The event file")
    assert "How to fix:" in errors[0]
    assert "is not valid JSON" in summary.read_text()


def test_unexpected_exception_exits_3_with_a_bug_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cli.COMMANDS, "explode", ("tests.cli.test_cli:_explode", "raises a bug"))
    monkeypatch.syspath_prepend(str(ROOT))
    actions.use(Runtime(env={}))
    try:
        assert cli.main(["explode"]) == cli.EXIT_BUG
    finally:
        actions.use(Runtime())
    err = capsys.readouterr().err
    assert "specship: bug: Internal error (ZeroDivisionError" in err
    assert "This is a bug in Specship" in err
    assert "Traceback" not in err


def _explode(args: object) -> int:
    return 1 // 0


def test_sigterm_is_handled(tmp_path: Path) -> None:
    fifo = tmp_path / "event.fifo"
    os.mkfifo(fifo)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "plan", "--repo", str(tmp_path)],
        env={**base, "PYTHONPATH": str(ROOT), "GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(fifo)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)  # reading the FIFO blocks until a writer appears: the run is "in progress"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == cli.EXIT_CANCELLED
    assert "The run was cancelled." in err
    assert "Traceback" not in err
