"""Gates on Spec Kit layouts: a nested feature's contract is found, and a specs-dir is as read-only
for the agent (file tools) and the guard as the default specs/ is."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.gates import GateContext, contracts
from bot.gates.guard_paths import protected_reason
from bot.sandbox.paths import PathRefused, Workspace
from bot.settings import Settings
from tests.conftest import committed_example, reachable_tempdir, run_git
from tests.gates.test_gate_contracts import FEATURE, app_openapi

EXAMPLE_BACKEND = Path(__file__).resolve().parents[2] / "examples/taskboard/backend"


@pytest.fixture(scope="module")
def example_openapi() -> dict[str, Any]:
    return app_openapi(EXAMPLE_BACKEND)


@pytest.fixture
def moved() -> Iterator[Path]:
    """The taskboard example with its features moved to services/api/specs/Phase-1/."""
    with reachable_tempdir() as parent:
        repo = committed_example(parent)
        (repo / "services/api/specs").mkdir(parents=True)
        shutil.move(repo / "specs", repo / "services/api/specs/Phase-1")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-qm", "monorepo layout")
        yield repo


def test_a_nested_feature_in_a_specs_dir_has_its_contract_checked(
    moved: Path, example_openapi: dict[str, Any]
) -> None:
    settings = Settings(specs_dir="services/api/specs")
    result = contracts.gate(GateContext(moved, "HEAD", settings, FEATURE), example_openapi)
    assert result.passed
    assert result.summary.startswith("5 operation(s) checked against 1 contract file(s)")
    # feature 002 is not implemented at 001: its findings point into the nested folder
    failing = contracts.gate(GateContext(moved, "HEAD", settings, "002-task-due-dates"), example_openapi)
    assert not failing.passed
    assert {f.file for f in failing.errors} == {
        "services/api/specs/Phase-1/002-task-due-dates/contracts/openapi.yaml"
    }
    # without the setting the contract is not where the gate looks, so there is nothing to check
    assert contracts.gate(GateContext(moved, "HEAD", Settings(), FEATURE), example_openapi).summary == (
        "no contract"
    )


@pytest.mark.parametrize(
    "path",
    [
        "services/api/specs/Phase-1/002-x/spec.md",
        "services/api/specs/new.md",
        "services/api/.specify/memory/constitution.md",
    ],
)
def test_the_specs_dir_is_read_only_for_the_agent_and_the_guard(tmp_path: Path, path: str) -> None:
    settings = Settings(specs_dir="services/api/specs")
    workspace = Workspace(tmp_path, protected=settings.protected_globs)
    with pytest.raises(PathRefused, match="protected path"):
        workspace.resolve_write(path)
    assert protected_reason(path, settings.protected_globs) is not None
    # the default settings would have let the agent write there: the setting is what protects it
    Workspace(tmp_path, protected=Settings().protected_globs).resolve_write(path)
    assert protected_reason(path, Settings().protected_globs) is None


def test_protected_globs_add_nothing_for_the_default_layout() -> None:
    assert Settings(protected_paths=("docs/**",)).protected_globs == ("docs/**",)
    assert Settings(specs_dir="specs").protected_globs == ()
    assert Settings(specs_dir="docs/specs").protected_globs == ("docs/specs", "docs/.specify")
