"""Reading feature folders (found by speckit.layout), with the project's constitution and standards."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot import git
from bot.speckit.contracts import Contract, parse_contract
from bot.speckit.layout import (
    FEATURE_DIR_RE,
    SPECS_DIR,
    Catalog,
    FeatureRef,
    catalog,
    feature_dirs,
    group_by_feature,
    naming_problems,
    normalize_dir,
    owner_of,
)
from bot.speckit.markdown import decode
from bot.speckit.model import (
    Checklist,
    Constitution,
    Document,
    Plan,
    Problem,
    Spec,
    Standards,
    Tasks,
)
from bot.speckit.plan import parse_plan
from bot.speckit.problem import SpecError
from bot.speckit.project import parse_checklist
from bot.speckit.sources import read_bytes, read_constitution, read_standards
from bot.speckit.spec import parse_spec
from bot.speckit.tasks import parse_tasks

__all__ = [
    "FEATURE_DIR_RE",
    "SPECS_DIR",
    "Feature",
    "Project",
    "feature_dirs",
    "owner_of",
]

OPTIONAL_DOCS = ("research.md", "data-model.md", "quickstart.md")


@dataclass(frozen=True)
class Feature:
    """One feature folder at one revision (`rev` None: the work tree).

    `name` is the folder's own name (its branch is `<branch-prefix><name>`); `path` says where
    it lives, `relative` where below the specs directory. `layout` holds what keeps it from
    being implemented whatever its documents say (a name that cannot be a branch, a twin);
    `redacted`, the credentials speckit.secrets.scrub removed from this copy's documents."""

    path: str
    rev: str | None
    files: tuple[str, ...]
    spec: Spec | None
    plan: Plan | None
    tasks: Tasks | None
    contracts: tuple[Contract, ...] = ()
    checklists: tuple[Checklist, ...] = ()
    documents: tuple[Document, ...] = ()
    constitution: Constitution | None = None
    standards: Standards | None = None
    problems: tuple[Problem, ...] = ()
    raw: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    specs_dir: str = SPECS_DIR
    layout: tuple[Problem, ...] = ()
    redacted: tuple[Problem, ...] = ()  # credentials scrub() replaced in these documents

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def relative(self) -> str:
        return posixpath.relpath(self.path, self.specs_dir)

    def file(self, name: str) -> str:
        """The repo-relative path of a file of this feature."""
        return f"{self.path}/{name}"

    def ids(self) -> frozenset[tuple[str, str]]:
        """Every FR/SC/US/T/CHK id keyed by this feature's folder: ids restart per feature (rule 2)."""
        found: set[str] = set()
        if self.spec:
            found.update(r.id for r in self.spec.requirements)
            found.update(s.key for s in self.spec.stories if s.number is not None)
        if self.tasks:
            found.update(t.id for t in self.tasks.all)
        for checklist in self.checklists:
            found.update(i.id for i in checklist.items if i.id)
        return frozenset((self.path, i) for i in found)


@dataclass(frozen=True)
class Project:
    """Every feature of a repository at one revision, plus the shared constitution and standards."""

    root: Path
    rev: str | None
    features: tuple[Feature, ...]
    constitution: Constitution | None
    standards: Standards | None

    def feature(self, name: str) -> Feature | None:
        wanted = name.strip("/")
        return next((f for f in self.features if wanted in (f.name, f.relative, f.path)), None)


def find_features(repo: Path, rev: str | None = None, specs_dir: str = SPECS_DIR) -> tuple[str, ...]:
    """Feature folders (repo-relative) under the specs directory (rule 1; see speckit.layout)."""
    return tuple(ref.path for ref in catalog(repo, rev, specs_dir).features)


def read_feature(
    repo: Path,
    name: str,
    rev: str | None = None,
    *,
    constitution: Constitution | None = None,
    standards_file: Standards | None = None,
    files: list[str] | None = None,
    specs_dir: str = SPECS_DIR,
    layout: tuple[Problem, ...] | None = None,
) -> Feature:
    """Read one feature folder (`002-task-due-dates` or `specs/002-task-due-dates`) as it is named;
    `load_feature` finds one by any of its names.

    Raises SpecError when the folder has no files at that revision."""
    base = normalize_dir(specs_dir)
    path = name.strip("/")
    path = path if path.startswith(base + "/") else f"{base}/{path}"
    listed = git.list_files(repo, rev, path) if files is None else files
    dirs = (*feature_dirs(listed, base), path)
    own = sorted(f for f in listed if owner_of(f, dirs) == path)
    if not own:
        raise SpecError(
            f"There is no feature folder {path} at {rev or 'the work tree'}.",
            f"Check the name (ls {base}/) or run /speckit.specify to create it.",
        )
    problems: list[Problem] = []
    raw: dict[str, bytes] = {}
    blobs = git.show_files(repo, rev, own) if rev is not None else None  # one cat-file per folder
    resolved: dict[str, str] = {}
    for file in own:
        data, problem = read_bytes(repo, rev, file, blobs, resolved=resolved)
        if problem:
            problems.append(problem)
        if data is not None:
            raw[file[len(path) + 1 :]] = data
    found = parse_folder(path, rev, raw, constitution=constitution, standards_file=standards_file)
    return dataclasses.replace(
        found,
        files=tuple(own),
        problems=(*problems, *found.problems),
        specs_dir=base,
        layout=tuple(naming_problems(FeatureRef(path, base))) if layout is None else layout,
    )


