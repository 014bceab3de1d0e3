"""The app is imported in a thread of its own once no other sandboxed process runs, beside the guard."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.gates import GateContext
from bot.gates.probe import start_app_info
from bot.gates.run import ORDER, _schedule, run_all
from bot.settings import Settings
from tests.conftest import reachable_tempdir, run_git

# The import cannot finish before the test creates GO, which it only does once start_app_info has
# returned: a synchronous import would wait out the 30 s and fall back to reading the source.
APP = """
    import os
    import time

    from fastapi import FastAPI

    GO = {go!r}
    deadline = time.monotonic() + 30
    while not os.path.exists(GO) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not os.path.exists(GO):
        raise RuntimeError("the test never let the import finish")

    app = FastAPI()


    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {{"ping": "pong"}}
"""


def app_repo(parent: Path) -> tuple[Path, Path]:
    repo, go = parent / "repo", parent / "go"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "__init__.py").write_text("")
    (repo / "app" / "main.py").write_text(textwrap.dedent(APP.format(go=str(go))).lstrip())
    run_git(repo, "init", "-q")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "base")
    return repo, go


def context(repo: Path) -> GateContext:
    return GateContext(repo, "HEAD", Settings(app_directory=".", app="app.main:app"))


def test_the_import_runs_in_the_background_until_its_result_is_read() -> None:
    with reachable_tempdir() as parent:
        repo, go = app_repo(parent)
        wait = start_app_info(context(repo), timeout=60)
        go.write_text("go")  # only now can the import finish
        info = wait()
        assert info.source == "import", info.error
        assert [(r.methods, r.path) for r in info.routes if not r.docs] == [(("GET",), "/ping")]


def test_the_gates_report_in_their_order_with_the_app_read_by_import() -> None:
    with reachable_tempdir() as parent:
        repo, go = app_repo(parent)
        go.write_text("go")
        (repo / "app" / "extra.py").write_text("VALUE = 1\n")
        results = run_all(context(repo), only=("fastapi_auth", "security", "guard"))
        assert [r.name for r in results] == ["fastapi_auth", "security", "guard"]
        auth = results[0]
        assert auth.ran, auth.summary
        assert auth.details["method"] == "import", auth.details


def test_the_import_never_runs_beside_another_sandboxed_process() -> None:
    # The app's import is untrusted code under the sandbox user, as are the tests and bandit: beside
    # them it could signal them or write bandit's report. It starts after both, beside guard only.
    assert _schedule(ORDER) == ["pytest", "security", "guard", "fastapi_auth", "contracts"]
    assert _schedule(("contracts", "guard", "security", "pytest")) == [
        "security",
        "pytest",
        "guard",
        "contracts",
    ]
