"""`specship check` on the taskboard example: every gate passes at 001, a mutation fails, four formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.code_scanning import problems, schema_errors
from tests.conftest import committed_example, reachable_tempdir, run_git

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/taskboard"
GATES = ["pytest", "security", "fastapi_auth", "contracts", "guard"]


@pytest.fixture(scope="module")
def example() -> Iterator[Path]:
    """The example at 001, committed, in a directory the sandbox user can reach."""
    with reachable_tempdir() as parent:
        yield committed_example(parent, "001")


def check(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", "--repo", str(repo), *args],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_every_gate_passes_on_the_example_at_001(example: Path) -> None:
    done = check(example, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is True
    assert [g["name"] for g in report["gates"]] == GATES
    assert all(g["passed"] and g["ran"] for g in report["gates"])


@pytest.mark.slow
def test_a_removed_auth_dependency_fails_with_file_and_line_in_every_format(example: Path) -> None:
    api = example / "backend/src/api/tasks.py"
    original = api.read_text()
    try:
        mutated = original.replace("user_id: CurrentUserId,", "", 1)
        assert mutated != original
        mutated = mutated.replace(
            "task_service.get_task(session, user_id", "task_service.get_task(session, 'x'", 1
        )
        api.write_text(mutated)
        done = check(example, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "json")
        assert done.returncode == 1
        report = json.loads(done.stdout)
        auth = next(g for g in report["gates"] if g["name"] == "fastapi_auth")
        assert auth["passed"] is False
        errors = [f for f in auth["findings"] if f["severity"] == "error"]
        assert errors
        assert all(f["file"] == "backend/src/api/tasks.py" and f["line"] for f in errors)

        sarif = json.loads(
            check(example, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "sarif").stdout
        )
        assert sarif["version"] == "2.1.0"
        assert schema_errors(sarif) == []
        assert problems(sarif) == []
        results = sarif["runs"][0]["results"]
        located = [r for r in results if r["ruleId"].startswith("fastapi_auth")]
        assert located
        assert (
            located[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "backend/src/api/tasks.py"
        )
        assert located[0]["level"] == "error"

        github = check(
            example,
            "--base",
            "HEAD",
            "--feature",
            "001-user-tasks",
            "--format",
            "github",
            GITHUB_ACTIONS="true",
        )
        assert github.returncode == 1
        assert "::error file=backend/src/api/tasks.py,line=" in github.stdout
        # the report quotes test output: it is relayed with workflow commands switched off
        lines = github.stdout.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
        end = lines.index(f"::{lines[start].removeprefix('::stop-commands::')}::")
        assert ["FAIL", "fastapi_auth"] in [line.split()[:2] for line in lines[start + 1 : end]]
        assert not any(line.startswith(("PASS", "FAIL")) for line in lines[:start] + lines[end + 1 :])

        text = check(example, "--base", "HEAD", "--feature", "001-user-tasks")
        heads = [line.split()[:2] for line in text.stdout.splitlines()]
        assert ["FAIL", "fastapi_auth"] in heads
        assert ["PASS", "contracts"] in heads
        assert text.stdout.rstrip().endswith("Verdict: FAIL")
    finally:
        api.write_text(original)


def test_check_outside_a_repository_is_one_clear_error(tmp_path: Path) -> None:
    done = check(tmp_path)
    assert done.returncode == 1
    assert "is not a git repository" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_with_an_unknown_base_names_it(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    run_git(repo, "init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "a")
    done = check(repo, "--base", "no-such-rev")
    assert done.returncode == 1
    assert "--base no-such-rev is not a commit" in done.stderr


# -- the four ways a route looked authenticated by name (issue 12), and "not verified" -------------

FAKE_AUTH = {
    "backend/src/api/export.py": """
from fastapi import APIRouter, Depends

router = APIRouter(prefix="/export")


def get_current_user_id() -> str:
    return "anyone"


@router.get("")
def export(user_id: str = Depends(get_current_user_id)) -> dict[str, str]:
    return {"user": user_id}
""",
}
UNVERIFYING_BEARER = {
    "backend/src/api/export.py": """
from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPBearer

router = APIRouter(prefix="/export")


class AnyBearer(HTTPBearer):
    async def __call__(self, request: Request):
        return await super().__call__(request)


