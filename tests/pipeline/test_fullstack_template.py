"""full-stack-fastapi-template on a real PostgreSQL: the whole pipeline, as `specship local` runs it.

A fresh copy of examples/full-stack-fastapi-template (the upstream 0.10.0 backend) is one commit;
the scripted session implements specs/001-item-due-dates through the real agent loop and tools.
The test fixture starts a real PostgreSQL server (bot/eval/postgres.py); the example's own
`.github/specship.yml` supplies the setup list (Alembic migrations), test-env (POSTGRES_*, the
password passed by name and masked), public-routes and app-directory. Two things differ from a
GitHub run, each for a stated reason: `uv sync --frozen` is left out of the setup list (it would
download the template's ~40 dependencies from PyPI on every run; they are already in Specship's
dev lock, and the uv path is tested offline in tests/sandbox/test_uv_project.py), and the
database is this server on 127.0.0.1 instead of the `postgres` service container.

Cost: about 55 s on 2 busy cores (the template's suite runs twice in full, as the baseline and in
run_checks, whose verdict the final judgement reuses; the new test file twice on its own), plus
about 2 s for the server.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import actions
from bot.agent.scenario_reader import load_scenario
from bot.agent.scripted import ScriptedModel
from bot.cli.local import local_workdir
from bot.cli.progress import TerminalProgress
from bot.eval.postgres import Postgres, running_postgres
from bot.gates import GateResult
from bot.pipeline.layout import resolve_app_directory
from bot.pipeline.outcome import Outcome
from bot.pipeline.prompt import feature_prompt, load_ready_feature
from bot.pipeline.session import FeatureRun
from bot.report.build import build_body
from bot.report.validate import validate_body
from bot.settings import Settings, load
from tests.conftest import reachable_tempdir, run_git

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "full-stack-fastapi-template"
SCENARIO = EXAMPLE / "scenarios" / "001-item-due-dates.yaml"
FEATURE = "001-item-due-dates"
NEW_TESTS = "tests/api/routes/test_item_due_dates.py"
TEMPLATE_TESTS = 60  # the upstream suite (backend/tests), unchanged
NEW_TEST_CASES = 19  # test_item_due_dates.py, parametrized cases counted
PUBLIC = {
    ("POST", "/api/v1/login/access-token"),
    ("POST", "/api/v1/password-recovery/{email}"),
    ("POST", "/api/v1/reset-password/"),
    ("GET", "/api/v1/utils/health-check/"),
    ("POST", "/api/v1/users/signup"),
    ("POST", "/api/v1/private/users/"),
}
DOCS = {"/api/v1/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


@dataclass(frozen=True)
class TemplateRun:
    repo: Path
    base: str
    outcome: Outcome
    body: str
    transcript: str
    server: Postgres
    seconds: float

    def gate(self, name: str) -> GateResult:
        return next(g for g in self.outcome.gates if g.name == name)


def example_settings(server: Postgres) -> Settings:
    """The example's own configuration, with the two documented differences (see the docstring)."""
    configured = load({}, file_text=(EXAMPLE / ".github/specship.yml").read_text(encoding="utf-8"))
    assert configured.setup_command == (
        ("uv", "sync", "--frozen"),
        ("sh", "-c", "cd backend && python -m alembic upgrade head"),
    )
    assert "POSTGRES_PASSWORD" in configured.test_env  # by name: from the job's environment, masked
    local = {"POSTGRES_SERVER": server.host, "POSTGRES_PORT": str(server.port)}
    test_env = tuple(
        f"{name}={local[name]}" if name in local else item
        for item in configured.test_env
        for name in [item.partition("=")[0]]
    )
    return dataclasses.replace(configured, setup_command=configured.setup_command[1:], test_env=test_env)


@pytest.fixture(scope="module")
def template_run(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[TemplateRun]:
    with reachable_tempdir() as parent, running_postgres("app") as server:
        repo = parent / "full-stack-fastapi-template"
        shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("scenarios", "__pycache__"))
        run_git(repo, "init", "-q")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "full-stack-fastapi-template 0.10.0 with spec 001")
        base = run_git(repo, "rev-parse", "HEAD").strip()
        # The password reaches the sandbox only because test-env names it (a job secret in CI).
        monkeypatch_module.setenv("POSTGRES_PASSWORD", server.password)
        settings = resolve_app_directory(repo, example_settings(server))
        feature = load_ready_feature(repo, FEATURE, base, settings)
        workdir = local_workdir(repo, settings)
        workdir.prepare_branch(settings.branch_prefix + FEATURE, base)
        out = parent / "out"
        out.mkdir()
        rt = actions.runtime()
        started = time.monotonic()
        run = FeatureRun(
            workdir,
            settings,
            feature,
            base,
            ScriptedModel(load_scenario(SCENARIO)),
            TerminalProgress(),
            out / "transcript.jsonl",
            rt.redact,
            time.monotonic() + 20 * 60,
        )
        outcome = run.run(feature_prompt(repo, feature, settings, base=base))
        run.commit(outcome, f"Specship: implement {FEATURE}")
        head = run_git(repo, "rev-parse", "HEAD").strip()
        body = build_body(
            repo, outcome, feature, base=base, head=head, redactor=rt.redact,
            app_directory=settings.app_directory,
        )  # fmt: skip
        transcript = (out / "transcript.jsonl").read_text(encoding="utf-8")
        yield TemplateRun(repo, base, outcome, body, transcript, server, time.monotonic() - started)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.slow
