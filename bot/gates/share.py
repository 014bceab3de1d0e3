"""What one run computes once and its gates share: test runs by tree, diffs and parsed modules."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from bot import git, sandbox

T = TypeVar("T")


@dataclass
class Shared:
    """Values computed once per key. The caller's key must name everything the value depends on."""

    values: dict[Hashable, Any] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    active: bool = True  # False: compute every time (a gate called outside a gate run)

    def once(self, key: Hashable, compute: Callable[[], T], keep: Callable[[T], bool] = lambda _: True) -> T:
        """The value for `key`, computed on first use; `keep` says whether a fresh value may be reused."""
        if not self.active:
            return compute()
        if key in self.values:
            self.hits += 1
            return cast("T", self.values[key])
        self.misses += 1
        value = compute()
        if keep(value):
            self.values[key] = value
        return value

    def get(self, key: Hashable) -> Any | None:
        return self.values.get(key)


@dataclass
class RunShare:
    """The run's caches. `tests` lives as long as the run (its keys carry the tree hash); `scope`
    holds what is true for one gate run only (the sandbox cannot write the work tree, so nothing
    changes while the gates run) and is replaced at the start of each."""

    tests: Shared = field(default_factory=Shared)
    scope: Shared = field(default_factory=lambda: Shared(active=False))
    index: git.PrivateIndex | None = None
    # What the run's own test runs saw (the result channel's verdicts, never the model's word):
    # each test that failed in any of them with its first message, the git tree of the last run it
    # failed in (its source then: the tree's blobs stay in the object store), and each content's
    # full run.
    failed: dict[str, str] = field(default_factory=dict)
    failed_trees: dict[str, str] = field(default_factory=dict)
    full_runs: dict[str, dict[str, str]] = field(default_factory=dict)

    def new_scope(self) -> None:
        """A gate run starts: from now until end_scope the work tree holds still."""
        self.scope = Shared()
        if self.index is not None:
            self.index.hold(self.scope)

    def end_scope(self) -> None:
        self.scope = Shared(active=False)
        if self.index is not None:
            self.index.hold(None)

    @contextlib.contextmanager
    def holding_still(self) -> Iterator[None]:
        """A scope for the block (see new_scope); inside one already, that one goes on."""
        if self.scope.active:
            yield
            return
        self.new_scope()
        try:
            yield
        finally:
            self.end_scope()

    def prepare_workspace(self, repo: Path) -> None:
        """sandbox.prepare_workspace_for_sandbox, once per gate run (it walks the whole tree)."""
        self.scope.once(("prepared", str(repo)), lambda: sandbox.prepare_workspace_for_sandbox(repo))

    def private_index(self, repo: Path) -> git.PrivateIndex:
        """The run's one private git index (seeded from the real one), made on first use."""
        if self.index is None or self.index.repo != repo:
            self.index = git.PrivateIndex(repo)
            self.index.hold(self.scope if self.scope.active else None)
        return self.index
