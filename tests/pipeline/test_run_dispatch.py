"""workflow_dispatch end to end: `run` implements the feature its `feature` input names, for writers
only, and refuses a feature that does not exist with the known ones, before any model call."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.report.markers import marker_of
from tests.e2e import BRANCH, FEATURE, SCENARIO_002, WEBHOOKS, World, log, new_world, play
from tests.fakes.github_fixture import REPO


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


def dispatch(feature: str, sender: str = "bob") -> dict[str, Any]:
    """octokit's workflow_dispatch payload for the example repository, `feature` typed in the form."""
    payload = copy.deepcopy(json.loads((WEBHOOKS / "workflow_dispatch/payload.json").read_text()))
    owner, name = REPO.split("/")
    payload["inputs"] = {"feature": feature}
    payload["ref"] = "refs/heads/main"
    payload["repository"].update(full_name=REPO, name=name, default_branch="main")
    payload["repository"]["owner"]["login"] = owner
    payload["sender"].update(login=sender, type="User")
    return payload


def test_a_reader_cannot_dispatch_a_run(world: World) -> None:
    """Authorized like any trigger: whoever dispatched needs write, through the permission API."""
    result = world.run("workflow_dispatch", dispatch(FEATURE, "carol"), GITHUB_ACTOR="carol")
    assert result.returncode == 0, log(result)
    assert "refused: carol has read permission, write is required" in result.stdout
    assert world.github.calls("GET", "/collaborators/carol/permission$", 200)
    assert world.anthropic.requests == []
    assert world.branches() == ["main"]
    assert world.outputs()["conclusion"] == "refused"


def test_a_dispatched_feature_that_does_not_exist_is_refused_with_the_known_ones(world: World) -> None:
    result = world.run("workflow_dispatch", dispatch("002-due-dates"))
    assert result.returncode == 1, log(result)
    (error,) = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert "There is no feature '002-due-dates' under specs/" in error
    assert "001-user-tasks, 002-task-due-dates" in error
    assert "Did you mean '002-task-due-dates'?" in error
    assert world.anthropic.requests == []
    assert world.branches() == ["main"]
    assert world.outputs()["conclusion"] == "failure"


@pytest.mark.slow
def test_a_writer_dispatching_a_feature_gets_its_pull_request(world: World) -> None:
    play(world.anthropic, SCENARIO_002)
    result = world.run("workflow_dispatch", dispatch(f"specs/{FEATURE}"))
    assert result.returncode == 0, log(result)
    assert world.anthropic.expectation_failures == []
    (pr,) = world.github.repo(REPO).pulls.values()
    assert pr.head_ref == BRANCH
    marker = marker_of(pr.issue.body or "")
    assert marker is not None
    assert marker["conclusion"] == "success"
    assert world.outputs()["branch"] == BRANCH
    assert pr.requested_reviewers == ["bob"]
