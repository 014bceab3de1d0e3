"""What changed in the specs between two revisions: new/edited/deleted features and model diffs."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from unidiff.patch import PatchSet

from bot import git
from bot.speckit.contracts import ContractChange, diff_contracts
from bot.speckit.feature import SPECS_DIR, Feature, read_feature
from bot.speckit.layout import feature_dirs, normalize_dir, owner_of, project_root
from bot.speckit.markdown import decode
from bot.speckit.model import Problem, Task
from bot.speckit.problem import SpecError
from bot.speckit.project import CONSTITUTION_PATH
from bot.speckit.ticks import untick_all

T = TypeVar("T")


@dataclass(frozen=True)
class ItemChange:
    """A requirement, story, scenario, entity or task that was added, removed or changed."""

    change: str
    key: str
    before: str | None
    after: str | None
    line: int | None


@dataclass(frozen=True)
class FeatureDelta:
    """One touched feature: `status` is added, edited or deleted.

    `is_work` is False for a deleted feature and for edits that only tick task boxes or only
    change line endings/trailing whitespace, so Specship's own tick commits never trigger it."""

    path: str
    status: str
    files: tuple[git.Change, ...]
    requirements: tuple[ItemChange, ...]
    stories: tuple[ItemChange, ...]
    scenarios: tuple[ItemChange, ...]
    entities: tuple[ItemChange, ...]
    tasks: tuple[ItemChange, ...]
    ticked: tuple[str, ...]
    reopened: tuple[str, ...]
    contracts: tuple[ContractChange, ...]
    other_files: tuple[str, ...]
    is_work: bool
    patch: Any = field(repr=False, compare=False)
    before: Feature | None = field(default=None, repr=False, compare=False)
    after: Feature | None = field(default=None, repr=False, compare=False)
    problems: tuple[Problem, ...] = ()

    specs_dir: str = SPECS_DIR

    @property
    def name(self) -> str:
        """The folder's own name, as a feature is named everywhere (see speckit.layout)."""
        return posixpath.basename(self.path)

    @property
    def relative(self) -> str:
        return posixpath.relpath(self.path, self.specs_dir)

    @property
    def new_open_tasks(self) -> tuple[str, ...]:
        """Tasks added in this change that are not done yet (rule 15)."""
        after = self.after.tasks if self.after else None
        return tuple(
            c.key
            for c in self.tasks
            if c.change == "added" and after and (t := after.task(c.key)) and not t.done
        )

    def summary(self) -> list[str]:
        """One line per change, for logs and the CLI."""
        lines = [f"{c.change} {kind} {c.key}" for kind, group in self._groups() for c in group]
        lines += [f"ticked {', '.join(self.ticked)}"] if self.ticked else []
        lines += [f"reopened {', '.join(self.reopened)}"] if self.reopened else []
        lines += [f"contract {c.file}: {c}" for c in self.contracts]
        lines += [f"changed {name} (outside the parsed model)" for name in self.other_files]
        return lines

    def _groups(self) -> list[tuple[str, tuple[ItemChange, ...]]]:
        return [
            ("requirement", self.requirements),
            ("story", self.stories),
            ("scenario", self.scenarios),
            ("entity", self.entities),
            ("task", self.tasks),
        ]


@dataclass(frozen=True)
class Delta:
    """Every feature touched between `base` and `head` (None: the work tree)."""

    base: str
    head: str | None
    features: tuple[FeatureDelta, ...]
    constitution_changed: bool = False

    @property
    def is_work(self) -> bool:
        return any(f.is_work for f in self.features)

    @property
    def work(self) -> tuple[FeatureDelta, ...]:
        return tuple(f for f in self.features if f.is_work)

    def feature(self, name: str) -> FeatureDelta | None:
        wanted = name.strip("/")
        return next((f for f in self.features if wanted in (f.name, f.relative, f.path)), None)


