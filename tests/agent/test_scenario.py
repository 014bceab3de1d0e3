"""The scenario file format: strict loading, content blocks and request expectations."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.agent.scenario import Expect, Fault, ToolCall, Usage
from bot.agent.scenario_play import check_expect, estimate_tokens, id_factory, to_content_blocks
from bot.agent.scenario_reader import load_scenario, parse_scenario
from bot.exceptions import FatalError

GOOD = """\
# the model views a file, then edits it, then finishes
model: claude-sonnet-4-5
turns:
  - text: "I'll look at the model first."
    tool_calls:
      - name: str_replace_based_edit_tool
        input: {command: view, path: backend/src/models/task.py}
    expect:
      contains: ["implement specs/002"]
    fault: {status: 529, times: 2}
  - tool_calls:
      - name: str_replace_based_edit_tool
        input:
          command: str_replace
          path: backend/src/models/task.py
          old_str: "done: bool"
          new_str: "done: bool = False"
      - name: run_tests
        input: {}
    expect: {tool_results: ok}
    usage: {output_tokens: 120}
  - text: Too long
    tool_calls: [{name: submit_report, input: {summary: "cut"}}]
    stop_reason: max_tokens
  - text: All done.
    fault: {kind: slow, delay: 0.5}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "session.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_scenario_loads_with_defaults_and_lines(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))

    assert scenario.model == "claude-sonnet-4-5"
    assert scenario.source.endswith("session.yaml")
    first, second, third, fourth = scenario.turns
    assert (first.number, first.line, first.stop_reason) == (1, 4, "tool_use")
    assert first.tool_calls == (
        ToolCall("str_replace_based_edit_tool", {"command": "view", "path": "backend/src/models/task.py"}),
    )
    assert first.expect == Expect(contains=("implement specs/002",))
    assert first.fault == Fault(status=529, times=2)
    assert second.text is None
    assert second.stop_reason == "tool_use"
    assert [c.name for c in second.tool_calls] == ["str_replace_based_edit_tool", "run_tests"]
    assert second.expect == Expect(tool_results="ok")
    assert second.usage == Usage(output_tokens=120)
    assert third.stop_reason == "max_tokens"
    assert fourth.stop_reason == "end_turn"
    assert fourth.tool_calls == ()
    assert fourth.fault == Fault(kind="slow", delay=0.5)


def test_content_blocks_match_the_api_shape_with_deterministic_ids() -> None:
    turn = parse_scenario(GOOD).turns[1]

    blocks = to_content_blocks(turn, id_factory(seed="s"))
    again = to_content_blocks(turn, id_factory(seed="s"))
    other = to_content_blocks(turn, id_factory(seed="t"))

    assert [b["type"] for b in blocks] == ["tool_use", "tool_use"]
    assert blocks == again
    assert blocks[0]["id"] != blocks[1]["id"]
    assert blocks[0]["id"] != other[0]["id"]
    assert all(b["id"].startswith("toolu_01") and len(b["id"]) == 30 for b in blocks)
    assert blocks[0]["input"]["new_str"] == "done: bool = False"
    blocks[0]["input"]["new_str"] = "changed"
    assert turn.tool_calls[0].input["new_str"] == "done: bool = False"


