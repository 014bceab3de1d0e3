"""The security gate: bandit with our config in the sandbox, secrets on added lines, FastAPI leak patterns."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.gates import Finding, GateContext, GateResult, security
from bot.gates.diffs import load_diff
from bot.settings import Settings
from tests.conftest import committed_example, reachable_tempdir, run_git

TASKS = "backend/src/api/tasks.py"
CONFIG = "backend/src/config.py"


@pytest.fixture
def shared() -> Iterator[Path]:
    """A world-readable temp dir: the sandbox user must reach the repository inside."""
    with reachable_tempdir() as parent:
        yield parent


@pytest.fixture
def example(shared: Path) -> Path:
    """The taskboard example at 001, committed as the base."""
    return committed_example(shared)


@pytest.fixture
def small(shared: Path) -> Callable[[dict[str, str]], Path]:
    """Factory: a small committed repository the sandbox can read."""

    def make(files: dict[str, str]) -> Path:
        repo = shared / "repo"
        repo.mkdir()
        run_git(repo, "init", "-q")
        for rel, text in files.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(text, encoding="utf-8")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "--allow-empty", "-m", "base")
        return repo

    return make


def run(repo: Path, base: str | None = "HEAD") -> GateResult:
    return security.gate(GateContext(repo, base, Settings()))


def append(repo: Path, rel: str, text: str) -> int:
    """Append `text` to a file; returns the line number of its first line."""
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 1


def line_of(repo: Path, rel: str, needle: str) -> int:
    for number, line in enumerate((repo / rel).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {rel}")


def by_rule(result: GateResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule]


# -- the example and the required mutations ---------------------------------------------------------


def test_example_passes_whole_tree_and_unchanged(example: Path) -> None:
    whole = run(example, base=None)  # every file counts as added: bandit, secrets and AST on all of it
    assert whole.ran
    assert whole.passed, [f.render() for f in whole.errors]
    assert len(whole.details["scanned"]) > 20  # type: ignore[arg-type]
    assert run(example).passed


def test_detail_str_e_in_a_handler_fails(example: Path) -> None:
    rel = TASKS
    text = (example / rel).read_text(encoding="utf-8")
    text = text.replace(
        "    except TaskNotFoundError:\n        raise _not_found() from None\n\n\n@router.patch",
        "    except TaskNotFoundError:\n        raise _not_found() from None\n"
        "    except Exception as e:\n"
        "        raise HTTPException(status_code=500, detail=str(e)) from e\n\n\n@router.patch",
    )
    (example / rel).write_text(text, encoding="utf-8")
    result = run(example)
    assert not result.passed
    (finding,) = result.errors
    assert finding.rule == "error-leak"
    assert finding.location == f"{rel}:{line_of(example, rel, 'detail=str(e)')}"


def test_hard_coded_jwt_secret_fails(example: Path) -> None:
    line = append(example, CONFIG, 'JWT_SECRET = "s3cr3t-taskboard-signing-key-2024"\n')
    result = run(example)
    assert not result.passed
    assert {(f.rule, f.location) for f in result.errors} == {
        ("secret", f"{CONFIG}:{line}"),
        ("secret-default", f"{CONFIG}:{line}"),
    }
    assert all("s3cr3t" not in f.message for f in result.errors)  # the value is never repeated


def test_tc27_nosec_and_bandit_skips_do_not_hide_b602(example: Path) -> None:
    line = append(
        example,
        TASKS,
        "\n\ndef run_command(cmd: str) -> int:\n    import subprocess\n\n"
        "    return subprocess.call(cmd, shell=True)  # nosec\n",
    )
    call_line = line + 5
    pyproject = append(example, "backend/pyproject.toml", '\n[tool.bandit]\nskips = ["B602", "B404"]\n')
    append(example, "backend/.bandit", "[bandit]\nskips = B602,B404\n")
    result = run(example)
    assert not result.passed
    (b602,) = by_rule(result, "B602")
    assert (b602.severity, b602.location) == ("error", f"{TASKS}:{call_line}")
    reviews = {f.location for f in by_rule(result, "needs-human-review")}
    assert reviews == {f"backend/pyproject.toml:{pyproject + 1}", "backend/.bandit:1"}
    assert all(f.severity == "warning" for f in by_rule(result, "needs-human-review"))


# -- bandit ----------------------------------------------------------------------------------------------


def test_bandit_reports_only_changed_lines_as_errors(small: Callable[[dict[str, str]], Path]) -> None:
    old = "import subprocess\n\n\ndef a(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    repo = small({"src/legacy.py": old})
    append(repo, "src/legacy.py", "\n\ndef b():\n    return 1\n")
    result = run(repo)
    (b602,) = by_rule(result, "B602")
    assert b602.severity == "warning"
    assert "unchanged since the base commit" in b602.message
    assert result.passed


def test_bandit_default_excludes_and_test_asserts(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({})
    shell = "import subprocess\n\n\ndef a(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    append(repo, "src/CVSreader.py", shell)  # bandit's default -x would skip any path containing "CVS"
    append(repo, "src/app.py", "def f(x):\n    assert x\n")
    append(repo, "tests/test_app.py", "def test_f():\n    assert True\n")
    result = run(repo)
    assert {f.location for f in by_rule(result, "B602")} == {"src/CVSreader.py:5"}
    assert {f.location for f in by_rule(result, "B101")} == {"src/app.py:2"}  # not tests/test_app.py
    assert by_rule(result, "B101")[0].severity == "warning"  # low severity


def test_a_bandit_package_in_the_repository_cannot_fake_the_report(
    small: Callable[[dict[str, str]], Path],
) -> None:
    repo = small({})
    fake = (
        'import sys\nopen(sys.argv[sys.argv.index("-o") + 1], "w").write(\'{"results": [], "errors": []}\')\n'
    )
    append(repo, "bandit/__init__.py", "")
    append(repo, "bandit/__main__.py", fake)
    append(repo, "app.py", "import subprocess\nsubprocess.call('ls', shell=True)\n")
    result = run(repo)
    assert {f.location for f in by_rule(result, "B602")} == {"app.py:2"}


def test_unparseable_python_is_an_error(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({})
    append(repo, "src/broken.py", "def f(:\n")
    result = run(repo)
    assert [f.rule for f in result.errors] == ["bandit-error"]
    assert result.errors[0].file == "src/broken.py"


# -- secrets ----------------------------------------------------------------------------------------------

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def test_secret_on_an_added_line_is_reported(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({"src/settings.py": "import os\n"})
    append(repo, "src/settings.py", f'GH = "{GITHUB_TOKEN}"\n')
    result = run(repo)
    secrets = by_rule(result, "secret")
    assert {f.location for f in secrets} == {"src/settings.py:2"}
    assert any("GitHub Token" in f.message for f in secrets)
    assert all(GITHUB_TOKEN not in f.render() for f in result.findings)


def test_secret_already_in_the_base_is_not_reported(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({"src/settings.py": f'GH = "{GITHUB_TOKEN}"\n'})
    append(repo, "src/settings.py", "X = 1\n")
    assert by_rule(run(repo), "secret") == []


def test_allowlist_pragma_is_honoured_in_tests_only(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({})
    fake = 'SIGNING_SECRET = "test-signing-secret-not-for-production"'
    append(repo, "tests/test_auth.py", f"# pragma: allowlist nextline secret\n{fake}\n")
    append(repo, "tests/test_more.py", f"{fake}  # pragma: allowlist secret\n")
    append(repo, "tests/test_token.py", f'GH = "{GITHUB_TOKEN}"  # pragma: allowlist secret\n')
    append(repo, "src/auth.py", f"{fake}  # pragma: allowlist secret\n")
    secrets = by_rule(run(repo), "secret")
    assert {f.location for f in secrets} == {"tests/test_token.py:1", "src/auth.py:1"}
    assert all("pragma" in f.message for f in secrets)


def test_secret_in_a_test_file_without_pragma_is_reported(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({})
    append(repo, "tests/test_auth.py", 'SIGNING_SECRET = "test-signing-secret-not-for-production"\n')
    assert {f.location for f in by_rule(run(repo), "secret")} == {"tests/test_auth.py:1"}


def test_alembic_revision_ids_are_not_secrets(small: Callable[[dict[str, str]], Path]) -> None:
    """A new migration names its own and its parent's 12-hex-digit revision (issue 15: the template)."""
    repo = small({})
    migration = "app/alembic/versions/b1d2e3f4a5c6_due_dates.py"
    append(
        repo,
        migration,
        "revision = 'b1d2e3f4a5c6'\ndown_revision = 'fe56fa70289e'\nbranch_labels = None\n"
        "SIGNATURE = '9f8e2b7c41d0a63e5f1b9c8d27e4a0f6b3c5d719'\n",
    )
    append(repo, "app/settings.py", "revision = 'fe56fa70289e'\n")  # not a migrations folder
    secrets = by_rule(run(repo), "secret")
    assert {f.location for f in secrets} == {f"{migration}:4", "app/settings.py:1"}


