"""Which folders are features: the one definition `specs`, `plan`, `check`, `run` and `local` share."""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.git.read import list_files
from bot.speckit.problem import Problem, SpecError

SPECS_DIR = "specs"
# Spec Kit's own folder names: a sequential (001) or timestamp (20260102-093000) prefix.
FEATURE_DIR_RE = re.compile(r"^(\d{3,}|\d{8}-\d{6})-[a-z0-9-]+$")
# A feature's folder name becomes its branch, `<branch-prefix><name>`: git-safe and unambiguous.
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
NAME_RE = re.compile(NAME_PATTERN)
# A folder that groups features (`specs/Phase-2/001-x`): any plain name, never part of a branch.
GROUP_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
SPEC_FILE = "spec.md"
MAX_LISTED = 20

NAME_FIX = (
    "Rename the folder to lowercase letters, digits and '-' (Spec Kit's own names look like "
    "001-user-tasks): it becomes the branch name."
)
DUPLICATE_FIX = (
    "Rename one of the folders: every feature needs its own folder name, because it becomes "
    "the branch name ({branch})."
)


@dataclass(frozen=True)
class FeatureRef:
    """Where one feature lives: `path` from the repository root, `name` its folder (unique)."""

    path: str
    specs_dir: str = SPECS_DIR

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def relative(self) -> str:
        """The folder below the specs directory: `002-x`, or `Phase-2/001-x` when nested."""
        return posixpath.relpath(self.path, self.specs_dir)


def normalize_dir(specs_dir: str) -> str:
    """`./backend/specs/` -> `backend/specs` (the setting's pattern already refused `..`)."""
    return posixpath.normpath(specs_dir.strip().strip("/") or SPECS_DIR).removeprefix("./")


def project_root(specs_dir: str) -> str:
    """The Spec Kit project folder holding `.specify/` (the specs directory's parent; '' = root)."""
    parent = posixpath.dirname(normalize_dir(specs_dir))
    return "" if parent in ("", ".") else parent


def owner(path: str, specs_dir: str, has_spec: Callable[[str], bool]) -> str | None:
    """The feature folder that owns a file below the specs directory, or None (rule 1).

    A folder holding spec.md is a feature at any depth (the deepest one owns the file); a folder
    named like Spec Kit's (`001-x`) is one too unless it sits inside another feature (such as
    `contracts/002-v2/`). Folders in between only group features."""
    base = normalize_dir(specs_dir)
    if not path.startswith(base + "/"):
        return None
    parts = path[len(base) + 1 :].split("/")
    found: list[str] = []
    for depth in range(1, len(parts)):  # folders only: the last part is the file itself
        folder = posixpath.join(base, *parts[:depth])
        # the name first: a Spec Kit-named folder needs no look at the tree
        if (not found and FEATURE_DIR_RE.match(parts[depth - 1])) or has_spec(folder):
            found.append(folder)
    return found[-1] if found else None


def feature_dirs(files: Iterable[str], specs_dir: str = SPECS_DIR) -> tuple[str, ...]:
    """Every feature folder among a listing of files (repo-relative paths), sorted."""
    listed = list(files)
    with_spec = {posixpath.dirname(f) for f in listed if posixpath.basename(f) == SPEC_FILE}
    owners = {owner(f, specs_dir, with_spec.__contains__) for f in listed}
    return tuple(sorted(o for o in owners if o is not None))


def group_by_feature(files: Iterable[str], dirs: Iterable[str]) -> dict[str, list[str]]:
    """Each folder of `dirs` with the files it owns (the deepest of `dirs` above each file), in one
    pass over the listing: each file walks up its own parents instead of every folder scanning
    every file."""
    wanted = set(dirs)
    grouped: dict[str, list[str]] = {d: [] for d in wanted}
    for path in files:
        parent = posixpath.dirname(path)
        while parent and parent not in wanted:
            parent = posixpath.dirname(parent)
        if parent:
            grouped[parent].append(path)
    return grouped


def owner_of(path: str, dirs: Iterable[str]) -> str | None:
    """The deepest of `dirs` holding `path` (a folder nested in another owns its files)."""
    owners = [d for d in dirs if path.startswith(d + "/")]
    return max(owners, key=len) if owners else None


def unsafe_part(path: str) -> str | None:
    """Why a path cannot be used as given (empty, `.`/`..` or unprintable parts), or None."""
    for part in path.split("/"):
        if part in ("", ".", "..") or not part.isprintable():
            return f"path {path[:80]!r} is not a plain relative path"
    return None


