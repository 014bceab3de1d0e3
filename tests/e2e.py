"""End-to-end harness: `python -m bot run` as a subprocess against the GitHub and Anthropic emulators."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.agent.scenario_reader import load_scenario, parse_scenario
from bot.report.markers import render_marker
from tests.conftest import reachable_tempdir, run_git
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator
from tests.fakes.github_api import GitHubEmulator
from tests.fakes.github_faults import WRITE_METHODS, RecordedRequest
from tests.fakes.github_fixture import ACTIONS_TOKEN, BOT, REPO, running_emulator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples/taskboard"
SCENARIO_002 = EXAMPLE / "scenarios/002-task-due-dates.yaml"
WEBHOOKS = Path(__file__).resolve().parent / "fixtures/github/webhooks"
FEATURE = "002-task-due-dates"
BRANCH = f"specship/{FEATURE}"

SHORT_SUBMIT = """
turns:
  - tool_calls:
      - name: str_replace_based_edit_tool
        input: {command: create, path: backend/NOTES.md, file_text: "Revised as asked.\\n"}
  - tool_calls:
      - name: submit_report
        input:
          summary: "Adds a note."
          files: [{path: backend/NOTES.md, purpose: "A note"}]
          acceptance_criteria: [{id: US1-AS1, criterion: "c", tests: []}]
