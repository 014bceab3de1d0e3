"""Spec Kit layouts as people write them: nested feature folders, a specs-dir, unique folder names,
and the one lookup by name that refuses unknown features with the known ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.speckit.api import (
    Catalog,
    SpecError,
    catalog,
    delta,
    feature_dirs,
    iter_features,
    load_feature,
    read_project,
    readiness,
)
from bot.speckit.layout import group_by_feature, owner_of
from tests.conftest import run_git
from tests.speckit.test_specs_rules import SPEC, TASKS, write

CONSTITUTION = "# Tasks Constitution\n\n## Core Principles\n\n### I. Auth\nAlways.\n\n**Version**: 1.0.0\n"
NESTED = {
    "specs/README.md": "# How we write specs\n",
    "specs/Phase-1/001-user-tasks/spec.md": SPEC,
    "specs/Phase-1/001-user-tasks/contracts/003-v2/api.yaml": "openapi: 3.1.0\npaths: {}\n",
    "specs/Phase-2/README.md": "# Phase 2 overview\n",
    "specs/Phase-2/002-task-tags/spec.md": SPEC,
    "specs/Phase-2/002-task-tags/tasks.md": TASKS,
    "specs/Phase-2/004-export/plan.md": "# Implementation Plan: Export\n",
    "specs/copilot/custom-feature/spec.md": SPEC,
    "specs/assets/diagram.md": "# a diagram, no feature\n",
    ".specify/memory/constitution.md": CONSTITUTION,
}


def test_nested_feature_folders_and_what_is_not_a_feature() -> None:
    files = list(NESTED)
    assert feature_dirs(files) == (
        "specs/Phase-1/001-user-tasks",
        "specs/Phase-2/002-task-tags",
        "specs/Phase-2/004-export",
        "specs/copilot/custom-feature",
    )
    # grouping folders, their READMEs, assets and a numbered folder inside a feature are not features


def test_a_feature_is_named_by_its_folder_and_found_by_any_of_its_names(tmp_path: Path) -> None:
    repo = write(tmp_path, NESTED)
    known = catalog(repo)
    for wanted in (
        "002-task-tags",
        "Phase-2/002-task-tags",
        "specs/Phase-2/002-task-tags",
        "./002-task-tags/",
    ):
        assert known.locate(wanted).path == "specs/Phase-2/002-task-tags"
    feature = load_feature(repo, "002-task-tags")
    assert (feature.name, feature.relative, feature.path) == (
        "002-task-tags",
        "Phase-2/002-task-tags",
        "specs/Phase-2/002-task-tags",
    )
    assert feature.constitution is not None  # the project's shared files come with it
    assert readiness(feature).ready


def test_an_unknown_feature_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    repo = write(tmp_path, NESTED)
    with pytest.raises(SpecError) as info:
        load_feature(repo, "002-tags")
    assert info.value.cause == "There is no feature '002-tags' under specs/ at the work tree."
    assert info.value.fix == (
        "Name one of the features there: Phase-1/001-user-tasks, Phase-2/002-task-tags, "
        "Phase-2/004-export, copilot/custom-feature. Did you mean '002-task-tags'?"
    )
    # a folder that groups features, or one that is not a feature, is not one either
    for wanted in ("Phase-2", "assets", "specs", ""):
        with pytest.raises(SpecError, match="There is no feature"):
            catalog(repo).locate(wanted)


def test_no_features_at_all_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        Catalog.of([], "specs").locate("001-x")
    assert "specs/ holds no features" in info.value.cause
    assert "/speckit.specify" in info.value.fix
    assert "specs-dir" in info.value.fix


def test_two_features_with_one_folder_name_cannot_be_implemented(tmp_path: Path) -> None:
    """Branch names stay specship/<folder name>: a twin would share the branch."""
    repo = write(tmp_path, {**NESTED, "specs/Phase-3/002-task-tags/spec.md": SPEC})
    with pytest.raises(SpecError) as info:
        load_feature(repo, "002-task-tags")
    assert info.value.cause == (
        "Two features are named '002-task-tags': specs/Phase-2/002-task-tags, specs/Phase-3/002-task-tags."
    )
    assert "specship/002-task-tags" in info.value.fix
    # even the full path is refused: the branch would still be shared
    with pytest.raises(SpecError, match="Two features"):
        load_feature(repo, "specs/Phase-3/002-task-tags")
    # and `specs` shows both as not ready, each naming the other
    results = {f.path: readiness(f) for f in iter_features(repo)[2]}
    for path, other in (
        ("specs/Phase-2/002-task-tags", "specs/Phase-3/002-task-tags"),
        ("specs/Phase-3/002-task-tags", "specs/Phase-2/002-task-tags"),
    ):
        assert not results[path].ready
        (problem,) = [p for p in results[path].problems if p.code == "duplicate-name"]
        assert other in problem.what
    assert results["specs/Phase-1/001-user-tasks"].ready


@pytest.mark.parametrize(
    ("folder", "code"),
    [("specs/Phase-2/spec.md", "folder-name"), ("specs/My Feature/spec.md", "folder-name")],
)
def test_a_folder_name_that_cannot_be_a_branch_is_not_ready(tmp_path: Path, folder: str, code: str) -> None:
    repo = write(tmp_path, {folder: SPEC, ".specify/memory/constitution.md": CONSTITUTION})
    (feature,) = read_project(repo).features
    result = readiness(feature)
    assert not result.ready
    assert [p.code for p in result.problems] == [code]
    assert "cannot name a branch" in result.problems[0].what


def test_a_spec_md_that_is_no_spec_is_not_ready(tmp_path: Path) -> None:
    """A folder that only looks like a feature never shows as ready."""
    repo = write(tmp_path, {"specs/notes/spec.md": "# Notes\n\nJust some notes about the API.\n"})
    (feature,) = read_project(repo).features
    result = readiness(feature)
    assert [p.code for p in result.problems] == ["not-a-spec"]


def test_specs_dir_for_a_monorepo_with_its_own_specify_folder(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "services/api/specs/001-user-tasks/spec.md": SPEC,
            "services/api/.specify/memory/constitution.md": CONSTITUTION,
            "services/api/CLAUDE.md": "# API standards\n",
            "specs/999-elsewhere/spec.md": SPEC,  # the root's specs are another project's
        },
    )
    known = catalog(repo, None, "services/api/specs")
    assert [f.path for f in known.features] == ["services/api/specs/001-user-tasks"]
    with pytest.raises(SpecError, match="under services/api/specs/"):
        known.locate("999-elsewhere")
    feature = load_feature(repo, "001-user-tasks", specs_dir="services/api/specs")
    assert feature.relative == "001-user-tasks"
    assert feature.constitution is not None
    assert feature.constitution.path == "services/api/.specify/memory/constitution.md"
    assert feature.standards is not None
    assert feature.standards.path == "services/api/CLAUDE.md"
    # the project's template constitution refuses it, as the root's would
    (repo / "services/api/.specify/memory/constitution.md").write_text("# [PROJECT_NAME] Constitution\n")
    result = readiness(load_feature(repo, "001-user-tasks", specs_dir="services/api/specs"))
    assert [p.code for p in result.problems] == ["template-constitution"]


def test_a_monorepo_without_its_own_specify_uses_the_root_constitution(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {"backend/specs/001-a/spec.md": SPEC, ".specify/memory/constitution.md": CONSTITUTION},
    )
    feature = load_feature(repo, "001-a", specs_dir="backend/specs")
    assert feature.constitution is not None
    assert feature.constitution.path == ".specify/memory/constitution.md"


def test_delta_sees_nested_features_and_the_specs_dir(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({"api/specs/Phase-1/001-a/spec.md": SPEC, "api/specs/Phase-1/001-a/tasks.md": TASKS})
    base = run_git(repo, "rev-parse", "HEAD").strip()
    write(repo, {"api/specs/Phase-2/002-b/spec.md": SPEC, "api/specs/Phase-1/001-a/plan.md": "# Plan\n"})
    change = delta(repo, base, None, specs_dir="api/specs")
    assert [(f.name, f.relative, f.status) for f in change.features] == [
        ("001-a", "Phase-1/001-a", "edited"),
        ("002-b", "Phase-2/002-b", "added"),
    ]
    found = change.feature("002-b")
    assert found is not None
    assert found.path == "api/specs/Phase-2/002-b"
    assert change.feature("Phase-1/001-a") is change.features[0]
    # without the setting, nothing of it is a feature
    assert delta(repo, base, None).features == ()


def test_one_pass_grouping_gives_each_feature_the_files_its_own_filter_would() -> None:
    files = [
        *NESTED,
        "specs/Phase-2/002-task-tags/inner/003-x/spec.md",
        "specs/Phase-2/002-task-tags/inner/n.md",
    ]
    dirs = feature_dirs(files)
    assert "specs/Phase-2/002-task-tags/inner/003-x" in dirs  # a feature nested in a feature
    grouped = group_by_feature(files, dirs)
    for folder in dirs:
        # what read_feature keeps of a per-folder scan: the files whose deepest feature folder it is
        expected = [f for f in files if owner_of(f, dirs) == folder]
        assert grouped[folder] == expected, folder
    assert "specs/Phase-2/002-task-tags/inner/n.md" in grouped["specs/Phase-2/002-task-tags"]
    assert not any("README" in f or "assets" in f for group in grouped.values() for f in group)