def naming_problems(ref: FeatureRef) -> list[Problem]:
    """A folder name that cannot be a branch, or a grouping folder with an unsafe name."""
    problems = []
    if not NAME_RE.fullmatch(ref.name):
        what = f"the folder name {ref.name[:64]!r} cannot name a branch (it must match {NAME_PATTERN})"
        problems.append(Problem(ref.path, None, what, NAME_FIX, "folder-name"))
    for group in ref.relative.split("/")[:-1]:
        if not GROUP_RE.fullmatch(group):
            what = f"the grouping folder {group[:64]!r} must match {GROUP_RE.pattern}"
            problems.append(Problem(ref.path, None, what, "Rename the folder.", "folder-name"))
    return problems


@dataclass(frozen=True)
class Catalog:
    """Every feature of a repository at one revision, and the one way to find one by name."""

    specs_dir: str
    features: tuple[FeatureRef, ...]
    where: str = "the work tree"

    @classmethod
    def of(cls, files: Iterable[str], specs_dir: str = SPECS_DIR, where: str = "the work tree") -> Catalog:
        base = normalize_dir(specs_dir)
        return cls(base, tuple(FeatureRef(d, base) for d in feature_dirs(files, base)), where)

    def sharing_name(self, ref: FeatureRef) -> tuple[FeatureRef, ...]:
        """Every feature whose folder has this one's name (itself too, when it is listed)."""
        return self._by_name.get(ref.name, ())

    @functools.cached_property
    def _by_name(self) -> dict[str, tuple[FeatureRef, ...]]:
        """The features by folder name, built once: `problems` asks for each feature in turn, and a
        scan of every feature each time made a listing of 2,000 features cost 8 million lookups."""
        grouped: dict[str, list[FeatureRef]] = {}
        for feature in self.features:
            grouped.setdefault(feature.name, []).append(feature)
        return {name: tuple(refs) for name, refs in grouped.items()}

    def problems(self, ref: FeatureRef, branch_prefix: str = "specship/") -> list[Problem]:
        """What keeps this feature from being implemented whatever its documents say."""
        problems = naming_problems(ref)
        twins = self.sharing_name(ref)
        if len(twins) > 1:
            others = ", ".join(t.path for t in twins if t != ref)
            what = f"another feature has the same folder name {ref.name!r}: {others}"
            fix = DUPLICATE_FIX.format(branch=branch_prefix + ref.name)
            problems.append(Problem(ref.path, None, what, fix, "duplicate-name"))
        return problems

    def locate(self, wanted: str, branch_prefix: str = "specship/") -> FeatureRef:
        """The feature a user named (`002-x`, `Phase-2/001-x` or `specs/Phase-2/001-x`).

        Unknown names are refused with the known ones; a name two features share is refused
        because both would be implemented on the same branch."""
        key = wanted.strip().strip("/").removeprefix("./")
        tails = {key, key.removeprefix(self.specs_dir + "/"), key.removeprefix(SPECS_DIR + "/")}
        exact = [f for f in self.features if f.path == key or f.relative in tails]
        by_name = [f for f in self.features if f.name == key]
        found = exact or by_name
        if not found:
            raise self.unknown(wanted)
        if len(found) > 1 or len(self.sharing_name(found[0])) > 1:
            twins = self.sharing_name(found[0])
            raise SpecError(
                f"Two features are named {found[0].name!r}: {', '.join(t.path for t in twins)}.",
                DUPLICATE_FIX.format(branch=branch_prefix + found[0].name),
            )
        return found[0]

    def unknown(self, wanted: str) -> SpecError:
        shown = wanted.strip()[:80] or "(empty)"
        if not self.features:
            return SpecError(
                f"There is no feature {shown!r}: {self.specs_dir}/ holds no features at {self.where}.",
                "Create one with /speckit.specify (github/spec-kit), or set specs-dir to the folder "
                "that holds your feature folders.",
            )
        names = [f.relative for f in self.features]
        listing = ", ".join(names[:MAX_LISTED]) + (
            f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
        )
        import difflib  # only for a name nobody knows: `plan` imports this module at startup

        guess = difflib.get_close_matches(shown, [*names, *(f.name for f in self.features)], n=1)
        hint = f" Did you mean {guess[0]!r}?" if guess else ""
        return SpecError(
            f"There is no feature {shown!r} under {self.specs_dir}/ at {self.where}.",
            f"Name one of the features there: {listing}.{hint}",
        )


def catalog(repo: Path, rev: str | None = None, specs_dir: str = SPECS_DIR) -> Catalog:
    """The features at `rev` (None: the work tree): the one place a feature is looked up by name.

    Here, not in speckit.feature, so that `plan` finds features without importing the parsers."""
    base = normalize_dir(specs_dir)
    return Catalog.of(list_files(repo, rev, base), base, rev[:12] if rev else "the work tree")