def parse_folder(
    path: str,
    rev: str | None,
    raw: dict[str, bytes],
    *,
    constitution: Constitution | None = None,
    standards_file: Standards | None = None,
) -> Feature:
    """A Feature from the bytes of its files (keyed by their path inside the folder)."""
    spec = parse_spec(raw["spec.md"], f"{path}/spec.md") if "spec.md" in raw else None
    plan = parse_plan(raw["plan.md"], f"{path}/plan.md") if "plan.md" in raw else None
    tasks = parse_tasks(raw["tasks.md"], f"{path}/tasks.md") if "tasks.md" in raw else None
    contracts = []
    checklists = []
    for rel, data in sorted(raw.items()):
        if rel.startswith("contracts/"):
            contract = parse_contract(data, f"{path}/{rel}")
            if contract is not None:
                contracts.append(contract)
        elif rel.startswith("checklists/") and rel.count("/") == 1 and rel.endswith(".md"):
            checklists.append(parse_checklist(data, f"{path}/{rel}"))
    documents = tuple(Document(f"{path}/{rel}", decode(raw[rel])) for rel in OPTIONAL_DOCS if rel in raw)
    return Feature(
        path=path,
        rev=rev,
        files=tuple(f"{path}/{rel}" for rel in sorted(raw)),
        spec=spec,
        plan=plan,
        tasks=tasks,
        contracts=tuple(contracts),
        checklists=tuple(checklists),
        documents=documents,
        constitution=constitution,
        standards=standards_file,
        raw=raw,
    )


@dataclass(frozen=True)
class FeatureJob:
    """One feature of a listing, with what read_feature needs to read it (picklable: a worker
    process can take it)."""

    repo: Path
    rev: str | None
    path: str
    files: list[str]
    specs_dir: str
    layout: tuple[Problem, ...]
    constitution: Constitution | None
    standards: Standards | None

    def read(self) -> Feature:
        return read_feature(
            self.repo,
            self.path,
            self.rev,
            constitution=self.constitution,
            standards_file=self.standards,
            files=self.files,
            specs_dir=self.specs_dir,
            layout=self.layout,
        )


def feature_jobs(
    repo: Path, rev: str | None = None, specs_dir: str = SPECS_DIR, branch_prefix: str = "specship/"
) -> tuple[Constitution | None, Standards | None, list[FeatureJob]]:
    """The project's shared files, and one job per feature, each read when it runs."""
    base = normalize_dir(specs_dir)
    constitution = read_constitution(repo, rev, base)
    standards_file = read_standards(repo, rev, base)
    files = git.list_files(repo, rev, base)
    found = Catalog.of(files, base)
    # One pass groups the listing by feature folder (a nested folder's files go to the deepest
    # folder, as read_feature's own filter would give them), instead of a scan per feature.
    grouped = group_by_feature(files, (ref.path for ref in found.features))
    jobs = [
        FeatureJob(
            repo,
            rev,
            ref.path,
            grouped[ref.path],
            base,
            tuple(found.problems(ref, branch_prefix)),
            constitution,
            standards_file,
        )
        for ref in found.features
    ]
    return constitution, standards_file, jobs


def iter_features(
    repo: Path, rev: str | None = None, specs_dir: str = SPECS_DIR, branch_prefix: str = "specship/"
) -> tuple[Constitution | None, Standards | None, Iterator[Feature]]:
    """The project's shared files, and its features read one at a time (each can be checked while
    its parsed documents are still in the Markdown cache)."""
    constitution, standards_file, jobs = feature_jobs(repo, rev, specs_dir, branch_prefix)
    return constitution, standards_file, (job.read() for job in jobs)


def read_project(repo: Path, rev: str | None = None, specs_dir: str = SPECS_DIR) -> Project:
    """Every feature at `rev` (None: the work tree); no features is not an error here."""
    constitution, standards_file, features = iter_features(repo, rev, specs_dir)
    return Project(repo, rev, tuple(features), constitution, standards_file)


def load_feature(
    repo: Path,
    wanted: str,
    rev: str | None = None,
    *,
    specs_dir: str = SPECS_DIR,
    branch_prefix: str = "specship/",
) -> Feature:
    """The feature a user or an event named, by any of its names, with the project's shared files.

    Unknown names are refused with the list of known features; see Catalog.locate."""
    found = catalog(repo, rev, specs_dir)
    ref = found.locate(wanted, branch_prefix)
    return read_feature(
        repo,
        ref.path,
        rev,
        constitution=read_constitution(repo, rev, found.specs_dir),
        standards_file=read_standards(repo, rev, found.specs_dir),
        specs_dir=found.specs_dir,
        layout=tuple(found.problems(ref, branch_prefix)),
    )