# -- FastAPI patterns (AST) ---------------------------------------------------------------------------


TRY = "try:\n    x()\n"


def scan(source: str, path: str = "src/app.py", changed: set[int] | None = None) -> list[tuple[str, int]]:
    return [(f.rule, f.line or 0) for f in security.scan_source(path, textwrap.dedent(source), changed)]


@pytest.mark.parametrize(
    "source",
    [
        TRY + "except Exception as e:\n    raise HTTPException(500, detail=str(e))\n",
        TRY + "except ValueError as exc:\n    raise HTTPException(400, f'bad: {exc}')\n",
        TRY + "except ValueError as err:\n    raise HTTPException(status_code=400, detail=repr(err))\n",
        TRY + "except Exception:\n    return JSONResponse(content={'trace': traceback.format_exc()})\n",
        "@app.exception_handler(Exception)\nasync def h(request, exc):\n"
        "    return JSONResponse(500, {'detail': str(exc)})\n",
        "def h(request, exc: ValueError):\n    return JSONResponse(content={'detail': exc.args})\n",
        TRY + "except Exception as e:\n    return {'error': str(e)}\n",
    ],
)
def test_error_leak_detected(source: str) -> None:
    found = scan(source)
    assert [rule for rule, _ in found] == ["error-leak"]
    assert found[0][1] == len(source.splitlines())