@router.get("")
def export(token=Depends(AnyBearer())) -> dict[str, str]:
    return {"export": "all"}
""",
}
OPTIONAL_USER = {
    "backend/src/api/export.py": """
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

router = APIRouter(prefix="/export")
maybe = HTTPBearer(auto_error=False)


def optional_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(maybe)]) -> str | None:
    return credentials.credentials if credentials else None


@router.get("")
def export(user: str | None = Depends(optional_user)) -> dict[str, str]:
    return {"export": "all"}
""",
}


def _include_export(repo: Path) -> None:
    main = repo / "backend/src/main.py"
    text = main.read_text().replace("from src.api import tasks\n", "from src.api import export, tasks\n")
    text = text.replace(
        '    app.include_router(tasks.router, prefix="/api")\n',
        '    app.include_router(tasks.router, prefix="/api")\n'
        '    app.include_router(export.router, prefix="/api")\n',
    )
    main.write_text(text)


def _constant_verify(repo: Path) -> None:
    config = repo / "backend/src/config.py"
    config.write_text(config.read_text() + "\n# Verification switch.\nVERIFY_SIGNATURE = False\n")
    auth = repo / "backend/src/auth.py"
    text = auth.read_text().replace(
        "from src.config import Settings, get_settings",
        "from src.config import VERIFY_SIGNATURE, Settings, get_settings",
    )
    text = text.replace(
        'options={"require": ["exp", "sub"]},',
        'options={"require": ["exp", "sub"], "verify_signature": VERIFY_SIGNATURE},',
    )
    auth.write_text(text)


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", ["fake-auth", "unverifying-bearer", "optional-user", "constant-verify-signature"]
)
def test_each_route_that_only_looks_authenticated_fails_check(case: str) -> None:
    with reachable_tempdir() as parent:
        repo = committed_example(parent, "001")
        files = {
            "fake-auth": FAKE_AUTH,
            "unverifying-bearer": UNVERIFYING_BEARER,
            "optional-user": OPTIONAL_USER,
        }
        if case in files:
            for rel, text in files[case].items():
                (repo / rel).write_text(text.lstrip())
            _include_export(repo)
        else:
            _constant_verify(repo)
        done = check(repo, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "json")
        assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
        report = json.loads(done.stdout)
        gates = {g["name"]: g for g in report["gates"]}
        auth = gates["fastapi_auth"]
        assert auth["verdict"] == "fail"
        errors = [f for f in auth["findings"] if f["severity"] == "error"]
        if case == "constant-verify-signature":
            # The value is followed to its definition, and the probe's wrong key gets through everywhere.
            [rule] = [f for f in gates["security"]["findings"] if f["rule"] == "jwt-verify"]
            assert (rule["file"], rule["severity"]) == ("backend/src/auth.py", "error")
            assert (
                "verify_signature False accepts forged tokens (through `VERIFY_SIGNATURE`)" in rule["message"]
            )
            assert {f["message"].split(":")[0] for f in errors} == {
                "GET /api/tasks", "POST /api/tasks", "GET /api/tasks/{task_id}",
                "PATCH /api/tasks/{task_id}", "DELETE /api/tasks/{task_id}",
            }  # fmt: skip
            assert all("a token signed with the wrong key" in f["message"] for f in errors)
        else:
            [error] = errors
            assert error["message"].startswith("GET /api/export")
            source = (repo / "backend/src/api/export.py").read_text().splitlines()
            handler = next(n for n, line in enumerate(source, 1) if line.startswith("def export("))
            assert (error["file"], error["line"]) == ("backend/src/api/export.py", handler)


NOT_IMPORTABLE = {
    "backend/main.py": "import not_installed_anywhere\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
    "@app.get('/me', dependencies=[])\ndef me() -> str:\n    return 'me'\n",
    "backend/tests/test_ok.py": "def test_ok():\n    assert True\n",
    ".github/specship.yml": "app-directory: backend\npublic-routes: ['GET /me']\n",
}


def test_not_verified_shows_with_its_fix_in_text_json_and_sarif(tmp_path: Path) -> None:
    with reachable_tempdir() as parent:
        repo = parent / "r"
        for rel, text in NOT_IMPORTABLE.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(text)
        run_git(repo, "init", "-q")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "base")

        text = check(repo, "--base", "HEAD")
        assert text.returncode == 1
        assert ["NOT", "VERIFIED", "fastapi_auth"] in [line.split()[:3] for line in text.stdout.splitlines()]
        assert "not verified: the app could not be imported (ModuleNotFoundError" in text.stdout
        assert "(fix: make the app importable in the sandbox" in text.stdout
        assert text.stdout.rstrip().endswith("Verdict: NOT VERIFIED")

        report = json.loads(check(repo, "--base", "HEAD", "--format", "json").stdout)
        assert (report["passed"], report["verdict"]) == (False, "not verified")
        auth = next(g for g in report["gates"] if g["name"] == "fastapi_auth")
        assert auth["verdict"] == "not verified"
        assert [g["rule"] for g in auth["not_verified"]] == ["import-failed"]
        assert "`setup-command`" in auth["not_verified"][0]["fix"]

        sarif = json.loads(check(repo, "--base", "HEAD", "--format", "sarif").stdout)
        assert schema_errors(sarif) == []
        assert problems(sarif) == []  # the project-level gap is reported on the config
        run = sarif["runs"][0]
        assert run["properties"]["verdicts"]["fastapi_auth"] == "not verified"
        [gap] = [r for r in run["results"] if r["ruleId"] == "fastapi_auth/import-failed"]
        assert gap["level"] == "error"
        assert gap["properties"] == {"verdict": "not verified", "fix": auth["not_verified"][0]["fix"]}
        assert gap["message"]["text"].startswith("not verified: the app could not be imported")


# -- a human's pull request in plain CI (issue 15 items 5 and 6) -------------------------------------

FAILING_TEST = "backend/tests/unit/test_human_added.py"


def _place(result: dict[str, Any]) -> tuple[str, int | None]:
    physical = result["locations"][0]["physicalLocation"]
    return physical["artifactLocation"]["uri"], physical.get("region", {}).get("startLine")


@pytest.mark.slow
def test_a_human_pr_editing_a_spec_passes_and_a_failing_run_uploads_located_sarif() -> None:
    with reachable_tempdir() as parent:
        repo = committed_example(parent, "001")
        spec = repo / "specs/001-user-tasks/spec.md"
        original = spec.read_text()
        spec.write_text(original + "\nA clarification a reviewer asked for.\n")
        first_added = len(original.splitlines()) + 1  # the blank line before the clarification
        (repo / FAILING_TEST).write_text("def test_added_by_a_human():\n    assert 1 + 1 == 3\n")

        # A failing run: SARIF that code scanning takes whole, every result in a file.
        done = check(repo, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "sarif")
        assert done.returncode == 1, done.stderr[-2000:]
        assert "Judging a human's change (branch " in done.stderr
        sarif = json.loads(done.stdout)
        assert schema_errors(sarif) == []
        assert problems(sarif) == []
        results = sarif["runs"][0]["results"]
        [failed] = [r for r in results if r["ruleId"] == "pytest"]
        assert _place(failed) == (FAILING_TEST, None)
        assert failed["level"] == "error"
        [edited] = [r for r in results if r["ruleId"] == "guard/protected-path"]
        assert (edited["level"], _place(edited)) == ("warning", ("specs/001-user-tasks/spec.md", first_added))
        assert sarif["runs"][0]["properties"]["verdicts"]["guard"] == "pass"

        # The human's spec edit alone: every gate passes, the edit is a warning to review.
        (repo / FAILING_TEST).unlink()
        text = check(repo, "--base", "HEAD", "--feature", "001-user-tasks")
        assert text.returncode == 0, text.stdout[-3000:]
        assert "specs/001-user-tasks/spec.md changed by a human: allowed" in text.stdout
        assert text.stdout.rstrip().endswith("Verdict: PASS")

        # The same change on Specship's own branch is the agent's: specs/ is read-only for it.
        agent = check(
            repo, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "json",
            GITHUB_HEAD_REF="specship/001-user-tasks",
        )  # fmt: skip
        assert agent.returncode == 1
        assert (
            "Judging the agent's change (branch specship/001-user-tasks starts with specship/)"
            in agent.stderr
        )
        guard = next(g for g in json.loads(agent.stdout)["gates"] if g["name"] == "guard")
        assert guard["verdict"] == "fail"
        assert [f["rule"] for f in guard["findings"]] == ["protected-path"]