def test_text_comes_before_tool_use() -> None:
    blocks = to_content_blocks(parse_scenario(GOOD).turns[0], id_factory())
    assert blocks[0] == {"type": "text", "text": "I'll look at the model first."}
    assert blocks[1]["name"] == "str_replace_based_edit_tool"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("turns:\n  - text: hi\n    txt: oops\n", ":3: turn 1: unknown key 'txt'"),
        ("turns:\n  - text: hi\n  - stop_reason: done\n", ":3: turn 2: 'stop_reason' must be one of"),
        ("turns:\n  - tool_calls:\n      - name: view\n", ":3: turn 1, tool call 1: 'input' is missing"),
        ("turns:\n  - tool_calls:\n      - input: {}\n", ":3: turn 1, tool call 1: 'name' is missing"),
        ("turns:\n  - tool_calls: [{name: x, input: [1]}]\n", ":2: turn 1, tool call 1: 'input' must"),
        ("turns:\n  - tool_calls: [{name: 3, input: {}}]\n", ":2: turn 1, tool call 1: 'name' must"),
        ("turns:\n  - text: 7\n", ":2: turn 1: 'text' must be a non-empty string"),
        ("turns:\n  - text: a\n    stop_reason: tool_use\n", ":3: turn 1: stop_reason 'tool_use' needs"),
        (
            "turns:\n  - tool_calls: [{name: x, input: {}}]\n    stop_reason: end_turn\n",
            ":3: turn 1: stop_reason 'end_turn' cannot come with tool_calls",
        ),
        ("turns:\n  - expect: {tool_results: maybe}\n", ":2: turn 1, expect: 'tool_results' must"),
        ("turns:\n  - expect: {contains: text}\n", ":2: turn 1, expect: 'contains' must be a list"),
        ("turns:\n  - fault: {times: 2}\n", ":2: turn 1, fault: 'status' is missing"),
        ("turns:\n  - fault: {status: 200}\n", ":2: turn 1, fault: status must be 400-599"),
        ("turns:\n  - fault: {kind: slow}\n", ":2: turn 1, fault: kind slow needs a delay"),
        ("turns:\n  - fault: {kind: drop, status: 500}\n", ":2: turn 1, fault: 'status' does not"),
        ("turns:\n  - fault: {status: 529, timez: 2}\n", ":2: turn 1, fault: unknown key 'timez'"),
        ("turns:\n  - usage: {output_tokens: -5}\n", ":2: turn 1, usage: 'output_tokens' must be >= 0"),
        ("turns:\n  - usage: {output_tokens: 1.5}\n", ":2: turn 1, usage: 'output_tokens' must be an"),
        ("turns:\n  - usage: {tokens: 1}\n", ":2: turn 1, usage: unknown key 'tokens'"),
        ("turns:\n  - text: a\n    text: b\n", ":3: turn 1: key 'text' is repeated"),
        ("turns: []\n", ":1: scenario: 'turns' must be a non-empty list"),
        ("model: m\n", ":1: scenario: 'turns' is missing"),
        ("turns:\n  - text: a\nmodels: x\n", ":3: scenario: unknown key 'models'"),
        ("turns:\n  - text: [unclosed\n", ":3: not valid YAML"),
    ],
)
def test_invalid_scenarios_name_file_line_turn_and_key(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(FatalError) as caught:
        load_scenario(path)
    assert caught.value.cause.startswith(str(path) + where), caught.value.cause
    assert caught.value.fix


def test_an_unknown_key_suggests_the_near_one(tmp_path: Path) -> None:
    with pytest.raises(FatalError) as caught:
        load_scenario(write(tmp_path, "turns:\n  - stop_reasn: end_turn\n"))
    assert "Did you mean 'stop_reason'?" in caught.value.fix


def test_an_empty_or_missing_file_is_a_fatal_error(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match="scenario is empty"):
        load_scenario(write(tmp_path, "# nothing\n"))
    with pytest.raises(FatalError, match="Cannot read scenario"):
        load_scenario(tmp_path / "missing.yaml")


def test_programmatic_faults_are_validated() -> None:
    with pytest.raises(ValueError, match="400-599"):
        Fault(status=200)
    with pytest.raises(ValueError, match="delay"):
        Fault(kind="slow")
    with pytest.raises(ValueError, match="times"):
        Fault(times=0)


def _user(*blocks: dict[str, object]) -> list[dict[str, object]]:
    return [
        {"role": "user", "content": "implement specs/002"},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        {"role": "user", "content": list(blocks)},
    ]


OK = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "file text"}
ERR = {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": True}


@pytest.mark.parametrize(
    ("expect", "messages", "problems"),
    [
        (Expect(tool_results="ok"), _user(OK), 0),
        (Expect(tool_results="ok"), _user(OK, ERR), 1),
        (Expect(tool_results="error"), _user(ERR), 0),
        (Expect(tool_results="error"), _user(OK, ERR), 1),
        (Expect(tool_results="any"), _user(OK, ERR), 0),
        (Expect(tool_results="any"), _user({"type": "text", "text": "hi"}), 1),
        (Expect(contains=("boom",)), _user(OK, ERR), 0),
        (Expect(contains=("file text", "absent")), _user(OK), 1),
        (Expect(contains=("implement",)), _user(OK), 1),
        (Expect(contains=("implement",)), [{"role": "user", "content": "implement x"}], 0),
    ],
)
def test_check_expect_reads_the_last_user_message(
    expect: Expect, messages: list[dict[str, object]], problems: int
) -> None:
    assert len(check_expect(expect, messages)) == problems


def test_tool_result_text_blocks_count_for_contains() -> None:
    nested = {**OK, "content": [{"type": "text", "text": "3 passed"}]}
    assert check_expect(Expect(contains=("3 passed",)), _user(nested)) == []


def test_estimate_tokens_is_a_quarter_of_the_characters() -> None:
    assert estimate_tokens("x" * 400) == 100
    assert estimate_tokens("") == 1
    assert estimate_tokens({"a": "b" * 30}) == 10
