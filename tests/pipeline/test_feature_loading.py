"""The feature a run implements: found by the one definition, refused with the known ones, and its
documents redacted (with a located warning) before anything goes to the model."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import actions
from bot.actions import Runtime
from bot.exceptions import FatalError
from bot.pipeline.prompt import load_ready_feature
from bot.settings import Settings
from bot.speckit.api import find_secrets, readiness
from tests.speckit.test_specs_rules import SPEC, write

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
KEY = "sk-ant-api03-" + "x" * 40
CONSTITUTION = "# App Constitution\n\n## Core Principles\n\n### I. Auth\nAlways.\n\n**Version**: 1.0.0\n"


@pytest.fixture
def rt() -> Iterator[Runtime]:
    runtime = actions.use(Runtime(env={"GITHUB_ACTIONS": "true"}, out=io.StringIO(), err=io.StringIO()))
    yield runtime
    actions.use(Runtime())


def leaky(root: Path) -> Path:
    spec = SPEC + f"\nUse the deploy token {TOKEN} for the webhook.\n"
    return write(
        root,
        {
            "specs/Phase-2/003-tags/spec.md": spec,
            "specs/Phase-2/003-tags/contracts/api.yaml": f"openapi: 3.1.0\n# key: {KEY}\npaths: {{}}\n",
            ".specify/memory/constitution.md": CONSTITUTION,
        },
    )


def test_credentials_in_a_spec_are_redacted_and_warned_about_with_file_and_line(
    tmp_path: Path, rt: Runtime
) -> None:
    feature = load_ready_feature(leaky(tmp_path), "003-tags", None, Settings())
    # what goes to the model (documents, parsed requirements) no longer holds either value
    everything = b"".join(feature.raw.values()).decode()
    assert TOKEN not in everything
    assert KEY not in everything
    assert everything.count("[REDACTED]") == 2
    assert feature.spec is not None
    assert [r.id for r in feature.spec.requirements] == ["FR-001"]  # still parsed, lines kept
    assert [(p.file, p.line) for p in feature.redacted] == [
        ("specs/Phase-2/003-tags/contracts/api.yaml", 2),
        ("specs/Phase-2/003-tags/spec.md", 9),
    ]
    log = rt.out.getvalue()
    warnings = [line for line in log.splitlines() if line.startswith("::warning")]
    assert warnings[0].startswith("::warning file=specs/Phase-2/003-tags/contracts/api.yaml,line=2::")
    assert "looks like an Anthropic API key" in warnings[0]
    assert warnings[1].startswith("::warning file=specs/Phase-2/003-tags/spec.md,line=9::")
    assert "looks like a GitHub token" in warnings[1]
    assert "remove it and rotate it" in warnings[1]
    # masked from now on: only the ::add-mask:: commands carry them (that is how GitHub learns
    # to hide them), and everything printed later is redacted
    shown = [line for line in log.splitlines() if TOKEN in line or KEY in line]
    assert shown
    assert all(line.startswith("::add-mask::") for line in shown)
    assert rt.redact(f"model said {TOKEN}") == "model said [REDACTED]"


def test_a_clean_feature_is_returned_as_read(tmp_path: Path, rt: Runtime) -> None:
    repo = write(tmp_path, {"specs/001-a/spec.md": SPEC, ".specify/memory/constitution.md": CONSTITUTION})
    feature = load_ready_feature(repo, "001-a", None, Settings())
    assert feature.redacted == ()
    assert "::warning" not in rt.out.getvalue()


def test_specs_shows_the_credential_as_a_warning_not_a_refusal(tmp_path: Path) -> None:
    from bot.speckit.api import load_feature

    feature = load_feature(leaky(tmp_path), "003-tags")
    result = readiness(feature)
    assert result.ready
    assert [(p.code, p.line) for p in result.warnings if p.code != "missing-file"] == [
        ("secret", 2),
        ("secret", 9),
    ]
    assert [f.kind for f in find_secrets(feature)] == ["an Anthropic API key", "a GitHub token"]


def test_an_unknown_feature_is_refused_with_the_known_ones(tmp_path: Path, rt: Runtime) -> None:
    repo = leaky(tmp_path)
    with pytest.raises(FatalError) as info:
        load_ready_feature(repo, "003-tag", None, Settings())
    assert info.value.cause == "There is no feature '003-tag' under specs/ at the work tree."
    assert "Phase-2/003-tags" in info.value.fix


def test_the_specs_dir_setting_is_where_features_are_found(tmp_path: Path, rt: Runtime) -> None:
    repo = write(
        tmp_path,
        {"api/specs/001-a/spec.md": SPEC, "api/.specify/memory/constitution.md": CONSTITUTION},
    )
    feature = load_ready_feature(repo, "001-a", None, Settings(specs_dir="api/specs"))
    assert feature.path == "api/specs/001-a"
    with pytest.raises(FatalError, match="specs/ holds no features"):
        load_ready_feature(repo, "001-a", None, Settings())