"""
# Settings that keep a short scenario short: failing gates end the run as a draft, no repair round.
NO_REPAIR = {"INPUT_MAX-REPAIR-ROUNDS": "0"}


@dataclass
class World:
    """A GitHub repository holding the taskboard example, a checkout of it, and both emulators."""

    github: GitHubEmulator
    anthropic: AnthropicEmulator
    tmp: Path
    workspace: Path = field(init=False)

    def __post_init__(self) -> None:
        seed = self.tmp / "seed"
        run_git(self.tmp, "clone", "-q", str(self.github.bare_repo_path), str(seed))
        shutil.copytree(
            EXAMPLE, seed, dirs_exist_ok=True, ignore=shutil.ignore_patterns("scenarios", "__pycache__")
        )
        run_git(seed, "add", "-A")
        run_git(seed, "commit", "-q", "-m", "Taskboard: 001 implemented, 002 specified")
        run_git(seed, "push", "-q", "origin", "HEAD:main")
        self.workspace = self.checkout()

    def checkout(self) -> Path:
        """A fresh clone as actions/checkout leaves it (fetch-depth 0), world-readable for the sandbox."""
        path = self.tmp / f"workspace-{len(list(self.tmp.glob('workspace-*')))}"
        run_git(self.tmp, "clone", "-q", str(self.github.bare_repo_path), str(path))
        return path

    @property
    def server_url(self) -> str:
        return "file://" + str(self.github.bare_repo_path.parent.parent)

    def env(
        self, event: str, payload: dict[str, Any], workspace: Path | None = None, **extra: str
    ) -> dict[str, str]:
        event_path = self.tmp / f"event-{event}.json"
        event_path.write_text(json.dumps(payload))
        for name in ("output", "summary"):
            (self.tmp / name).write_text("")
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_", "RUNNER_"))
        }
        return {
            **base,
            "PYTHONPATH": str(ROOT),
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": self.github.url,
            "GITHUB_SERVER_URL": self.server_url,
            "GITHUB_WORKSPACE": str(workspace or self.workspace),
            "GITHUB_RUN_ID": "4242",
            "GITHUB_ACTOR": "bob",
            "GITHUB_TRIGGERING_ACTOR": "bob",
            "GITHUB_OUTPUT": str(self.tmp / "output"),
            "GITHUB_STEP_SUMMARY": str(self.tmp / "summary"),
            "RUNNER_TEMP": str(self.tmp / "runner-temp"),
            "INPUT_GITHUB-TOKEN": ACTIONS_TOKEN,
            "INPUT_ANTHROPIC-API-KEY": API_KEY,
            "ANTHROPIC_BASE_URL": self.anthropic.url,
            **extra,
        }

    def run(
        self, event: str, payload: dict[str, Any], workspace: Path | None = None, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        (self.tmp / "runner-temp").mkdir(exist_ok=True)
        return subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            env=self.env(event, payload, workspace, **extra),
            cwd=str(workspace or self.workspace),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def start(
        self, event: str, payload: dict[str, Any], workspace: Path | None = None, **extra: str
    ) -> subprocess.Popen[str]:
        """`run` in the background (to signal it); read its output with communicate()."""
        (self.tmp / "runner-temp").mkdir(exist_ok=True)
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=self.env(event, payload, workspace, **extra),
            cwd=str(workspace or self.workspace),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def summary(self) -> str:
        return (self.tmp / "summary").read_text()

    # -- repository state ---------------------------------------------------------------------

    def sha(self, branch: str) -> str | None:
        return self.github.repo(REPO).git.branch_sha(branch)

    def commit(self, branch: str, files: dict[str, str | bytes | None], message: str = "Update") -> str:
        """A commit on `branch` of the remote (made by a human, outside Specship); its sha."""
        return self.github.commit_files(REPO, branch, files, message)

    def seed_pr(
        self,
        feature: str = FEATURE,
        files: dict[str, str | bytes | None] | None = None,
        *,
        head_repo: str = REPO,
        issue: int | None = None,
    ) -> int:
        """A Specship PR as an earlier run leaves it: its branch with one commit, a marked body."""
        repo = self.github.repo(REPO)
        source = self.github.repo(head_repo)
        branch = f"specship/{feature}"
        base = self.sha("main")
        files = files or {"backend/NOTES.md": "First draft.\n"}
        head = source.git.commit_files(branch, files, f"Specship: implement {feature}", start=base)
        marker: dict[str, Any] = {"feature": feature, "spec_hash": "0" * 16, "base": base, "head": head}
        marker.update(conclusion="draft", **({"issue": issue} if issue is not None else {}))
        body = "Earlier run.\n\n" + render_marker(marker)
        with self.github.world.lock:
            pull = self.github.world.open_pull(
                repo,
                author=BOT,
                title=f"{feature}: earlier run",
                body=body,
                head_repo=source,
                head_ref=branch,
                base_ref="main",
                draft=True,
            )
        return pull.number

    def push_payload(
        self,
        before: str,
        after: str,
        *,
        branch: str = "main",
        pusher: str = "bob",
        author: tuple[str, str] = ("Bob", "bob@example.com"),
    ) -> dict[str, Any]:
        """A push event for before..after of the remote, commits listed like GitHub lists them."""
        payload = json.loads((WEBHOOKS / "push/with-installation.payload.json").read_text())
        bare = self.github.bare_repo_path
        commits = []
        for sha in run_git(bare, "rev-list", "--reverse", f"{before}..{after}").split():
            lists: dict[str, list[str]] = {"added": [], "modified": [], "removed": []}
            out = run_git(bare, "diff-tree", "--no-commit-id", "--name-status", "-r", sha)
            for line in out.splitlines():
                status, path = line.split("\t", 1)
                lists[{"A": "added", "D": "removed"}.get(status, "modified")].append(path)
            who = {"name": author[0], "email": author[1], "username": author[0].lower()}
            commits.append({"id": sha, "message": "specs", "author": who, "committer": who, **lists})
        owner, name = REPO.split("/")
        payload.update(ref=f"refs/heads/{branch}", before=before, after=after, commits=commits)
        payload.update(
            created=False, deleted=False, forced=False, head_commit=commits[-1] if commits else None
        )
        payload["repository"].update(full_name=REPO, name=name, default_branch="main")
        payload["repository"]["owner"].update(login=owner, name=owner)
        payload["pusher"] = {"name": pusher, "email": f"{pusher}@example.com"}
        payload["sender"].update(login=pusher, type="Bot" if pusher.endswith("[bot]") else "User")
        return payload

    def review_payload(
        self, number: int, body: str, head_sha: str, author: str = "bob", review_id: int = 7001
    ) -> dict[str, Any]:
        """A pull_request_review/submitted event whose body is a command, written at head_sha."""
        payload = json.loads((WEBHOOKS / "pull_request_review/submitted.payload.json").read_text())
        payload["review"].update(body=body, id=review_id, commit_id=head_sha)
        payload["review"]["user"].update(login=author, type="User")
        payload["sender"].update(login=author, type="User")
        pr = payload["pull_request"]
        pr["number"] = number
        pr["head"].update(sha=head_sha, ref=f"specship/{FEATURE}")
        for side in ("head", "base"):
            pr[side]["repo"].update(full_name=REPO, name=REPO.split("/")[1])
        owner, name = REPO.split("/")
        payload["repository"].update(full_name=REPO, name=name, default_branch="main")
        payload["repository"]["owner"]["login"] = owner
        return payload

    def outputs(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for line in (self.tmp / "output").read_text().splitlines():
            if "=" in line and "<<" not in line:
                name, value = line.split("=", 1)
                values[name] = value
        return values

    def label_payload(
        self, issue: int, label: str = "specship", sender: str = "bob", author: str = "alice"
    ) -> dict[str, Any]:
        payload = json.loads((WEBHOOKS / "issues/labeled.payload.json").read_text())
        payload["label"]["name"] = label
        payload["issue"]["number"] = issue
        payload["issue"]["user"]["login"] = author
        payload["issue"]["title"] = f"Implement specs/{FEATURE}"
        payload["issue"]["body"] = f"Please implement specs/{FEATURE}/ (due dates)."
        payload["sender"]["login"] = sender
        payload["sender"]["type"] = "Bot" if sender.endswith("[bot]") else "User"
        owner, name = REPO.split("/")
        payload["repository"].update(full_name=REPO, name=name, default_branch="main")
        payload["repository"]["owner"]["login"] = owner
        return payload

    def comment_payload(
        self,
        number: int,
        body: str,
        author: str = "bob",
        comment_id: int = 9001,
        *,
        association: str = "MEMBER",
        on_pr: bool = True,
    ) -> dict[str, Any]:
        payload = json.loads((WEBHOOKS / "go-playground/pull-request-issue-comment.json").read_text())
        payload["issue"]["number"] = number
        if not on_pr:
            payload["issue"].pop("pull_request", None)
        payload["comment"].update(body=body, id=comment_id, author_association=association)
        payload["comment"]["user"]["login"] = author
        payload["comment"]["user"]["type"] = "Bot" if author.endswith("[bot]") else "User"
        payload["sender"]["login"] = author
        owner, name = REPO.split("/")
        payload["repository"].update(full_name=REPO, name=name, default_branch="main")
        payload["repository"]["owner"]["login"] = owner
        return payload

    def branches(self) -> list[str]:
        out = run_git(self.github.bare_repo_path, "for-each-ref", "--format=%(refname:short)", "refs/heads")
        return sorted(out.split())

    def command(
        self, number: int, body: str, author: str = "bob", *, on_pr: bool = True, **kw: Any
    ) -> dict[str, Any]:
        """Write a comment on the emulator (as GitHub stores it) and return its issue_comment event."""
        comment_id = self.github.add_comment(REPO, number, body, author=author)
        return self.comment_payload(number, body, author, comment_id, on_pr=on_pr, **kw)


def log(result: subprocess.CompletedProcess[str]) -> str:
    """What the step printed, and how it ended."""
    return f"{result.stdout}{result.stderr}\nexit={result.returncode}"


def is_write(request: RecordedRequest) -> bool:
    """A mutating request (a GraphQL query such as `viewer` is a POST that only reads)."""
    if request.path == "/graphql":
        return str((request.json or {}).get("query", "")).lstrip().startswith("mutation")
    return request.method in WRITE_METHODS


def writes(github: GitHubEmulator) -> list[RecordedRequest]:
    """The mutating requests GitHub received (comments, PRs, labels, reactions ...)."""
    return [r for r in github.requests if is_write(r)]


def user_texts(anthropic: AnthropicEmulator) -> list[str]:
    """The first user message (the task prompt) of each Messages request, as plain text."""
    texts = []
    for request in anthropic.message_requests:
        content = request.body["messages"][0]["content"]
        if isinstance(content, str):
            texts.append(content)
        else:
            texts.append("\n".join(block.get("text", "") for block in content if isinstance(block, dict)))
    return texts


def play(anthropic: AnthropicEmulator, text_or_path: str | Path) -> None:
    scenario = (
        load_scenario(text_or_path)
        if isinstance(text_or_path, Path)
        else parse_scenario(text_or_path, "inline.yaml")
    )
    anthropic.play(scenario)


def world_dir() -> Iterator[Path]:
    with reachable_tempdir("specship-e2e-") as parent:  # the sandbox user runs the checkout's tests
        yield parent


@contextmanager
def new_world() -> Iterator[World]:
    """A fresh World: both emulators (GitHub's answers checked against its OpenAPI at the end)."""
    for tmp in world_dir():
        with running_emulator() as github, AnthropicEmulator() as anthropic:
            yield World(github, anthropic, tmp)
