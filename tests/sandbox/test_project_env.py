"""Project environments: the setup list, test-env and the venv the tests and the app then use."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import sandbox
from bot.exceptions import FatalError
from bot.gates import GateContext
from bot.gates import pytest as pytest_gate
from bot.gates.probe import load_app_info
from bot.sandbox import project_env
from bot.settings import Settings, load
from tests.conftest import reachable_tempdir

PASSWORD = "db-password-7f3a9c1e55"  # a service secret the workflow passes by name


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A repository dir the sandbox user can read (pytest's tmp_path is private to root)."""
    with reachable_tempdir() as parent:
        repo = parent / "repo"
        repo.mkdir()
        yield repo


def write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    for path in [repo, *repo.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def write_wheel(repo: Path) -> None:
    """A wheel in the repository, as a project's vendored dependency (the tree is read-only to setup)."""
    pkg = repo.parent / "src" / "greeting"
    (pkg / "greeting").mkdir(parents=True)
    (pkg / "greeting" / "__init__.py").write_text('WORD = "hello"\n')
    (pkg / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "greeting"\nversion = "1.0"\n'
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(repo / "wheels"), str(pkg)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    write(repo, {})


def configured(text: str, **environ: str) -> Settings:
    """Settings from a .github/specship.yml text and action inputs, as a run loads them."""
    return load(environ, file_text=text)


def test_without_setup_the_project_runs_with_specship_own_interpreter(reachable: Path) -> None:
    with project_env.project_environment(reachable, Settings(), environ={}, info=print) as project:
        assert project.python == sys.executable
        assert dict(project.env) == {}


def test_a_setup_list_runs_in_order_in_one_venv_the_tests_then_use(reachable: Path) -> None:
    write_wheel(reachable)
    settings = configured(
        "setup-command:\n"
        "  - pip install --no-index --quiet --find-links wheels greeting\n"
        "  - [python, -c, 'import greeting; assert greeting.WORD == \"hello\"']\n"
    )
    lines: list[str] = []
    with project_env.project_environment(reachable, settings, environ={}, info=lines.append) as project:
        venv = Path(project.python).parent.parent
        assert project.python == str(venv / "bin" / "python")
        assert project.env["VIRTUAL_ENV"] == str(venv)
        probe = sandbox.run(
            [project.python, "-c", "import greeting, pytest; print(greeting.WORD, pytest.__name__)"],
            cwd=reachable,
            timeout=60,
            env=project.env,
        )
        assert probe.ok, probe.output
        assert probe.output.strip() == "hello pytest"
    assert [line.split(" (")[0] for line in lines] == [
        "setup: pip install --no-index --quiet --find-links wheels greeting",
        "setup: python -c 'import greeting; assert greeting.WORD == \"hello\"'",
    ]
    assert not venv.exists(), "the venv is removed after the run"


def test_the_old_single_string_form_still_works(reachable: Path) -> None:
    write_wheel(reachable)
    settings = configured('setup-command: "pip install --no-index --quiet --find-links wheels greeting"\n')
    assert settings.setup_command == (
        ("pip", "install", "--no-index", "--quiet", "--find-links", "wheels", "greeting"),
    )
    with project_env.project_environment(reachable, settings, environ={}, info=print) as project:
        argv = [project.python, "-c", "import greeting"]
        done = sandbox.run(argv, cwd=reachable, timeout=60, env=project.env)
        assert done.ok, done.output


def test_a_shell_runs_only_when_the_user_writes_one(reachable: Path) -> None:
    # Explicit: sh -c gets the whole string and && means what it says.
    settings = configured('setup-command: [[sh, -c, \'test -n "$HOME" && test "$(pwd)" = "$PWD"\']]\n')
    with project_env.project_environment(reachable, settings, environ={}, info=print) as project:
        assert project.python != sys.executable
    # Implicit: refused at load time, with the file, the line and the way to say it.
    with pytest.raises(FatalError) as error:
        configured("max-turns: 5\nsetup-command: cd backend && alembic upgrade head\n")
    assert error.value.cause.startswith(".github/specship.yml:2: 'setup-command' command")
    assert "uses shell syntax ('&&')" in error.value.cause
    assert "['sh', '-c', 'cd backend && alembic upgrade head']" in error.value.fix


def test_a_failing_command_is_one_clear_error_naming_it(reachable: Path) -> None:
    settings = configured(
        "setup-command:\n  - python -c pass\n"
        "  - python -c 'raise SystemExit(\"no such requirements file\")'\n"
    )
    with (
        pytest.raises(FatalError) as error,
        project_env.project_environment(reachable, settings, environ={}, info=print),
    ):
        pass
    assert "command 2 of 2" in error.value.cause
    assert "exited with 1" in error.value.cause
    assert "no such requirements file" in error.value.cause
    assert "setup-command" in error.value.fix


def test_a_missing_program_is_named_instead_of_exit_127(reachable: Path) -> None:
    settings = configured("setup-command: [alembic-not-installed upgrade head]\n")
    with (
        pytest.raises(FatalError) as error,
        project_env.project_environment(reachable, settings, environ={}, info=print),
    ):
        pass
    assert "'alembic-not-installed' is neither in the project's virtual environment" in error.value.cause
    assert "127" not in error.value.cause
    assert "python -m alembic-not-installed" in error.value.fix


def test_test_env_reaches_setup_tests_and_the_app_probe(reachable: Path) -> None:
    check = (
        "import os, sys\n"
        "sys.exit(0 if (os.environ.get('DB_HOST'), os.environ.get('DB_PASSWORD')) == "
        f"('db.internal', {PASSWORD!r}) else 'test-env did not arrive')\n"
    )
    write(
        reachable,
        {
            "check_env.py": check,
            "tests/test_env.py": (
                "import os\n\n\ndef test_the_database_settings_arrive():\n"
                "    assert os.environ['DB_HOST'] == 'db.internal'\n"
                f"    assert os.environ['DB_PASSWORD'] == {PASSWORD!r}\n"
            ),
            "main.py": (
                "import os\nfrom fastapi import FastAPI\n\n"
                "HOST = os.environ['DB_HOST']  # settings validated at import, like pydantic-settings\n"
                "app = FastAPI()\n\n\n@app.get('/health')\ndef health() -> dict[str, str]:\n"
                "    return {'db': HOST}\n"
            ),
        },
    )
    settings = configured(
        "setup-command: [python check_env.py]\ntest-env: [DB_HOST=db.internal, DB_PASSWORD]\n"
        "public-routes: ['GET /health']\n"
    )
    masked: list[str] = []
    environ = {"DB_PASSWORD": PASSWORD}
    with project_env.project_environment(
        reachable, settings, environ=environ, mask=masked.append, info=print
    ) as project:
        assert masked == [PASSWORD]  # masked before anything ran
        assert isinstance(project.env["DB_PASSWORD"], sandbox.GrantedValue)
        run = pytest_gate.run_tests(reachable, settings.test_command, python=project.python, env=project.env)
        assert run.outcomes == {"tests/test_env.py::test_the_database_settings_arrive": "passed"}, run.output
        ctx = GateContext(reachable, None, settings, None, project.python, project.env)
        info = load_app_info(ctx)
        assert info.source == "import", info.error
        assert [r.path for r in info.routes if not r.docs] == ["/health"]
    # Without test-env the same app cannot be imported: the probe falls back to reading the source.
    bare = GateContext(reachable, None, settings, None)
    assert load_app_info(bare).source == "static"


def test_a_missing_pass_through_name_says_where_to_set_it(reachable: Path) -> None:
    settings = configured("test-env: [POSTGRES_PASSWORD]\n")
    with (
        pytest.raises(FatalError) as error,
        project_env.project_environment(reachable, settings, environ={}, info=print),
    ):
        pass
    assert "passes POSTGRES_PASSWORD from the job's environment" in error.value.cause
    assert "POSTGRES_PASSWORD: ${{ secrets.POSTGRES_PASSWORD }}" in error.value.fix


def test_src_layouts_are_importable_by_the_probe_and_the_tests(reachable: Path) -> None:
    write(
        reachable,
        {
            "src/shop/__init__.py": "",
            "src/shop/config.py": "NAME = 'shop'\n",
            "src/shop/main.py": (
                "from fastapi import FastAPI\nfrom shop.config import NAME\n\napp = FastAPI(title=NAME)\n\n\n"
                "@app.get('/health')\ndef health() -> dict[str, str]:\n    return {'ok': NAME}\n"
            ),
            "tests/test_shop.py": (
                "from shop.config import NAME\n\n\ndef test_name():\n    assert NAME == 'shop'\n"
            ),
        },
    )
    settings = dataclasses.replace(Settings(), public_routes=("GET /health",))
    with project_env.project_environment(reachable, settings, environ={}, info=print) as project:
        assert project.env["PYTHONPATH"] == "src"
        run = pytest_gate.run_tests(reachable, settings.test_command, python=project.python, env=project.env)
        assert run.outcomes == {"tests/test_shop.py::test_name": "passed"}, run.output
        info = load_app_info(GateContext(reachable, None, settings, None, project.python, project.env))
        assert info.source == "import", info.error
        assert info.app == "shop.main:app"


def test_a_python_the_machine_does_not_have_names_both_versions(reachable: Path) -> None:
    write(reachable, {".python-version": "3.99\n"})
    with (
        pytest.raises(FatalError) as error,
        project_env.project_environment(reachable, Settings(), environ={}, info=print),
    ):
        pass
    own = ".".join(map(str, sys.version_info[:3]))
    assert "The project needs Python 3.99 (.python-version)" in error.value.cause
    assert f"this machine has {own} ({sys.executable})" in error.value.cause
    assert "Allow a version this machine has in .python-version" in error.value.fix
    assert "an image that has a matching Python" in error.value.fix


def test_requires_python_is_read_from_the_app_directory(reachable: Path) -> None:
    write(reachable, {"backend/pyproject.toml": '[project]\nname = "b"\nrequires-python = ">=3.99"\n'})
    settings = dataclasses.replace(Settings(), app_directory="backend")
    with (
        pytest.raises(FatalError) as error,
        project_env.project_environment(reachable, settings, environ={}, info=print),
    ):
        pass
    assert "requires-python '>=3.99' (backend/pyproject.toml)" in error.value.cause
    assert os.path.basename(sys.executable) in error.value.cause
