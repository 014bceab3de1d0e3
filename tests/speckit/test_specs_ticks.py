"""Ticking tasks changes only checkbox characters; every other byte stays identical."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.speckit.api import parse_tasks, tick_tasks
from tests.conftest import FIXTURES

TASKS_002 = (FIXTURES / "speckit/specs/002-task-due-dates/tasks.md").read_bytes()


def changed_offsets(before: bytes, after: bytes) -> list[int]:
    assert len(before) == len(after)
    return [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]


def test_ticking_two_tasks_of_002_changes_exactly_two_bytes() -> None:
    after = tick_tasks(TASKS_002, ["T001", "T013"])
    offsets = changed_offsets(TASKS_002, after)
    assert len(offsets) == 2
    assert all(TASKS_002[i : i + 1] == b" " and after[i : i + 1] == b"X" for i in offsets)
    done = {t.id for t in parse_tasks(after).done}
    assert done == {"T001", "T013"}
    assert b"- [X] T013 [US2] Build status" in after


def test_crlf_bom_trailing_spaces_and_front_matter_survive() -> None:
    text = (
        b"\xef\xbb\xbf---\r\n\r\ndescription: x\r\n---\r\n"
        b"## Phase 1: Setup \xf0\x9f\x8e\xaf\r\n"
        b"- [ ] T001 first   \r\n"
        b"  * [ ] **T002**: second\t\r\n"
        b"- [x] T003 already done stays lower-case\r\n"
        b"```\r\n- [ ] T004 fenced example\r\n```\r\n"
        b"## Notes\r\n- [ ] T005 not in a phase\r\n"
    )
    after = tick_tasks(text, ["T001", "T002", "T003", "T004", "T005", "T999"])
    assert after == text.replace(b"- [ ] T001", b"- [X] T001").replace(b"* [ ] **T002", b"* [X] **T002")


def test_lone_cr_line_endings_and_invalid_utf8_keep_their_bytes() -> None:
    text = b"## Phase 1: Setup\r- [ ] T001 caf\xe9 \xff\r- [ ] T002 b\r"
    after = tick_tasks(text, ["T002", "T001"])
    assert after == b"## Phase 1: Setup\r- [X] T001 caf\xe9 \xff\r- [X] T002 b\r"


def test_nothing_to_tick_returns_the_same_bytes() -> None:
    assert tick_tasks(TASKS_002, []) == TASKS_002
    assert tick_tasks(b"", ["T001"]) == b""


LINES = st.sampled_from(
    [
        "## Phase 1: Setup",
        "## Phase 3: User Story 1 - X (Priority: P1) 🎯 MVP",
        "## Notes",
        "- [ ] T001 a in src/a.py",
        "- [x] T002 [P] b",
        "* [X] **T003**: [US1] c",
        "  - [ ] T004 [P] [US2] d   ",
        "- [ ] T005",
        "- [P] tasks = different files",
        "```",
        "~~~",
        "---",
        "> - [ ] T006 quoted",
        "    - [ ] T007 indented",
        "<!-- - [ ] T008 -->",
        "",
    ]
)
DOCS = st.tuples(
    st.lists(st.one_of(LINES, st.text(max_size=20)), max_size=25),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
    st.booleans(),
).map(lambda t: (b"\xef\xbb\xbf" if t[2] else b"") + t[1].join(s.encode() for s in t[0]))
IDS = st.lists(st.sampled_from([f"T{i:03}" for i in range(1, 10)]), max_size=9)


@settings(max_examples=200, deadline=None)
@given(DOCS, IDS)
def test_property_untouched_bytes_identical_and_requested_tasks_done(text: bytes, ids: list[str]) -> None:
    after = tick_tasks(text, ids)
    for offset in changed_offsets(text, after):
        assert (text[offset : offset + 1], after[offset : offset + 1]) == (b" ", b"X")
    before_tasks = {t.id: t.done for t in parse_tasks(text).all}
    after_tasks = {t.id: t.done for t in parse_tasks(after).all}
    assert after_tasks.keys() == before_tasks.keys()
    for task_id, done in after_tasks.items():
        assert done == (before_tasks[task_id] or task_id in ids)
