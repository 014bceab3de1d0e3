"""One gate run shares its diff, base blobs and prepared workspace; outside a gate run nothing is stale."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

from bot import git
from bot.gates import GateContext, security
from bot.gates.app_source import parse_module, shared_parses
from bot.gates.diffs import base_source, load_diff, shared_diff, shared_diff_text
from bot.gates.run import run_all
from bot.settings import Settings
from tests.conftest import run_git

SECRET = 'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"\n'


def test_a_gate_run_computes_the_diff_once_and_shares_it(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({"app.py": "x = 1\n", "tests/test_a.py": "def test_a():\n    assert True\n"})
    (repo / "app.py").write_text("x = 2\n")
    (repo / "new.py").write_text("y = 1\n")
    ctx = GateContext(repo, "HEAD", Settings())
    ctx.share.new_scope()
    first = shared_diff(ctx)
    assert [(f.path, f.status) for f in first] == [(f.path, f.status) for f in load_diff(repo, "HEAD")]
    assert [f.path for f in first] == ["app.py", "new.py"]
    assert shared_diff(ctx) == first
    assert shared_diff_text(ctx) == git.worktree_diff(repo, "HEAD")
    misses = ctx.share.scope.misses
    shared_diff(ctx)
    shared_diff_text(ctx)
    assert ctx.share.scope.misses == misses  # nothing computed again
    # every changed file's base blob comes from one batch; a file new since the base has none
    assert base_source(ctx, first, "HEAD", "app.py") == b"x = 1\n"
    assert base_source(ctx, first, "HEAD", "new.py") is None
    ctx.share.end_scope()


def reachable_repo(parent: Path) -> Path:
    repo = parent / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("x = 1\n")
    run_git(repo, "init", "-q")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "base")
    return repo


def test_outside_a_gate_run_each_call_sees_the_work_tree_as_it_is(reachable_dir: Path) -> None:
    repo = reachable_repo(reachable_dir)
    ctx = GateContext(repo, "HEAD", Settings())
    assert security.gate(ctx).findings == ()
    (repo / "app.py").write_text(SECRET)
    assert any(
        "secret" in f.message.lower() or "key" in f.message.lower() for f in security.gate(ctx).findings
    )


def test_consecutive_gate_runs_on_one_context_see_each_change(reachable_dir: Path) -> None:
    repo = reachable_repo(reachable_dir)
    ctx = GateContext(repo, "HEAD", Settings())
    assert run_all(ctx, only=("security",))[0].findings == ()
    (repo / "app.py").write_text(SECRET)
    assert run_all(ctx, only=("security",))[0].findings != ()
    (repo / "app.py").write_text("x = 1\n")
    assert run_all(ctx, only=("security",))[0].findings == ()


def test_the_private_index_is_seeded_from_the_real_one_and_follows_the_work_tree(
    git_repo: Callable[..., Path],
) -> None:
    repo = git_repo({"a.py": "a\n", "b/c.py": "c\n", ".gitignore": "*.log\n"})
    index = git.PrivateIndex(repo)
    assert index.seeded
    assert git.worktree_tree(repo, "HEAD", index) == git.worktree_tree(repo, "HEAD")
    (repo / "a.py").write_text("changed\n")
    (repo / "b/c.py").unlink()
    (repo / "d.py").write_text("new\n")
    (repo / "noise.log").write_text("ignored\n")
    assert git.worktree_tree(repo, "HEAD", index) == git.worktree_tree(repo, "HEAD")
    assert git.worktree_diff(repo, "HEAD", index=index) == git.worktree_diff(repo, "HEAD")
    changes = sorted((c.status, c.path) for c in git.worktree_changes(repo, "HEAD", index))
    assert changes == [("A", "d.py"), ("D", "b/c.py"), ("M", "a.py")]
    # the real index is only read
    assert git.run(repo, "diff", "--cached", "--name-only").decode() == ""
    path = index.path
    index.close()
    assert not path.exists()


def test_while_the_work_tree_holds_still_one_refresh_and_one_tree_serve_every_caller(
    git_repo: Callable[..., Path],
) -> None:
    repo = git_repo({"a.py": "a\n"})
    index = git.PrivateIndex(repo)
    token = object()
    index.hold(token)
    (repo / "a.py").write_text("first\n")
    held = git.worktree_tree(repo, "HEAD", index)
    assert held == git.worktree_tree(repo, "HEAD")
    # a change while held (which the caller promised would not happen) is not seen: the held
    # refresh and tree are answered again, proving git was not asked again
    (repo / "a.py").write_text("second\n")
    assert git.worktree_tree(repo, "HEAD", index) == held
    assert "+first" in git.worktree_diff(repo, "HEAD", index=index)
    # released, or held under a new token, the work tree is read again
    index.hold(None)
    assert git.worktree_tree(repo, "HEAD", index) == git.worktree_tree(repo, "HEAD") != held
    index.hold(object())
    (repo / "a.py").write_text("third\n")
    assert git.worktree_tree(repo, "HEAD", index) == git.worktree_tree(repo, "HEAD")
    assert "+third" in git.worktree_diff(repo, "HEAD", index=index)
    index.close()


def test_the_run_share_holds_its_index_for_exactly_one_scope(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({"a.py": "a\n"})
    ctx = GateContext(repo, "HEAD", Settings())

    def tree() -> str:
        return git.worktree_tree(repo, "HEAD", ctx.share.private_index(repo))

    with ctx.share.holding_still():
        inside = tree()  # the index is made inside the scope: held from the start
        (repo / "a.py").write_text("b\n")
        with ctx.share.holding_still():  # nested: the same scope goes on
            assert tree() == inside
    assert not ctx.share.scope.active
    after = tree()  # the scope ended: read again
    assert after != inside
    assert after == git.worktree_tree(repo, "HEAD")
    ctx.share.new_scope()
    (repo / "a.py").write_text("c\n")
    assert tree() == git.worktree_tree(repo, "HEAD") != after  # a new scope: held afresh
    ctx.share.end_scope()


def test_within_a_gate_run_each_module_is_parsed_once(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("x = 1\n")
    outside = parse_module(module, tmp_path), parse_module(module, tmp_path)
    assert outside[0] is not outside[1]
    with shared_parses():
        first = parse_module(module, tmp_path)
        assert first is not None
        assert parse_module(module, tmp_path) is first
        # a path outside the root is still refused, cache or not
        assert parse_module(tmp_path.parent / "elsewhere.py", tmp_path) is None
    module.write_text("x = 2\n")
    again = parse_module(module, tmp_path)
    assert again is not None
    assert isinstance(again.body[0], ast.Assign)
    assert ast.literal_eval(again.body[0].value) == 2
