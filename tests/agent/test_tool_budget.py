"""Every tool call runs under the run's remaining time: a catastrophic regex cannot stall it (finding 4)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from bot.agent.tools import NO_TIME_LEFT, Toolbox, ToolResult
from bot.sandbox.paths import Workspace

# The payload: with Python's `re`, `^(a+)+$` on a 29-character line took 9 to 30 s, doubling
# with every further character; `(a|aa)+` grows like the Fibonacci numbers.
NESTED = ("^(a+)+$", "a" * 31 + "!")
ALTERNATION = ("^(a|aa)+$", "a" * 44 + "!")


def toolbox(repo: Path, time_left: Callable[[], float | None], ran: list[str] | None = None) -> Toolbox:
    calls = [] if ran is None else ran

    def tests(ids: object) -> ToolResult:
        calls.append("run_tests")
        return ToolResult("1 passed")

    def checks() -> ToolResult:
        calls.append("run_checks")
        return ToolResult("passed")

    return Toolbox(Workspace(repo), tests, checks, time_left=time_left)


def search_within(tools: Toolbox, pattern: str, seconds: float) -> ToolResult:
    """Run the search in a thread and give it `seconds` of wall time (a hang fails the test)."""
    box: list[ToolResult] = []
    worker = threading.Thread(target=lambda: box.append(tools.execute("search", {"pattern": pattern})))
    worker.daemon = True
    worker.start()
    worker.join(seconds)
    assert box, f"search {pattern!r} was still running after {seconds} s"
    return box[0]


def test_the_reported_pattern_returns_promptly(git_repo: Callable[..., Path]) -> None:
    pattern, line = NESTED
    repo = git_repo({"data.txt": f"{line}\n", "app.py": "x = 1\n"})
    tools = Toolbox(Workspace(repo), lambda ids: ToolResult(""), lambda: ToolResult(""))
    result = search_within(tools, pattern, 15)  # Python's re needs minutes for this line
    # Either the engine avoids the blow-up, or the search budget stops it and says why.
    assert result.content == "No matches." or "backtracks too much" in result.content


def test_a_catastrophic_pattern_is_stopped_at_the_time_left(git_repo: Callable[..., Path]) -> None:
    pattern, line = ALTERNATION
    repo = git_repo({"data.txt": f"{line}\n", "app.py": "x = 1\n"})
    result = search_within(toolbox(repo, lambda: 1.0), pattern, 15)
    assert result.is_error
    assert "stopped after 1.0 s" in result.content
    assert "backtracks too much" in result.content


def test_the_timeout_message_reports_the_matches_so_far(git_repo: Callable[..., Path]) -> None:
    pattern, line = ALTERNATION
    repo = git_repo({"a.txt": "aa\n", "b.txt": f"{line}\n"})
    result = search_within(toolbox(repo, lambda: 0.5), pattern, 15)
    assert result.is_error
    assert "(1 matches so far)" in result.content


def test_without_time_left_no_search_or_run_happens_but_editing_still_does(
    git_repo: Callable[..., Path],
) -> None:
    repo = git_repo({"app.py": "x = 1\n"})
    ran: list[str] = []
    tools = toolbox(repo, lambda: 0.0, ran)
    for name, args in (("search", {"pattern": "x"}), ("run_tests", {}), ("run_checks", {})):
        result = tools.execute(name, args)
        assert result.is_error
        assert result.content == NO_TIME_LEFT
    assert ran == []
    view = tools.execute("str_replace_based_edit_tool", {"command": "view", "path": "app.py"})
    assert "x = 1" in view.content


def test_ordinary_patterns_still_find_their_lines(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({"app.py": "def main():\n    return 1\n"})
    result = toolbox(repo, lambda: None).execute("search", {"pattern": r"def \w+\("})
    assert result.content == "app.py:1: def main():"
    bad = toolbox(repo, lambda: None).execute("search", {"pattern": "(unclosed"})
    assert bad.is_error
    assert "invalid regular expression" in bad.content