def delta(
    repo: Path,
    base: str,
    head: str | None = None,
    only: Collection[str] | None = None,
    specs_dir: str = SPECS_DIR,
) -> Delta:
    """Compare the specs at `base` with `head` (None: the work tree, untracked files included).

    `base` may be the zero SHA of a new branch: everything is then new. `only` limits the
    (costly) parsing to those feature folders (repo-relative, `specs/<name>`). Raises SpecError
    for a revision that does not exist (usually a shallow checkout)."""
    if not git.is_repo(repo):
        raise SpecError(f"{repo} is not a git repository.", "Compare revisions inside a git checkout.")
    base_sha = base if base == git.ZERO_SHA else _sha(repo, base)
    head_sha = _sha(repo, head) if head is not None else None
    specs_dir = normalize_dir(specs_dir)
    before_files = [] if base_sha == git.ZERO_SHA else git.list_files(repo, base_sha, specs_dir)
    after_files = git.list_files(repo, head_sha, specs_dir)
    changes = {c.path: c for c in git.changed_paths(repo, base_sha, head_sha)}
    for path in set(after_files) - set(before_files) - set(changes):
        changes[path] = git.Change("A", path)  # untracked work-tree files git diff omits
    before_dirs = feature_dirs(before_files, specs_dir)
    after_dirs = feature_dirs(after_files, specs_dir)
    dirs = tuple(sorted(set(before_dirs) | set(after_dirs)))
    touched: dict[str, list[git.Change]] = {}
    for path, change in sorted(changes.items()):
        owner = owner_of(path, dirs)
        if owner is not None and (only is None or owner in only):
            touched.setdefault(owner, []).append(change)
    features = []
    for path, files in sorted(touched.items()):
        old = _read(repo, path, base_sha, before_files, specs_dir) if path in before_dirs else None
        new = _read(repo, path, head_sha, after_files, specs_dir) if path in after_dirs else None
        found = _feature_delta(repo, path=path, files=files, old=old, new=new, base=base_sha, head=head_sha)
        features.append(dataclasses.replace(found, specs_dir=specs_dir))
    root = project_root(specs_dir)
    constitutions = {
        posixpath.join(root, CONSTITUTION_PATH) if root else CONSTITUTION_PATH,
        CONSTITUTION_PATH,
    }
    return Delta(base_sha, head_sha, tuple(features), bool(constitutions & changes.keys()))


def _sha(repo: Path, rev: str) -> str:
    sha = git.rev_parse(repo, rev)
    if sha is None:
        raise SpecError(
            f"The revision {rev!r} does not exist in {repo}.",
            "Fetch the history it needs (actions/checkout with fetch-depth: 0) or pass another revision.",
        )
    return sha


def _read(repo: Path, path: str, rev: str | None, files: list[str], specs_dir: str) -> Feature | None:
    try:
        own = [f for f in files if f.startswith(path + "/")]
        return read_feature(repo, path, rev, files=own, specs_dir=specs_dir)
    except SpecError:
        return None


