"""Finding feature folders under specs/ and reading one, with the constitution and standards."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot import git
from bot.speckit.contracts import Contract, parse_contract
from bot.speckit.markdown import decode
from bot.speckit.model import (
    Checklist,
    Constitution,
    Document,
    Plan,
    Problem,
    Spec,
    SpecError,
    Standards,
    Tasks,
)
from bot.speckit.plan import parse_plan
from bot.speckit.project import (
    CONSTITUTION_PATH,
    STANDARDS_PATHS,
    parse_checklist,
    parse_constitution,
    standards,
)
from bot.speckit.spec import parse_spec
from bot.speckit.tasks import parse_tasks

SPECS_DIR = "specs"
FEATURE_DIR_RE = re.compile(r"^(\d{3,}|\d{8}-\d{6})-[a-z0-9-]+$")
MAX_FILE_BYTES = 2_000_000
OPTIONAL_DOCS = ("research.md", "data-model.md", "quickstart.md")


@dataclass(frozen=True)
class Feature:
    """One feature folder at one revision (`rev` None: the work tree)."""

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

    @property
    def name(self) -> str:
        return posixpath.relpath(self.path, SPECS_DIR)

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
        return next((f for f in self.features if wanted in (f.name, f.path)), None)


def find_features(repo: Path, rev: str | None = None) -> tuple[str, ...]:
    """Feature folders (repo-relative): `specs/<NNN-slug>` or any folder holding a spec.md (rule 1)."""
    return feature_dirs(git.list_files(repo, rev, SPECS_DIR))


def feature_dirs(files: list[str]) -> tuple[str, ...]:
    dirs: set[str] = set()
    for name in files:
        parts = name.split("/")
        if len(parts) >= 3 and parts[0] == SPECS_DIR and FEATURE_DIR_RE.match(parts[1]):
            dirs.add(f"{SPECS_DIR}/{parts[1]}")
        if parts[-1] == "spec.md" and len(parts) >= 3 and parts[0] == SPECS_DIR:
            dirs.add("/".join(parts[:-1]))
    return tuple(sorted(dirs))


def owner_of(path: str, dirs: tuple[str, ...]) -> str | None:
    """The deepest feature folder holding `path` (a folder nested in another owns its files)."""
    owners = [d for d in dirs if path.startswith(d + "/")]
    return max(owners, key=len) if owners else None


def _read(repo: Path, rev: str | None, path: str) -> tuple[bytes | None, Problem | None]:
    """A file's bytes, refusing work-tree symlinks that leave the repository and huge files."""
    if rev is None:
        target = repo / path
        try:
            inside = target.resolve().is_relative_to(repo.resolve())
        except (OSError, RuntimeError):
            inside = False
        if not inside:
            return None, Problem(
                path, None, "the file points outside the repository", "replace the symlink", "read"
            )
    data = git.show_file(repo, rev, path)
    if data is not None and len(data) > MAX_FILE_BYTES:
        what = f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB and was not read"
        return None, Problem(path, None, what, "split it", "read")
    return data, None


def read_constitution(repo: Path, rev: str | None = None) -> Constitution | None:
    data, _ = _read(repo, rev, CONSTITUTION_PATH)
    return parse_constitution(data, CONSTITUTION_PATH) if data is not None else None


def read_standards(repo: Path, rev: str | None = None) -> Standards | None:
    """The first of backend/CLAUDE.md, CLAUDE.md, AGENTS.md that exists."""
    for path in STANDARDS_PATHS:
        data, _ = _read(repo, rev, path)
        if data is not None:
            return standards(path, data)
    return None


def read_feature(
    repo: Path,
    name: str,
    rev: str | None = None,
    *,
    constitution: Constitution | None = None,
    standards_file: Standards | None = None,
    files: list[str] | None = None,
) -> Feature:
    """Read one feature folder (`002-task-due-dates` or `specs/002-task-due-dates`).

    Raises SpecError when the folder has no files at that revision."""
    path = name.strip("/")
    path = path if path.startswith(SPECS_DIR + "/") else f"{SPECS_DIR}/{path}"
    listed = git.list_files(repo, rev, path) if files is None else files
    dirs = (*feature_dirs(listed), path)
    own = sorted(f for f in listed if owner_of(f, dirs) == path)
    if not own:
        raise SpecError(
            f"There is no feature folder {path} at {rev or 'the work tree'}.",
            "Check the name (ls specs/) or run /speckit.specify to create it.",
        )
    problems: list[Problem] = []
    raw: dict[str, bytes] = {}
    for file in own:
        data, problem = _read(repo, rev, file)
        if problem:
            problems.append(problem)
        if data is not None:
            raw[file[len(path) + 1 :]] = data
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
        files=tuple(own),
        spec=spec,
        plan=plan,
        tasks=tasks,
        contracts=tuple(contracts),
        checklists=tuple(checklists),
        documents=documents,
        constitution=constitution,
        standards=standards_file,
        problems=tuple(problems),
        raw=raw,
    )


def iter_features(
    repo: Path, rev: str | None = None
) -> tuple[Constitution | None, Standards | None, Iterator[Feature]]:
    """The project's shared files, and its features read one at a time (each can be checked while
    its parsed documents are still in the Markdown cache)."""
    constitution = read_constitution(repo, rev)
    standards_file = read_standards(repo, rev)
    files = git.list_files(repo, rev, SPECS_DIR)
    features = (
        read_feature(
            repo,
            path,
            rev,
            constitution=constitution,
            standards_file=standards_file,
            files=[f for f in files if f.startswith(path + "/")],
        )
        for path in feature_dirs(files)
    )
    return constitution, standards_file, features


def read_project(repo: Path, rev: str | None = None) -> Project:
    """Every feature at `rev` (None: the work tree); no features is not an error here."""
    constitution, standards_file, features = iter_features(repo, rev)
    return Project(repo, rev, tuple(features), constitution, standards_file)