@pytest.mark.parametrize(
    "source",
    [
        TRY + "except KeyError:\n    raise HTTPException(404, detail='Task not found')\n",
        TRY + "except HTTPException as e:\n    raise HTTPException(e.status_code, detail=e.detail)\n",
        TRY
        + "except Exception as e:\n    logger.error('failed: %s', str(e))\n    raise HTTPException(500)\n",
        "error = 'Task not found'\nraise HTTPException(404, detail=str(error))\n",
    ],
)
def test_error_leak_not_detected(source: str) -> None:
    assert scan(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "session.exec(text(f\"SELECT * FROM task WHERE title = '{title}'\"))\n",
        "cursor.execute('SELECT * FROM task WHERE id = %s' % task_id)\n",
        "session.execute(text('SELECT * FROM task WHERE id = {}'.format(task_id)))\n",
        "conn.exec_driver_sql('DELETE FROM task WHERE id = ' + task_id)\n",
        "def f(title):\n    query = f\"SELECT * FROM task WHERE title = '{title}'\"\n"
        "    return session.exec(text(query))\n",
        "def f(t):\n    q = 'SELECT * FROM task'\n    q += ' WHERE title = ' + t\n"
        "    return conn.execute(q)\n",
    ],
)
def test_sql_formatting_detected(source: str) -> None:
    assert [rule for rule, _ in scan(source)] == ["sql-format"]


@pytest.mark.parametrize(
    "source",
    [
        "session.exec(text('SELECT * FROM task WHERE id = :id').bindparams(id=task_id))\n",
        "session.exec(select(Task).where(Task.id == task_id))\n",
        "session.execute(text(f'SELECT count(*) FROM {TABLE_NAME}'))\n",
        "session.execute(text('SELECT 1'))\n",
        "message = f'hello {name}'\n",
    ],
)
def test_sql_formatting_not_detected(source: str) -> None:
    assert scan(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "import jwt\nclaims = jwt.decode(token, key)\n",
        "import jwt\n"
        "claims = jwt.decode(token, key, algorithms=['HS256'], options={'verify_signature': False})\n",
        "from jose import jwt\nclaims = jwt.decode(token, key, algorithms=['HS256'], verify=False)\n",
        "from jwt import decode\nclaims = decode(token, key)\n",
        "import jwt as pyjwt\nclaims = pyjwt.decode(token, key, algorithms=['none'])\n",
        # the value followed through names in the same module
        "import jwt\nVERIFY = False\n"
        "claims = jwt.decode(token, key, algorithms=['HS256'], options={'verify_signature': VERIFY})\n",
        "import jwt\nOPTIONS = {'verify_exp': False}\n"
        "claims = jwt.decode(token, key, algorithms=['HS256'], options=OPTIONS)\n",
        "import jwt\nALGS = ['HS256', 'none']\nclaims = jwt.decode(token, key, algorithms=ALGS)\n",
        "import jwt\nNONE = 'none'\nclaims = jwt.decode(token, key, algorithms=[NONE])\n",
    ],
)
def test_jwt_without_verification_detected(source: str) -> None:
    assert [(rule, line) for rule, line in scan(source)] == [("jwt-verify", source.count("\n"))]


