"""`specship plan`: the jobs each real and derived webhook payload implies, as a matrix output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.trigger.plan import feature_from_text
from tests.conftest import run_git

ROOT = Path(__file__).resolve().parents[2]
WEBHOOKS = Path(__file__).resolve().parents[1] / "fixtures/github/webhooks"

EVENT_OF_FOLDER = {
    "go-playground/push.json": "push",
    "go-playground/pull-request-issue-comment.json": "issue_comment",
}


def event_name(rel: str) -> str:
    return EVENT_OF_FOLDER.get(rel, rel.split("/", maxsplit=1)[0])


def run_plan(
    event: str, payload: dict[str, Any] | Path, tmp_path: Path, repo: Path | None = None, **env: str
) -> tuple[dict[str, Any], str]:
    if isinstance(payload, Path):
        path = payload
    else:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(payload))
    done = plan_process(event, path, tmp_path, repo or tmp_path, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), (tmp_path / "github_output").read_text()


def plan_process(
    event: str, path: Path, tmp_path: Path, repo: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    output = tmp_path / "github_output"
    output.write_text("")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "plan", "--repo", str(repo)],
        env={
            **base,
            "PYTHONPATH": str(ROOT),
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(path),
            "GITHUB_OUTPUT": str(output),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


# every shared payload: its expected "ignored" reason fragment (none of them implies a job as is)
SHARED = {
    "issues/labeled.payload.json": "label 'bug' is not the trigger label",
    "issues/opened.payload.json": "opened",
    "issues/edited.payload.json": "edited",
    "issue_comment/created.payload.json": "not a /specship command",
    "push/payload.json": "deletes",
    # creating the default branch (before = 0…0) needs the checkout's history to diff
    "push/with-new-branch.payload.json": "error: Cannot list the files changed by the push",
    "push/with-no-username-committer.payload.json": "error: Cannot list the files changed by the push",
    "push/with-installation.payload.json": "",
    "pull_request/opened.payload.json": "does not trigger",
    "pull_request/opened.with-null-body.json": "does not trigger",
    "pull_request/synchronize.payload.json": "does not trigger",
    "pull_request/labeled.payload.json": "does not trigger",
    "pull_request_review/submitted.payload.json": "",
    "pull_request_review_comment/created.payload.json": "not a /specship command",
    "workflow_dispatch/payload.json": "has no 'feature' input",
    "go-playground/push.json": "",
    "go-playground/pull-request-issue-comment.json": "not a /specship command",
}


def test_every_shared_payload_is_covered() -> None:
    files = {p.relative_to(WEBHOOKS).as_posix() for p in WEBHOOKS.rglob("*.json")}
    assert files == set(SHARED)


@pytest.mark.parametrize("rel", sorted(SHARED))
def test_shared_payloads_imply_no_job(rel: str, tmp_path: Path) -> None:
    if SHARED[rel].startswith("error: "):
        done = plan_process(event_name(rel), WEBHOOKS / rel, tmp_path, tmp_path, {})
        assert done.returncode == 1
        assert SHARED[rel].removeprefix("error: ") in done.stderr
        assert "fetch-depth: 0" in done.stderr
        return
    result, output = run_plan(event_name(rel), WEBHOOKS / rel, tmp_path)
    assert result["jobs"] == []
    assert result["ignored"]
    assert SHARED[rel] in result["ignored"]
    assert 'jobs={"include": []}' in output


def test_labeled_issue_naming_a_feature_is_one_implement_job(
    tmp_path: Path, git_repo: Callable[..., Path]
) -> None:
    repo = git_repo({"specs/002-task-due-dates/spec.md": "# two\n"})
    payload = json.loads((WEBHOOKS / "issues/labeled.payload.json").read_text())
    payload["label"]["name"] = "specship"
    payload["issue"]["body"] = "Please implement specs/002-task-due-dates/ next."
    result, output = run_plan("issues", payload, tmp_path, repo)
    assert result["jobs"] == [
        {
            "kind": "implement",
            "feature": "002-task-due-dates",
            "branch": "specship/002-task-due-dates",
            "issue": payload["issue"]["number"],
            "pr": None,
            "change": "",
            "text": "",
        }
    ]
    matrix = json.loads(output.split("=", 1)[1].splitlines()[0])
    assert matrix["include"][0]["feature"] == "002-task-due-dates"


def test_labeled_issue_without_a_feature_gets_an_issue_branch(tmp_path: Path) -> None:
    payload = json.loads((WEBHOOKS / "issues/labeled.payload.json").read_text())
    result, _ = run_plan("issues", payload, tmp_path, **{"INPUT_TRIGGER-LABEL": "bug"})
    assert [(j["kind"], j["feature"], j["branch"]) for j in result["jobs"]] == [
        ("implement", None, f"specship/issue-{payload['issue']['number']}")
    ]


def test_pr_comment_command_is_one_job(tmp_path: Path) -> None:
    payload = json.loads((WEBHOOKS / "go-playground/pull-request-issue-comment.json").read_text())
    payload["comment"]["body"] = "/specship revise add a test for the 404 case"
    result, _ = run_plan("issue_comment", payload, tmp_path)
    assert [(j["kind"], j["pr"], j["text"]) for j in result["jobs"]] == [
        ("revise", 3, "add a test for the 404 case")
    ]


def test_review_body_command_uses_the_configured_prefix(tmp_path: Path) -> None:
    payload = json.loads((WEBHOOKS / "pull_request_review/submitted.payload.json").read_text())
    payload["review"]["body"] = "/ship check"
    result, _ = run_plan("pull_request_review", payload, tmp_path, **{"INPUT_COMMAND-PREFIX": "/ship"})
    assert [(j["kind"], j["pr"]) for j in result["jobs"]] == [("check", 2)]


def test_push_touching_two_features_is_one_job_per_feature(
    tmp_path: Path, git_repo: Callable[..., Path]
) -> None:
    repo = git_repo({"specs/001-user-tasks/spec.md": "# one\n", "README.md": "x\n"})
    before = run_git(repo, "rev-parse", "HEAD").strip()
    (repo / "specs/001-user-tasks/spec.md").write_text("# one, edited\n")
    (repo / "specs/002-task-due-dates").mkdir()
    (repo / "specs/002-task-due-dates/spec.md").write_text("# two\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "specs")
    after = run_git(repo, "rev-parse", "HEAD").strip()
    payload = json.loads((WEBHOOKS / "push/with-new-branch.payload.json").read_text())
    payload.update(
        ref="refs/heads/main", before=before, after=after, created=False, deleted=False, commits=[]
    )
    payload["repository"]["default_branch"] = "main"
    result, output = run_plan("push", payload, tmp_path, repo=repo)
    jobs = [(j["feature"], j["branch"], j["change"]) for j in result["jobs"]]
    assert jobs == [
        ("001-user-tasks", "specship/001-user-tasks", "edited"),
        ("002-task-due-dates", "specship/002-task-due-dates", "new"),
    ]
    assert "job-count=2" in output


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("Implement specs/002-task-due-dates",), "002-task-due-dates"),
        (("", "see `003-export` please"), "003-export"),
        (("implement 20260101-120000-export",), "20260101-120000-export"),
        (("specs/../../etc",), None),
        (("nothing here",), None),
        (("12-short",), None),
    ],
)
def test_feature_from_text(texts: tuple[str, ...], expected: str | None) -> None:
    assert feature_from_text(*texts) == expected


def test_push_that_only_ticks_task_boxes_plans_nothing(tmp_path: Path, git_repo: Callable[..., Path]) -> None:
    tasks = "# Tasks\n\n## Phase 1: Setup\n\n- [ ] T001 Create backend/src/app.py\n- [ ] T002 Add tests\n"
    repo = git_repo(
        {"specs/002-task-due-dates/spec.md": "# two\n", "specs/002-task-due-dates/tasks.md": tasks}
    )
    before = run_git(repo, "rev-parse", "HEAD").strip()
    (repo / "specs/002-task-due-dates/tasks.md").write_text(tasks.replace("- [ ]", "- [X]"))
    run_git(repo, "commit", "-qam", "Specship: mark 2 tasks of 002-task-due-dates done")
    after = run_git(repo, "rev-parse", "HEAD").strip()
    payload = json.loads((WEBHOOKS / "push/with-new-branch.payload.json").read_text())
    payload.update(
        ref="refs/heads/main", before=before, after=after, created=False, deleted=False, commits=[]
    )
    payload["repository"]["default_branch"] = "main"
    result, output = run_plan("push", payload, tmp_path, repo=repo)
    assert result["jobs"] == []
    assert "only had task boxes ticked" in result["ignored"]
    assert "job-count=0" in output


# ---- plan agrees with run (issue 14) ---------------------------------------------------------------


def test_a_label_added_by_a_bot_not_allow_listed_is_no_job(
    tmp_path: Path, git_repo: Callable[..., Path]
) -> None:
    repo = git_repo({"specs/002-task-due-dates/spec.md": "# two\n"})
    payload = json.loads((WEBHOOKS / "issues/labeled.payload.json").read_text())
    payload["label"]["name"] = "specship"
    payload["issue"]["body"] = "Please implement specs/002-task-due-dates/."
    payload["sender"].update(login="evil-app[bot]", type="Bot")
    result, output = run_plan("issues", payload, tmp_path, repo)
    assert result["jobs"] == []
    assert result["refused"] == "evil-app[bot] is a bot not in allowed-bots"
    assert "job-count=0" in output
    allowed, _ = run_plan("issues", payload, tmp_path, repo, **{"INPUT_ALLOWED-BOTS": "evil-app[bot]"})
    assert [j["kind"] for j in allowed["jobs"]] == ["implement"]
    assert allowed["refused"] is None


@pytest.mark.parametrize("verb", ["revise add a test", "check"])
def test_a_pr_only_command_on_a_plain_issue_is_help(tmp_path: Path, verb: str) -> None:
    payload = json.loads((WEBHOOKS / "go-playground/pull-request-issue-comment.json").read_text())
    payload["issue"].pop("pull_request", None)
    payload["comment"]["body"] = f"/specship {verb}"
    result, _ = run_plan("issue_comment", payload, tmp_path)
    assert [(j["kind"], j["issue"]) for j in result["jobs"]] == [("help", payload["issue"]["number"])]
    assert result["notes"] == [f"`{verb.split(maxsplit=1)[0]}` works only on a Specship pull request."]


def test_retry_on_a_plain_issue_stays_a_retry(tmp_path: Path) -> None:
    payload = json.loads((WEBHOOKS / "go-playground/pull-request-issue-comment.json").read_text())
    payload["issue"].pop("pull_request", None)
    payload["comment"]["body"] = "/specship retry"
    result, _ = run_plan("issue_comment", payload, tmp_path)
    assert [j["kind"] for j in result["jobs"]] == ["retry"]