def test_every_gate_passes(template_run: TemplateRun) -> None:
    outcome = template_run.outcome
    summary = {g.name: (g.passed, g.summary) for g in outcome.gates}
    assert outcome.conclusion == "success", (summary, outcome.unfinished)
    assert list(summary) == ["pytest", "security", "fastapi_auth", "contracts", "guard", "acceptance"]
    assert all(passed for passed, _ in summary.values()), summary
    assert summary["acceptance"][1] == "9 of 9 criteria proven by passing tests"


@pytest.mark.slow
def test_the_template_suite_and_the_new_tests_pass_on_postgresql(template_run: TemplateRun) -> None:
    outcomes: dict[str, str] = template_run.gate("pytest").details["outcomes"]  # type: ignore[assignment]
    new = {node: o for node, o in outcomes.items() if node.startswith(NEW_TESTS + "::")}
    old = {node: o for node, o in outcomes.items() if node not in new}
    assert set(old.values()) == {"passed"}
    assert len(old) == TEMPLATE_TESTS
    assert set(new.values()) == {"passed"}
    assert len(new) == NEW_TEST_CASES
    assert "tests/api/routes/test_items.py::test_read_item_not_enough_permissions" in old


@pytest.mark.slow
def test_the_migrations_ran_against_the_real_server(template_run: TemplateRun) -> None:
    server = template_run.server
    # The setup list migrated to the template's head; the tests' session then ran the new migration.
    assert server.psql("SELECT version_num FROM alembic_version") == "3f6b2c1d9e47"
    columns = server.psql(
        "SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns "
        "WHERE table_name = 'item' AND column_name = 'due_date'"
    )
    assert columns == "due_date date YES"


@pytest.mark.slow
def test_its_23_routes_classify_as_6_public_and_17_protected(template_run: TemplateRun) -> None:
    auth = template_run.gate("fastapi_auth")
    assert auth.details["method"] == "import", auth.details.get("error")
    rows: list[dict[str, object]] = auth.details["routes"]  # type: ignore[assignment]
    api = [r for r in rows if r["path"] not in DOCS]
    assert len(api) == 23
    public = {(r["method"], r["path"]) for r in api if r["public"]}
    assert public == PUBLIC
    assert all(not r["auth"] for r in api if r["public"])
    protected = [r for r in api if not r["public"]]
    assert len(protected) == 17
    by = sorted(str(r["auth"]) for r in protected)
    assert by.count("get_current_user") == 11, by
    assert by.count("get_current_active_superuser") == 6, by
    assert {r["path"] for r in rows if r["path"] in DOCS and r["public"]} == DOCS
    assert not auth.errors
    # The template generates its key at import: the expired probe token is signed with that one.
    assert auth.details["expired_token_key"] == "app.core.config.settings.SECRET_KEY"


@pytest.mark.slow
def test_the_pr_body_is_complete_and_keeps_the_secret_out(template_run: TemplateRun) -> None:
    body = template_run.body
    assert validate_body(body) == []
    assert "all 6 gates passed" in body
    assert "`backend/app/alembic/versions/3f6b2c1d9e47_add_due_date_to_item.py`" in body
    assert body.count("- [x] ") >= 9
    assert "| `GET` | `/api/v1/items/` |" in body or "GET /api/v1/items/" in body
    marker = json.loads(body.rsplit("<!-- specship:", 1)[1].split(" -->", 1)[0])
    assert marker["feature"] == FEATURE
    assert marker["conclusion"] == "success"
    password = template_run.server.password
    assert password not in body
    assert password not in template_run.transcript


@pytest.mark.slow
def test_the_branch_holds_the_feature_and_no_spec_change(template_run: TemplateRun) -> None:
    repo, base = template_run.repo, template_run.base
    changed = run_git(repo, "diff", "--name-only", base, "HEAD~1").split()
    assert changed == [
        "backend/app/alembic/versions/3f6b2c1d9e47_add_due_date_to_item.py",
        "backend/app/api/routes/items.py",
        "backend/app/models.py",
        "backend/tests/api/routes/test_item_due_dates.py",
        "backend/tests/conftest.py",
    ]
    assert run_git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split() == [f"specs/{FEATURE}/tasks.md"]
    assert run_git(repo, "status", "--porcelain") == ""