@pytest.mark.parametrize(
    "source",
    [
        "import jwt\nclaims = jwt.decode(token, key, algorithms=[settings.jwt_algorithm])\n",
        "import jwt\nclaims = jwt.decode(token, key, ['HS256'])\n",
        "import jwt\nclaims = jwt.decode(token, **opts)\n",
        "import base64\ndata = base64.decode(a, b)\n",
        "value = payload.decode('utf-8')\n",
    ],
)
def test_jwt_verified_not_detected(source: str) -> None:
    assert scan(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "import os\nSECRET = os.getenv('JWT_SECRET', 'dev-secret')\n",
        "import os\nkey = os.environ.get('API_KEY', 'abc123')\n",
        "from os import getenv\ntoken = getenv('GITHUB_TOKEN', default='x')\n",
        "class Settings(BaseSettings):\n    jwt_secret: str = 'change-me'\n",
        "class Settings(BaseSettings):\n    database_password: str = Field(default='postgres')\n",
        "class AppConfig:\n    api_key = 'k-123'\n",
        "JWT_SECRET = 's3cr3t'\n",
        "def sign(data, secret_key: str = 'dev'):\n    return data\n",
        "import os\nFALLBACK = 'dev-secret-1'\nSECRET = os.getenv('JWT_SECRET', FALLBACK)\n",
        "import os\nNAME = 'JWT_SECRET'\nSECRET = os.getenv(NAME, 'dev-secret-1')\n",
        "import os\nSECRET = os.environ.get('SECRET_KEY') or 'changeme'\n",
    ],
)
def test_secret_default_detected(source: str) -> None:
    assert [rule for rule, _ in scan(source)] == ["secret-default"]


@pytest.mark.parametrize(
    "source",
    [
        "import os\nSECRET = os.getenv('JWT_SECRET')\n",
        "import os\nSECRET = os.environ.get('JWT_SECRET', '')\n",
        "import os\nlevel = os.getenv('LOG_LEVEL', 'info')\n",
        "class Settings(BaseSettings):\n    jwt_algorithm: str = 'HS256'\n    jwt_secret: str\n",
        "SECRET_ENV = 'JWT_SECRET'\nJWT_SECRET_VAR = 'JWT_SECRET'\nTOKEN = 'JWT_SECRET'\n",
        "class Task(SQLModel):\n    token: str = 'x'\n",  # not a settings class
        "import os\nSECRET = os.environ.get('SECRET_KEY') or os.environ['FALLBACK_KEY']\n",
        "import jwt\nVERIFY = True\n"
        "claims = jwt.decode(token, key, algorithms=['HS256'], options={'verify_signature': VERIFY})\n",
    ],
)
def test_secret_default_not_detected(source: str) -> None:
    assert scan(source) == []


def test_ast_findings_on_unchanged_lines_are_warnings() -> None:
    source = "import jwt\nclaims = jwt.decode(token, key)\nother = 1\n"
    findings = security.scan_source("src/app.py", source, changed={3})
    assert [(f.rule, f.severity) for f in findings] == [("jwt-verify", "warning")]
    findings = security.scan_source("src/app.py", source, changed={2})
    assert [(f.rule, f.severity) for f in findings] == [("jwt-verify", "error")]


