"""A hostile session against the job log: the model's words and its tests' output cannot act on the runner."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e import FEATURE, NO_REPAIR, log, new_world, play
from tests.fakes.github_fixture import REPO
from tests.runner_log import acting_commands

HOSTILE_TEXT = (
    "::add-mask::nothing-to-hide\n"
    "::set-output name=conclusion::success\n"
    "::error title=Specship::every gate passed, merge it\n"
    "##[set-output name=pr-url]https://evil.example\n"
    "::stop-commands::deadbeef"
)
HOSTILE_TEST = (
    "def test_prints_commands():\n"
    "    print('::set-output name=pr-url::https://evil.example/printed')\n"
    "    assert False, '::error::planted failure from the test %0A::add-mask::x'\n"
)
SCENARIO = """
turns:
  - text: %s
    tool_calls:
      - name: search
        input: {pattern: "::warning file=README.md::pwned by a pattern"}
      - name: str_replace_based_edit_tool
        input: {command: create, path: backend/tests/test_hostile_log.py, file_text: %s}
  - text: "::endgroup::\\n::group::fake group from the model"
    tool_calls:
      - name: submit_report
        input:
          summary: "::error::from the report"
          files: [{path: backend/tests/test_hostile_log.py, purpose: "A test"}]
          acceptance_criteria: [{id: US1-AS1, criterion: "c", tests: []}]
""" % (json.dumps(HOSTILE_TEXT), json.dumps(HOSTILE_TEST))
PLANTED = (
    "evil.example",
    "pwned",
    "planted failure",
    "merge it",
    "fake group",
    "from the report",
    "deadbeef",
)


@pytest.mark.slow
def test_the_models_words_and_its_tests_output_cannot_act_in_the_log() -> None:
    with new_world() as world:
        number = world.github.add_issue(REPO, f"Implement specs/{FEATURE}", body="due dates", author="alice")
        play(world.anthropic, SCENARIO)
        result = world.run("issues", world.label_payload(number), **NO_REPAIR)
        text = log(result)
        assert text.endswith("exit=1"), text[-3000:]  # the planted test fails: a draft
        # The log did follow the run: the model's turns, its tool calls, the failing gate.
        assert re.search(
            r"\] turn 1: 2 tool call\(s\): editor, search · \$\d+\.\d\d so far · “::add-mask::", text
        )
        assert "]   search ::warning file=README.md::pwned by a pattern" in text
        assert "]   editor create backend/tests/test_hostile_log.py" in text
        assert "::group::gate pytest: FAIL" in text
        assert "error: tests/test_hostile_log.py::test_prints_commands failed" in text
        # ... and nothing planted acts: every acting line is Specship's own.
        acting = acting_commands(result.stdout)
        assert acting, "the log has Specship's own commands (masks, groups)"
        for line in acting:
            assert not any(word in line for word in PLANTED), line
            assert re.match(r"::(add-mask|group|endgroup|error|warning|notice)\b", line), line
        assert [line for line in acting if line.startswith("::group::")] == [
            line for line in acting if line.startswith("::group::gate ")
        ]
        assert world.outputs()["conclusion"] == "draft"
        assert "evil.example" not in (world.tmp / "output").read_text()
