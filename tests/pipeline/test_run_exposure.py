"""The GitHub flow exposes and pushes only what the agent wrote (finding 2), end to end.

The checkout holds what runners and people leave in it: an ignored `backend/.env` (mode 0600) and
the untracked credentials file google-github-actions/auth writes for Vertex (a PEM private key).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_git
from tests.e2e import BRANCH, FEATURE, NO_REPAIR, World, log, new_world, play
from tests.fakes.github_fixture import BOT, REPO

CANARY = "canary-db-password-5e4d3c2b1a"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
CREDS_NAME = "gha-creds-6f1e2d3c4b5a6978.json"
CREDS = json.dumps(
    {
        "type": "service_account",
        "project_id": "example",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n",
    }
)
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="file modes separate users only under root")

PROBE_TEST = """
def test_probe():
    seen = {}
    for path in ("../gha-creds-6f1e2d3c4b5a6978.json", ".env"):
        try:
            seen[path] = open(path).read()
        except OSError as exc:
            seen[path] = type(exc).__name__
    assert False, seen
"""

PROBING_SESSION = """
turns:
  - tool_calls:
      - name: str_replace_based_edit_tool
        input: {command: view, path: backend/.env}
      - name: str_replace_based_edit_tool
        input: {command: view, path: %(creds)s}
      - name: search
        input: {pattern: "PRIVATE KEY|DATABASE_PASSWORD"}
  - tool_calls:
      - name: str_replace_based_edit_tool
        input: {command: create, path: backend/tests/test_probe.py, file_text: %(probe)s}
  - tool_calls:
      - name: run_tests
        input: {node_ids: ["tests/test_probe.py::test_probe"]}
  - tool_calls:
      - name: submit_report
        input:
          summary: "Adds a probe."
          files: [{path: backend/tests/test_probe.py, purpose: "probe"}]
          acceptance_criteria: [{id: US1-AS1, criterion: "c", tests: []}]
"""


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


def leave_runner_files(workspace: Path) -> None:
    env = workspace / "backend" / ".env"
    env.write_text(f"DATABASE_PASSWORD={CANARY}\n")
    env.chmod(0o600)
    creds = workspace / CREDS_NAME
    creds.write_text(CREDS)
    creds.chmod(0o600)


def tool_results(world: World) -> list[str]:
    """The tool_result texts Specship sent the model, in order."""
    found = []
    for request in world.anthropic.message_requests:
        for block in request.body["messages"][-1]["content"]:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                content = block.get("content")
                found.append(content if isinstance(content, str) else json.dumps(content))
    return found


@ROOT_ONLY
@pytest.mark.slow
def test_ignored_and_untracked_files_are_neither_shown_nor_readable_nor_pushed(world: World) -> None:
    leave_runner_files(world.workspace)
    number = world.github.add_issue(REPO, f"Implement specs/{FEATURE}", body="Please.", author="alice")
    play(
        world.anthropic,
        PROBING_SESSION % {"creds": CREDS_NAME, "probe": json.dumps(PROBE_TEST)},
    )
    result = world.run("issues", world.label_payload(number), **NO_REPAIR)
    assert result.returncode == 1, log(result)  # the probe test fails: a draft
    views = tool_results(world)
    assert "git does not track it and Specship did not write it" in views[0]
    assert "git does not track it and Specship did not write it" in views[1]
    assert views[2] == "No matches."
    probe = next(text for text in views if "test_probe" in text and "seen" in text)
    assert "'../gha-creds-6f1e2d3c4b5a6978.json': 'PermissionError'" in probe
    assert "'.env': 'PermissionError'" in probe
    model_saw = json.dumps([r.body for r in world.anthropic.message_requests])
    assert CANARY not in model_saw
    assert PEM_BODY not in model_saw
    for path in ("backend/.env", CREDS_NAME):
        assert stat.S_IMODE(os.stat(world.workspace / path).st_mode) == 0o600, path
    pushed = run_git(world.github.bare_repo_path, "ls-tree", "-r", "--name-only", BRANCH).split()
    assert "backend/tests/test_probe.py" in pushed
    assert CREDS_NAME not in pushed
    assert "backend/.env" not in pushed
    (pr,) = world.github.repo(REPO).pulls.values()
    body = pr.issue.body or ""
    assert "Left out of the commit" in body
    assert f"`{CREDS_NAME}`" in body
    assert ".env" not in body.split("Left out of the commit", 1)[1].split("\n", 1)[0]  # ignored: unlisted


KEY_SESSION = """
turns:
  - tool_calls:
      - name: str_replace_based_edit_tool
        input:
          command: create
          path: backend/src/signing.py
          file_text: %s
  - tool_calls:
      - name: submit_report
        input:
          summary: "Adds a signing key."
          files: [{path: backend/src/signing.py, purpose: "signing"}]
          acceptance_criteria: [{id: US1-AS1, criterion: "c", tests: []}]
"""


@pytest.mark.slow
def test_a_private_key_the_model_wrote_blocks_the_push_and_the_work_stays_local(world: World) -> None:
    key = f'"""Signing."""\n\nKEY = """-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n"""\n'
    number = world.github.add_issue(REPO, f"Implement specs/{FEATURE}", body="Please.", author="alice")
    play(world.anthropic, KEY_SESSION % json.dumps(key))
    result = world.run("issues", world.label_payload(number), **NO_REPAIR)
    assert result.returncode == 1, log(result)
    assert world.branches() == ["main"]  # nothing was pushed
    assert world.github.repo(REPO).pulls == {}
    comments = world.github.repo(REPO).comments.values()
    (tracking,) = [c.body for c in comments if c.login == BOT and c.issue_number == number]
    assert "Secret scan" in tracking
    assert "`backend/src/signing.py` line 3: a private key" in tracking
    assert PEM_BODY not in json.dumps([r.json for r in world.github.requests])
    head = run_git(world.workspace, "rev-parse", "HEAD").strip()
    assert head[:12] in tracking  # where the work is kept
    assert PEM_BODY in run_git(world.workspace, "show", f"{head}:backend/src/signing.py")