def test_ast_rules_skip_test_files(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({})
    append(repo, "tests/test_x.py", "import jwt\n\n\ndef test_x():\n    jwt.decode(token, 'k')\n")
    assert by_rule(run(repo), "jwt-verify") == []
    append(repo, "src/x.py", "import jwt\n\n\ndef f(token):\n    return jwt.decode(token, 'k')\n")
    assert {f.location for f in by_rule(run(repo), "jwt-verify")} == {"src/x.py:5"}


# -- configuration that needs a human ------------------------------------------------------------------

PYPROJECT = (
    '[project]\nname = "x"\n\n[tool.ruff]\nline-length = 100\n\n[tool.pytest.ini_options]\naddopts = "-ra"\n'
)


def test_review_flags(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({"backend/pyproject.toml": PYPROJECT, "backend/tests/conftest.py": "import pytest\n"})
    text = (
        PYPROJECT.replace('addopts = "-ra"', 'addopts = "-ra -q"') + "\n[tool.coverage.run]\nbranch = true\n"
    )
    (repo / "backend/pyproject.toml").write_text(text, encoding="utf-8")
    append(repo, "backend/tests/conftest.py", "X = 1\n")
    append(repo, "setup.cfg", "[metadata]\nname = x\n")
    flags = security.review_flags(load_diff(repo, "HEAD"), GateContext(repo, "HEAD", Settings()), "HEAD")
    assert sorted((f.location, f.severity) for f in flags) == [
        ("backend/pyproject.toml:10", "warning"),  # the new [tool.coverage.run] header
        ("backend/pyproject.toml:8", "warning"),
        ("backend/tests/conftest.py:2", "warning"),
        ("setup.cfg:1", "warning"),
    ]
    assert all(f.message.startswith("needs human review") for f in flags)


def test_review_flags_ignore_other_pyproject_sections(small: Callable[[dict[str, str]], Path]) -> None:
    repo = small({"backend/pyproject.toml": PYPROJECT})
    edit = PYPROJECT.replace("line-length = 100", "line-length = 110").replace('name = "x"', 'name = "y"')
    (repo / "backend/pyproject.toml").write_text(edit, encoding="utf-8")
    assert security.review_flags(load_diff(repo, "HEAD"), GateContext(repo, "HEAD", Settings()), "HEAD") == []


SETTINGS_MODULE = """
from pydantic_settings import BaseSettings

VERIFY_SIGNATURE = False


class Settings(BaseSettings):
    JWT_ALGORITHM: str = "none"


settings = Settings()
"""
AUTH_MODULE = """
import jwt

from app.config import VERIFY_SIGNATURE, settings


def decode(token: str, key: str) -> dict:
    options = {"verify_signature": VERIFY_SIGNATURE}
    return jwt.decode(token, key, algorithms=[settings.JWT_ALGORITHM], options=options)
"""


def test_values_are_followed_into_other_modules_and_settings_classes(
    small: Callable[[dict[str, str]], Path],
) -> None:
    repo = small({"app/__init__.py": "", "app/config.py": SETTINGS_MODULE})
    (repo / "app/auth.py").write_text(AUTH_MODULE, encoding="utf-8")
    found = sorted(f.message for f in by_rule(run(repo), "jwt-verify"))
    assert found == [
        "jwt.decode() allows the 'none' algorithm (unsigned tokens) (through `settings.JWT_ALGORITHM`)",
        "jwt.decode() with verify_signature False accepts forged tokens (through `VERIFY_SIGNATURE`)",
    ]
    assert {f.file for f in by_rule(run(repo), "jwt-verify")} == {"app/auth.py"}


def test_spec_folders_are_left_out_of_the_secret_scan_before_it_runs(
    small: Callable[[dict[str, str]], Path],
) -> None:
    repo = small({"src/settings.py": "import os\n", "specs/001-x/spec.md": "# Spec\n"})
    append(repo, "src/settings.py", f'GH = "{GITHUB_TOKEN}"\n')
    append(repo, "specs/001-x/spec.md", f"Example token: {GITHUB_TOKEN}\n")
    append(repo, ".specify/memory/notes.md", f"{GITHUB_TOKEN}\n")
    run_git(repo, "mv", "specs/001-x/spec.md", "src/spec_copy.md")
    run_git(repo, "add", "-A")  # the .specify file is new: staged, so `git diff HEAD` shows it
    diff = run_git(repo, "diff", "HEAD")
    kept = security.scanned_part(diff)
    assert "diff --git a/src/settings.py" in kept
    assert "src/spec_copy.md" in kept  # moved out of specs/: its new side is scanned
    assert ".specify/" not in kept
    assert {f.location for f in by_rule(run(repo), "secret")} == {"src/settings.py:2", "src/spec_copy.md:2"}


def test_the_secret_scan_keeps_every_section_outside_the_spec_folders() -> None:
    diff = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1,2 @@\n x\n+++ b/specs/not-a-header\n"
        'diff --git "a/q\\tname" "b/q\\tname"\n--- "a/q\\tname"\n+++ "b/q\\tname"\n@@ -0,0 +1 @@\n+y\n'
        "diff --git a/specs/s.md b/specs/s.md\n--- a/specs/s.md\n+++ b/specs/s.md\n@@ -0,0 +1 @@\n+z\n"
    )
    kept = security.scanned_part(diff)
    assert kept == diff[: diff.index("diff --git a/specs/s.md")]
