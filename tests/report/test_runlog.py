"""The run log: a line per phase, turn and tool call, gates in groups, cost so far; nothing quoted can act."""

from __future__ import annotations

import io
from pathlib import Path

from bot.actions import Runtime
from bot.agent.ledger import Ledger, price_for
from bot.agent.transcript import Transcript
from bot.gates import Finding, GateResult, Unverified
from bot.report.runlog import RunLog
from tests.runner_log import acting_commands

SECRET = "sk-ant-api03-" + "Q" * 40
HOSTILE = "Done.\n::error file=x::pwned\n::add-mask::nothing\n##[set-output name=x]y " + SECRET


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def actions_runtime() -> tuple[Runtime, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    rt = Runtime({"GITHUB_ACTIONS": "true"}, out=out, err=err)
    rt.mask(SECRET)
    out.truncate(0)
    out.seek(0)
    return rt, out, err


def turn(number: int, text: str, *tools: tuple[str, dict[str, object]]) -> dict[str, object]:
    content: list[dict[str, object]] = [{"type": "text", "text": text}]
    content += [
        {"type": "tool_use", "id": f"t{i}", "name": n, "input": i_} for i, (n, i_) in enumerate(tools)
    ]
    return {"turn": number, "stop_reason": "tool_use", "content": content, "usage": {"cost_usd": 0.25}}


def test_turns_and_tool_calls_are_one_line_each_with_the_cost_so_far(tmp_path: Path) -> None:
    rt, out, _ = actions_runtime()
    clock = Clock()
    log = RunLog(rt, clock)
    log.ledger = Ledger(price_for("claude-sonnet-4-5"))
    transcript = Transcript(tmp_path / "t.jsonl", rt.redact, log.event)
    log.phase("implement")
    clock.now += 75.5
    transcript.write(
        "assistant",
        turn(
            1,
            "Reading the plan first.",
            ("str_replace_based_edit_tool", {"command": "view", "path": "specs/002/plan.md"}),
            ("run_tests", {"node_ids": ["tests/test_a.py::test_x"]}),
        ),
    )
    transcript.write(
        "tool", {"name": "str_replace_based_edit_tool", "input": {"command": "view", "path": "a.py"}}
    )
    transcript.write("tool", {"name": "run_tests", "input": {}, "is_error": True})
    transcript.write(
        "tool",
        {
            "name": "str_replace_based_edit_tool",
            "input": {"command": "create", "path": "b.py", "file_text": "SECRET_CONTENT"},
        },
    )
    text = out.getvalue()
    shown = [line for line in text.splitlines() if not line.startswith("::")]
    assert shown == [
        "[00:00.0] phase: implement",
        "[01:15.5] turn 1: 2 tool call(s): editor, run_tests · $0.00 so far · “Reading the plan first.”",
        "[01:15.5]   editor view a.py",
        "[01:15.5]   run_tests (all tests) → error",
        "[01:15.5]   editor create b.py",
    ]
    assert "SECRET_CONTENT" not in text  # file contents never reach the log
    assert acting_commands(text) == []


def test_without_a_ledger_the_cost_so_far_adds_up_the_turns() -> None:
    rt, out, _ = actions_runtime()
    log = RunLog(rt, Clock())
    log.event("assistant", turn(1, "a"))
    log.event("assistant", turn(2, "b"))
    assert "turn 2: tool_use · $0.50 so far" in out.getvalue()


def test_hostile_model_text_and_tool_input_cannot_act_or_leak() -> None:
    rt, out, _ = actions_runtime()
    log = RunLog(rt, Clock())
    log.event("assistant", turn(3, HOSTILE, ("search", {"pattern": HOSTILE})))
    log.event("tool", {"name": "::warning::x\nsearch", "input": {"pattern": HOSTILE, "path": "::error::p"}})
    text = out.getvalue()
    assert acting_commands(text) == []
    assert SECRET not in text
    # redacted before the line is cut: not even the start of the key shows
    assert "sk-ant-api03" not in text
    assert "[REDACTE" in text
    # each quoted line stays one line: the newlines of the model's text are gone
    quoted = [line for line in text.splitlines() if "pwned" in line]
    assert len(quoted) == 2  # the turn (its prose) and the tool call (its pattern)
    assert all(line.startswith("[00:00.0] ") for line in quoted)


def test_gates_are_log_groups_with_their_findings_inside() -> None:
    rt, out, _ = actions_runtime()
    log = RunLog(rt, Clock())
    log.gates(
        [
            GateResult("pytest", "3 passed, 1 failed", (Finding("tests/t.py::test_x failed: " + HOSTILE),)),
            GateResult(
                "fastapi_auth",
                "could not import",
                ran=False,
                unverified=(Unverified("the app did not import", "set `app`", rule="no-app"),),
            ),
            GateResult("guard", "2 changed file(s), nothing weakened"),
        ]
    )
    text = out.getvalue()
    lines = text.splitlines()
    groups = [line for line in lines if line.startswith("::group::")]
    assert groups == [
        "::group::gate pytest: FAIL — 3 passed, 1 failed",
        "::group::gate fastapi_auth: NOT VERIFIED — could not import",
        "::group::gate guard: PASS — 2 changed file(s), nothing weakened",
    ]
    assert lines.count("::endgroup::") == 3
    first = lines.index(groups[0])
    inside = lines[first : lines.index("::endgroup::", first)]
    assert any("error: tests/t.py::test_x failed: Done. ::error file=x::pwned" in line for line in inside)
    second = lines.index(groups[1])
    assert "    not verified: the app did not import (fix: set `app`)" in lines[second : second + 5]
    assert lines[-1] == "[00:00.0] gates: pytest FAIL, fastapi_auth NOT VERIFIED, guard PASS"
    assert acting_commands(text) == [line for group in groups for line in (group, "::endgroup::")]
    assert SECRET not in text


def test_a_long_gate_keeps_its_group_short() -> None:
    rt, out, _ = actions_runtime()
    findings = tuple(Finding(f"problem {i}", "a.py", i) for i in range(1, 41))
    RunLog(rt, Clock()).gates([GateResult("security", "40 findings", findings)])
    text = out.getvalue()
    assert "problem 30" in text
    assert "problem 31" not in text
    assert "… and 10 more (see the job summary or the PR body)" in text


def test_outside_actions_the_same_lines_go_to_stderr_and_stdout_stays_data() -> None:
    out, err = io.StringIO(), io.StringIO()
    log = RunLog(Runtime({}, out=out, err=err), Clock())
    log.phase("gates")
    log.event("assistant", turn(1, "Hi", ("run_checks", {})))
    log.gates([GateResult("pytest", "1 passed")])
    assert out.getvalue() == ""
    assert err.getvalue().splitlines() == [
        "[00:00.0] phase: gates",
        "[00:00.0] turn 1: 1 tool call(s): run_checks · $0.25 so far · “Hi”",
        "== gate pytest: PASS — 1 passed",
        "[00:00.0] gates: pytest PASS",
    ]


def test_phases_are_timed_for_the_summary() -> None:
    clock = Clock()
    log = RunLog(Runtime({}, out=io.StringIO(), err=io.StringIO()), clock)
    log.phase("setup")
    clock.now += 2
    log.phase("implement")
    clock.now += 30
    assert log.finish() == [("setup", 2.0), ("implement", 30.0)]
