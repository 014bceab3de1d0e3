"""End-to-end harness: `python -m bot run` as a subprocess against the GitHub and Anthropic emulators."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.scenario import load_scenario, parse_scenario
from tests.conftest import run_git
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator
from tests.fakes.github_api import GitHubEmulator
from tests.fakes.github_fixture import ACTIONS_TOKEN, REPO

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

    def outputs(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for line in (self.tmp / "output").read_text().splitlines():
            if "=" in line and "<<" not in line:
                name, value = line.split("=", 1)
                values[name] = value
        return values

    def label_payload(self, issue: int, label: str = "specship", sender: str = "bob") -> dict[str, Any]:
        payload = json.loads((WEBHOOKS / "issues/labeled.payload.json").read_text())
        payload["label"]["name"] = label
        payload["issue"]["number"] = issue
        payload["issue"]["title"] = f"Implement specs/{FEATURE}"
        payload["issue"]["body"] = f"Please implement specs/{FEATURE}/ (due dates)."
        payload["sender"]["login"] = sender
        payload["sender"]["type"] = "Bot" if sender.endswith("[bot]") else "User"
        owner, name = REPO.split("/")
        payload["repository"].update(full_name=REPO, name=name, default_branch="main")
        payload["repository"]["owner"]["login"] = owner
        return payload

    def comment_payload(
        self, number: int, body: str, author: str = "bob", comment_id: int = 9001
    ) -> dict[str, Any]:
        payload = json.loads((WEBHOOKS / "go-playground/pull-request-issue-comment.json").read_text())
        payload["issue"]["number"] = number
        payload["comment"].update(body=body, id=comment_id)
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


def play(anthropic: AnthropicEmulator, text_or_path: str | Path) -> None:
    scenario = (
        load_scenario(text_or_path)
        if isinstance(text_or_path, Path)
        else parse_scenario(text_or_path, "inline.yaml")
    )
    anthropic.play(scenario)


def world_dir() -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="specship-e2e-"))
    parent.chmod(0o755)  # the sandbox user runs the example's tests from the checkout
    try:
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)
