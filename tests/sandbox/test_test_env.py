"""test-env: literals and names passed from the job; secrets only by explicit name, masked first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import sandbox
from bot.exceptions import FatalError
from bot.redact import Redactor
from bot.sandbox.test_env import resolve_test_env
from tests.conftest import reachable_tempdir

DB_PASSWORD = "s3rvice-db-pass-91c2"
GITHUB_TOKEN = "ghs_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
JOB = {"POSTGRES_PASSWORD": DB_PASSWORD, "GITHUB_TOKEN": GITHUB_TOKEN, "PORT": "5432"}


@pytest.fixture
def reachable() -> Iterator[Path]:
    with reachable_tempdir() as parent:
        yield parent


def resolve(entries: tuple[str, ...], environ: dict[str, str] = JOB) -> tuple[dict[str, str], list[str]]:
    masked: list[str] = []
    return resolve_test_env(entries, environ, masked.append), masked


def refused(entries: tuple[str, ...], environ: dict[str, str] = JOB) -> FatalError:
    with pytest.raises(FatalError) as error:
        resolve(entries, environ)
    return error.value


def test_literals_are_taken_as_written_and_not_masked() -> None:
    values, masked = resolve(("POSTGRES_SERVER=localhost", "CORS=http://a,http://b", "EMPTY="))
    assert values == {"POSTGRES_SERVER": "localhost", "CORS": "http://a,http://b", "EMPTY": ""}
    assert masked == []
    assert not any(isinstance(v, sandbox.GrantedValue) for v in values.values())


def test_a_name_passes_the_job_value_masked_before_it_is_used() -> None:
    values, masked = resolve(("POSTGRES_PASSWORD", "PORT"))
    assert values == {"POSTGRES_PASSWORD": DB_PASSWORD, "PORT": "5432"}
    assert masked == [DB_PASSWORD, "5432"]
    assert isinstance(values["POSTGRES_PASSWORD"], sandbox.GrantedValue)
    # What masking does: the runtime's redactor then hides it everywhere Specship prints or posts.
    redact = Redactor(masked)
    assert redact(f"could not connect with {DB_PASSWORD}") == "could not connect with [REDACTED]"


@pytest.mark.parametrize(
    "entry",
    ["GITHUB_TOKEN", "GITHUB_TOKEN=x", "ANTHROPIC_API_KEY", "INPUT_GITHUB_TOKEN=x", "ACTIONS_RUNTIME_TOKEN",
     "LD_PRELOAD=/tmp/x.so", "HOME=/root", "AWS_SECRET_ACCESS_KEY", "GIT_SSH_COMMAND=sh"],
)  # fmt: skip
def test_specship_credentials_and_runner_files_are_never_passed(entry: str) -> None:
    job = {**JOB, "ANTHROPIC_API_KEY": "sk-ant-api03-" + "x" * 30, "AWS_SECRET_ACCESS_KEY": "y" * 40}
    error = refused((entry,), {**job, "ACTIONS_RUNTIME_TOKEN": "z" * 40})
    assert "may not be passed to sandboxed code" in error.cause
    assert GITHUB_TOKEN not in str(error)


@pytest.mark.parametrize("name", ["PATH", "VIRTUAL_ENV", "PYTHONHOME"])
def test_the_names_specship_sets_for_the_venv_are_reserved(name: str) -> None:
    assert f"may not set {name}" in refused((f"{name}=/x",)).cause


def test_a_credential_written_into_the_file_is_refused_with_the_way_to_pass_it() -> None:
    error = refused((f"DEPLOY_TOKEN={GITHUB_TOKEN}",))
    assert "is a credential" in error.cause
    assert GITHUB_TOKEN not in error.cause
    assert "list the name alone" in error.fix


def test_a_job_secret_copied_under_another_name_is_refused() -> None:
    # The value of a secret-looking job variable may enter only under its own, granted name.
    error = refused((f"DB_PASS={DB_PASSWORD}",))
    assert "is a credential" in error.cause


def test_a_credential_shaped_value_is_refused_even_by_name() -> None:
    error = refused(("MY_PAT",), {"MY_PAT": GITHUB_TOKEN})
    assert "is a credential" in error.cause
    assert "never Specship's own tokens" in error.fix


def test_a_missing_name_and_a_duplicate_are_clear_errors() -> None:
    missing = refused(("REDIS_URL",))
    assert "passes REDIS_URL from the job's environment" in missing.cause
    assert "REDIS_URL: ${{ secrets.REDIS_URL }}" in missing.fix
    twice = refused(("PORT", "PORT=1"))
    assert twice.cause == "test-env sets PORT twice."


def test_a_granted_secret_reaches_the_sandboxed_child_and_nothing_else_does(reachable: Path) -> None:
    values, _ = resolve(("POSTGRES_PASSWORD",))
    done = sandbox.run(
        [
            "python3",
            "-c",
            "import os; print(os.environ['POSTGRES_PASSWORD'], os.environ.get('GITHUB_TOKEN'))",
        ],
        cwd=reachable,
        timeout=30,
        env=values,
    )
    assert done.ok, done.output
    assert done.output.split() == [DB_PASSWORD, "None"]


def test_without_the_grant_the_same_secret_value_is_refused_at_the_boundary(
    reachable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", DB_PASSWORD)
    with pytest.raises(ValueError, match="is a credential"):
        sandbox.run(["true"], cwd=reachable, timeout=30, env={"POSTGRES_PASSWORD": DB_PASSWORD})
    # A plain str derived from a granted value loses the grant: fails closed.
    granted = sandbox.GrantedValue(DB_PASSWORD)
    with pytest.raises(ValueError, match="is a credential"):
        sandbox.run(["true"], cwd=reachable, timeout=30, env={"POSTGRES_PASSWORD": granted.strip()})
    assert sandbox.run(["true"], cwd=reachable, timeout=30, env={"POSTGRES_PASSWORD": granted}).ok