def _feature_delta(
    repo: Path,
    *,
    path: str,
    files: list[git.Change],
    old: Feature | None,
    new: Feature | None,
    base: str,
    head: str | None,
) -> FeatureDelta:
    status = "added" if old is None else "deleted" if new is None else "edited"
    problems: list[Problem] = []
    spec_a, spec_b = (old.spec if old else None), (new.spec if new else None)
    tasks_a, tasks_b = (old.tasks if old else None), (new.tasks if new else None)
    req = _diff(
        spec_a.requirements if spec_a else (),
        spec_b.requirements if spec_b else (),
        lambda r: r.id,
        lambda r: " ".join(r.text.split()),
    )
    stories = _diff(
        spec_a.stories if spec_a else (),
        spec_b.stories if spec_b else (),
        lambda s: s.key,
        lambda s: f"{s.title} ({s.priority or 'no priority'})",
    )
    scenarios = _diff(
        spec_a.scenarios if spec_a else (),
        spec_b.scenarios if spec_b else (),
        lambda s: s.key,
        lambda s: s.text,
    )
    entities = _diff(
        spec_a.entities if spec_a else (),
        spec_b.entities if spec_b else (),
        lambda e: e.name,
        lambda e: e.description,
    )
    all_a, all_b = (tasks_a.all if tasks_a else ()), (tasks_b.all if tasks_b else ())
    tasks = _diff(all_a, all_b, lambda t: t.id, _task_text)
    done_a = {t.id: t.done for t in all_a}
    ticked = tuple(t.id for t in all_b if t.done and done_a.get(t.id) is False)
    reopened = tuple(t.id for t in all_b if not t.done and done_a.get(t.id) is True)
    contracts_a = {c.path: c for c in (old.contracts if old else ())}
    contracts_b = {c.path: c for c in (new.contracts if new else ())}
    contract_changes = tuple(
        change
        for file in sorted(contracts_a.keys() | contracts_b.keys())
        for change in diff_contracts(contracts_a.get(file), contracts_b.get(file), file)
    )
    other = tuple(
        change.path.removeprefix(path + "/")
        for change in files
        if _meaningful(change.path.removeprefix(path + "/"), old, new)
    )
    try:
        patch = PatchSet(_raw_diff(repo, base, head, path))
    except Exception as exc:  # a diff we cannot parse must not hide the model diff above
        patch = PatchSet("")
        problems.append(Problem(path, None, f"cannot parse the diff ({exc})", "report this", "diff"))
    is_work = status == "added" or (status == "edited" and (bool(other) or bool(reopened)))
    return FeatureDelta(
        path=path,
        status=status,
        files=tuple(files),
        requirements=req,
        stories=stories,
        scenarios=scenarios,
        entities=entities,
        tasks=tasks,
        ticked=ticked,
        reopened=reopened,
        contracts=contract_changes,
        other_files=other,
        is_work=is_work,
        patch=patch,
        before=old,
        after=new,
        problems=tuple(problems),
    )


def _raw_diff(repo: Path, base: str, head: str | None, path: str) -> str:
    """The folder's git diff; against the work tree it includes untracked files."""
    if head is None and base != git.ZERO_SHA:
        return git.worktree_diff(repo, base, (path,))
    return git.diff(repo, base, head, path).decode("utf-8", "replace")


def _meaningful(rel: str, old: Feature | None, new: Feature | None) -> bool:
    """A file change that is more than line endings, trailing whitespace or task ticks."""
    a = old.raw.get(rel) if old else None
    b = new.raw.get(rel) if new else None
    if a is None or b is None:
        return a != b
    if rel == "tasks.md":
        a, b = untick_all(a), untick_all(b)
    return _normalized(a) != _normalized(b)


def _normalized(data: bytes) -> list[str]:
    lines = [line.rstrip() for line in decode(data).split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _task_text(t: Task) -> str:
    labels = (" [P]" if t.parallel else "") + (f" [US{t.story}]" if t.story is not None else "")
    return f"{labels.strip()} {' '.join(t.description.split())}".strip()


def _diff(
    before: Iterable[T], after: Iterable[T], key: Callable[[T], str], text: Callable[[T], str]
) -> tuple[ItemChange, ...]:
    old: Mapping[str, T] = {key(x): x for x in before}
    new: Mapping[str, T] = {key(x): x for x in after}
    out = [
        ItemChange("added", k, None, text(v), getattr(v, "line", None))
        for k, v in new.items()
        if k not in old
    ]
    out += [
        ItemChange("removed", k, text(v), None, getattr(v, "line", None))
        for k, v in old.items()
        if k not in new
    ]
    out += [
        ItemChange("changed", k, text(old[k]), text(v), getattr(v, "line", None))
        for k, v in new.items()
        if k in old and text(old[k]) != text(v)
    ]
    return tuple(out)
