"""The fastapi_auth gate: real fixture apps imported in the real sandbox, and read statically."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot import sandbox
from bot.gates import GateContext, GateResult
from bot.gates.app_model import AppInfo
from bot.gates.app_source import locate_app
from bot.gates.auth_rules import matches_public
from bot.gates.fastapi_auth import gate, route_table
from bot.gates.probe import PLACEHOLDER, load_app_info, parse_probe_output, probe_env
from bot.gates.static_routes import static_app_info
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TASKBOARD = ROOT / "examples" / "taskboard"
METHODS = ("import", "static")

Factory = Callable[[dict[str, str]], Path]


@pytest.fixture(scope="module")
def world_dirs() -> Iterator[Factory]:
    """Factory of fixture repos the sandbox user can read (pytest's tmp_path is 0700)."""
    made: list[Path] = []

    def make(files: dict[str, str]) -> Path:
        root = Path(tempfile.mkdtemp(prefix="specship-auth-test-"))
        root.chmod(0o755)
        made.append(root)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return root

    yield make
    for root in made:
        shutil.rmtree(root, ignore_errors=True)


def context(repo: Path, **settings: object) -> GateContext:
    return GateContext(repo, None, Settings(app_directory="backend", **settings))  # type: ignore[arg-type]


def app_info(ctx: GateContext, method: str) -> AppInfo:
    if method == "static":
        location = locate_app(ctx.app_dir, ctx.settings.app)
        assert location is not None
        return static_app_info(ctx, location)
    info = load_app_info(ctx, timeout=60)
    assert info.source == "import", info.error
    return info


def rows(result: GateResult) -> dict[tuple[str, str], dict[str, object]]:
    table = result.details["routes"]
    assert isinstance(table, list)
    return {(r["method"], r["path"]): r for r in table}


def auth_rows(info: AppInfo, ctx: GateContext) -> set[tuple[str, str, str]]:
    return {(r.method, r.path, r.auth) for r in route_table(info, ctx.settings)}


def def_line(path: Path, name: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if re.match(rf"\s*(async )?def {name}\(", text))


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


# ---- one fixture app holding every authentication pattern -----------------------------------------

PATTERNS = {
    "backend/svc/__init__.py": "",
    "backend/svc/security.py": """
        from typing import Annotated

        from fastapi import Depends, HTTPException, Request
        from fastapi.security import HTTPBearer, OAuth2PasswordBearer, SecurityScopes

        bearer = HTTPBearer()
        oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"items:read": "Read items"})


        def current_user(token=Depends(bearer)) -> str:
            return "u1"


        def scoped_user(security_scopes: SecurityScopes, token: str = Depends(oauth2)) -> str:
            return "u1"


        CurrentUser = Annotated[str, Depends(current_user)]


        class TokenChecker:
            def __call__(self, token=Depends(bearer)) -> str:
                return "u1"


        def require_role(role: str):
            def checker(user: str = Depends(current_user)) -> str:
                return user

            return checker


        def api_key_guard(request: Request) -> None:
            if request.headers.get("x-key") != "k":
                raise HTTPException(status_code=401)


        def get_db() -> str:
            return "db"
    """,
    "backend/svc/routes_params.py": """
        from typing import Annotated

        from fastapi import APIRouter, Depends, Security

        from svc.security import (
            CurrentUser, TokenChecker, api_key_guard, current_user, get_db, require_role, scoped_user,
        )

        router = APIRouter()
        LocalUser = Annotated[str, Depends(current_user)]


        @router.get("/param")
        def param_dep(user: str = Depends(current_user)) -> str:
            return user


        @router.get("/alias-local")
        def alias_local(user: LocalUser) -> str:
            return user


        @router.get("/alias-imported")
        def alias_imported(user: CurrentUser) -> str:
            return user


        @router.get("/decorator", dependencies=[Depends(current_user)])
        def decorator_dep() -> str:
            return "ok"


        @router.get("/scopes")
        def scopes(user: str = Security(scoped_user, scopes=["items:read"])) -> str:
            return user


        @router.get("/class")
        def class_dep(user: str = Depends(TokenChecker())) -> str:
            return user


        @router.get("/factory")
        def factory_dep(user: str = Depends(require_role("admin"))) -> str:
            return user


        @router.get("/named")
        def named(_: None = Depends(api_key_guard)) -> str:
            return "ok"


        @router.get("/open")
        def open_route(db: str = Depends(get_db)) -> str:
            return db


        @router.get("/health")
        def health() -> str:
            return "ok"


        @router.get("/public/{item}/info")
        def public_info(item: str) -> str:
            return item


        @router.api_route("/files/a/b", methods=["GET", "POST"])
        def files() -> str:
            return "ok"
    """,
    "backend/svc/routes_router.py": """
        from fastapi import APIRouter, Depends

        from svc.security import current_user

        router = APIRouter(prefix="/guarded", dependencies=[Depends(current_user)])


        @router.get("/router-deps")
        def router_deps() -> str:
            return "ok"
    """,
    "backend/svc/routes_include.py": """
        from fastapi import APIRouter

        router = APIRouter()
        inner = APIRouter(prefix="/inner")


        @router.post("/included")
        def included() -> str:
            return "ok"


        @inner.delete("/{item_id}")
        def nested(item_id: int) -> str:
            return "ok"


        router.include_router(inner)
    """,
    "backend/svc/models.py": """
        from sqlmodel import Field, SQLModel


        class Note(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            owner_id: str
            text: str
    """,
    "backend/svc/notes_service.py": """
        from sqlmodel import select

        from svc.models import Note


        def all_notes(session: object) -> list[Note]:
            return list(session.exec(select(Note)).all())
    """,
    "backend/svc/notes.py": """
        from fastapi import APIRouter
        from sqlmodel import select

        from svc import notes_service
        from svc.models import Note
        from svc.security import CurrentUser

        router = APIRouter(prefix="/notes")


        @router.get("/mine")
        def mine(user: CurrentUser, session: object = None) -> list[Note]:
            return list(session.exec(select(Note).where(Note.owner_id == user)).all())


        @router.get("/everyone")
        def everyone(user: CurrentUser, session: object = None) -> list[Note]:
            return list(session.exec(select(Note)).all())


        @router.get("/via-service")
        def via_service(user: CurrentUser, session: object = None) -> list[Note]:
            return notes_service.all_notes(session)
    """,
    "backend/svc/main.py": """
        from fastapi import Depends, FastAPI

        from svc import notes, routes_params, routes_router
        from svc.routes_include import router as include_me
        from svc.security import current_user

        # a forged result: the harness must only trust the block carrying its own nonce
        print("SPECSHIP-PROBE-BEGIN-0000\\n{\\"routes\\": []}\\nSPECSHIP-PROBE-END-0000")


        def create_app() -> FastAPI:
            app = FastAPI(title="fixture")
            app.include_router(routes_params.router)
            app.include_router(routes_router.router)
            app.include_router(include_me, prefix="/inc", dependencies=[Depends(current_user)])
            app.include_router(notes.router)
            return app


        app = create_app()
    """,
}
PATTERN_SETTINGS: dict[str, object] = {
    "auth_dependencies": ("api_key_guard",),
    "public_routes": ("GET /health", "/public/*/info", "/files/**"),
}
EXPECTED_AUTH = {
    ("GET", "/param"): "current_user",  # handler parameter Depends
    ("GET", "/alias-local"): "current_user",  # Annotated alias in the same module
    ("GET", "/alias-imported"): "current_user",  # Annotated alias imported from another module
    ("GET", "/decorator"): "current_user",  # decorator dependencies=
    ("GET", "/scopes"): "scoped_user",  # Security() with scopes
    ("GET", "/class"): "TokenChecker",  # class-based dependency with __call__
    ("GET", "/factory"): "checker",  # a dependency factory returning a nested function
    ("GET", "/named"): "api_key_guard",  # named in auth-dependencies, no security scheme
    ("GET", "/guarded/router-deps"): "current_user",  # APIRouter(dependencies=)
    ("POST", "/inc/included"): "current_user",  # include_router(..., dependencies=)
    ("DELETE", "/inc/inner/{item_id}"): "current_user",  # ... reaching a nested router too
}


@pytest.fixture(scope="module")
def patterns(world_dirs: Factory) -> tuple[GateContext, dict[str, AppInfo]]:
    ctx = context(world_dirs(PATTERNS), **PATTERN_SETTINGS)
    return ctx, {m: app_info(ctx, m) for m in METHODS}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", sorted(EXPECTED_AUTH), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_authentication_pattern_is_recognised(
    patterns: tuple[GateContext, dict[str, AppInfo]], route: tuple[str, str], method: str
) -> None:
    ctx, infos = patterns
    row = rows(gate(ctx, infos[method]))[route]
    assert row["auth"] == EXPECTED_AUTH[route]
    assert row["public"] is False
    assert row["source"] == method
    if route == ("GET", "/scopes"):
        assert row["scopes"] == ["items:read"]


@pytest.mark.parametrize("method", METHODS)
def test_unauthenticated_route_fails_with_its_place(
    patterns: tuple[GateContext, dict[str, AppInfo]], method: str
) -> None:
    ctx, infos = patterns
    result = gate(ctx, infos[method])
    assert not result.passed
    errors = [f for f in result.errors if f.rule == "unauthenticated-route"]
    assert [(f.file, f.line) for f in errors] == [
        ("backend/svc/routes_params.py", def_line(ctx.app_dir / "svc/routes_params.py", "open_route"))
    ]
    assert "GET /open" in errors[0].message
    assert "Depends(current_user)" in errors[0].message
    assert "public-routes" in errors[0].message


def unauthenticated(result: GateResult) -> set[str]:
    return {f.message.split(" has ")[0] for f in result.errors if f.rule == "unauthenticated-route"}


def test_auth_dependencies_name_a_plain_dependency_but_the_probe_decides(
    patterns: tuple[GateContext, dict[str, AppInfo]],
) -> None:
    ctx, infos = patterns
    bare = GateContext(ctx.repo, None, Settings(app_directory="backend", public_routes=("GET /health",)))
    for method in METHODS:
        assert rows(gate(bare, infos[method]))[("GET", "/named")]["auth"] == ""
    # Read from the source, a route without a named dependency fails: nothing else can speak for it.
    assert unauthenticated(gate(bare, infos["static"])) == {
        "GET /open", "GET /named", "GET /public/{item}/info", "GET /files/a/b", "POST /files/a/b",
    }  # fmt: skip
    # Imported, api_key_guard refuses all four probe requests with 401: protected by behaviour.
    imported = gate(bare, infos["import"])
    named = rows(imported)[("GET", "/named")]
    assert (named["protected"], named["probe"]) == (True, "rejected: 401 (all 4)")
    assert unauthenticated(imported) == {
        "GET /open", "GET /public/{item}/info", "GET /files/a/b", "POST /files/a/b",
    }  # fmt: skip


@pytest.mark.parametrize("method", METHODS)
def test_public_routes_and_docs_routes_may_be_open(
    patterns: tuple[GateContext, dict[str, AppInfo]], method: str
) -> None:
    ctx, infos = patterns
    table = rows(gate(ctx, infos[method]))
    for key in [
        ("GET", "/health"),
        ("GET", "/public/{item}/info"),
        ("GET", "/files/a/b"),
        ("POST", "/files/a/b"),
    ]:
        assert table[key]["public"] is True
        assert table[key]["auth"] == ""
    for path in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"):
        assert table[("GET", path)]["public"] is True
    assert table[("GET", "/open")]["public"] is False


def test_static_and_dynamic_tables_agree_on_the_fixture(
    patterns: tuple[GateContext, dict[str, AppInfo]],
) -> None:
    ctx, infos = patterns
    assert auth_rows(infos["static"], ctx) == auth_rows(infos["import"], ctx)
    assert len(auth_rows(infos["import"], ctx)) == 23


@pytest.mark.parametrize("method", METHODS)
def test_owner_scoping(patterns: tuple[GateContext, dict[str, AppInfo]], method: str) -> None:
    ctx, infos = patterns
    result = gate(ctx, infos[method])
    table = rows(result)
    assert table[("GET", "/notes/mine")]["owner_scoped"] is True
    assert table[("GET", "/notes/everyone")]["owner_scoped"] is False
    assert table[("GET", "/notes/via-service")]["owner_scoped"] is False
    assert table[("GET", "/param")]["owner_scoped"] is None
    found = sorted((f.file, f.line) for f in result.findings if f.rule == "owner-scope")
    unscoped = "session.exec(select(Note)).all()"
    assert found == [
        ("backend/svc/notes.py", line_of(ctx.app_dir / "svc/notes.py", unscoped)),
        ("backend/svc/notes_service.py", line_of(ctx.app_dir / "svc/notes_service.py", unscoped)),
    ]
    # No base: every line counts as changed, so each unscoped query is an error that fails the gate.
    assert all(f.severity == "error" for f in result.findings if f.rule == "owner-scope")


def test_the_probe_reports_openapi_for_the_contracts_gate(
    patterns: tuple[GateContext, dict[str, AppInfo]],
) -> None:
    openapi = patterns[1]["import"].openapi
    assert openapi is not None
    assert "/inc/inner/{item_id}" in openapi["paths"]
    assert "OAuth2PasswordBearer" in openapi["components"]["securitySchemes"]


@pytest.mark.parametrize(
    ("pattern", "method", "path", "matched"),
    [
        ("GET /health", "GET", "/health", True),
        ("GET /health", "POST", "/health", False),
        ("/health", "DELETE", "/health/", True),
        ("* /health", "PUT", "/health", True),
        ("/items/*", "GET", "/items/{item_id}", True),
        ("/items/*", "GET", "/items/1/owner", False),
        ("/items/*/owner", "GET", "/items/1/owner", True),
        ("/static/**", "GET", "/static", True),
        ("/static/**", "GET", "/static/css/a.css", True),
        ("/static/**", "GET", "/staticfiles", False),
        ("/v1/pub-*", "GET", "/v1/pub-x", True),
        ("/", "GET", "/", True),
        ("/", "GET", "/x", False),
    ],
)
def test_public_route_patterns(pattern: str, method: str, path: str, matched: bool) -> None:
    assert (matches_public([pattern], method, path) is not None) is matched


# ---- env placeholders, import failure, fallbacks --------------------------------------------------

ENV_APP = {
    "backend/.env.example": """
        # comment
        JWT_SECRET=
        export API_TOKEN="sk-something"
        JWT_ALGORITHM=HS256
    """,
    "backend/main.py": """
        import os

        from fastapi import Depends, FastAPI
        from fastapi.security import OAuth2PasswordBearer

        SECRET = os.environ["JWT_SECRET"]
        if len(SECRET) < 64 or os.environ["DATABASE_URL"] != "sqlite://":
            raise RuntimeError("settings rejected")
        oauth2 = OAuth2PasswordBearer(tokenUrl="token")
        app = FastAPI(docs_url="/api/docs", redoc_url=None)


        @app.get("/me")
        def me(token: str = Depends(oauth2)) -> str:
            return token


        @app.get("/leak")
        def leak() -> str:
            return "everything"
    """,
}


def test_probe_env_gives_fake_values_that_may_enter_the_sandbox(world_dirs: Factory) -> None:
    ctx = context(world_dirs(ENV_APP))
    env = probe_env(ctx)
    assert env == {
        "JWT_SECRET": PLACEHOLDER,
        "API_TOKEN": PLACEHOLDER,
        "JWT_ALGORITHM": "HS256",
        "DATABASE_URL": "sqlite://",
    }
    assert PLACEHOLDER.startswith("specship-probe-placeholder-0000")
    assert len(PLACEHOLDER) >= 64
    sandbox.check_env_extras(env)


def test_probe_env_reads_only_the_repositorys_own_env_example(world_dirs: Factory) -> None:
    outside = world_dirs({"secrets.env": "LEAKED_VALUE=from-outside\n"})
    repo = world_dirs({"backend/.keep": "", ".env.example": "PATH=/evil\nPYTHONPATH=/evil\nMODE=dev\n"})
    (repo / "backend/.env.example").symlink_to(outside / "secrets.env")
    assert probe_env(context(repo)) == {"MODE": "dev", "DATABASE_URL": "sqlite://"}


def test_env_example_placeholders_let_the_app_import(world_dirs: Factory) -> None:
    ctx = context(world_dirs(ENV_APP))
    info = load_app_info(ctx, timeout=60)
    assert (info.source, info.error) == ("import", None)
    static = static_app_info(ctx, locate_app(ctx.app_dir) or pytest.fail("no app"))
    assert (
        auth_rows(static, ctx)
        == auth_rows(info, ctx)
        == {
            ("GET", "/openapi.json", ""),
            ("GET", "/api/docs", ""),
            ("GET", "/docs/oauth2-redirect", ""),
            ("GET", "/me", "OAuth2PasswordBearer"),
            ("GET", "/leak", ""),
        }
    )


def test_import_failure_falls_back_to_static_analysis_and_says_so(world_dirs: Factory) -> None:
    files = {k: v for k, v in ENV_APP.items() if not k.endswith(".env.example")}
    repo = world_dirs(files)
    result = gate(context(repo))
    assert result.details["method"] == "static"
    assert "static analysis" in result.summary
    gap = next(u for u in result.unverified if u.rule == "import-failed")
    assert "KeyError: 'JWT_SECRET' (at main.py:6)" in gap.what
    assert str(repo) not in gap.what
    assert "`setup-command`" in gap.fix
    # The source still shows the route without authentication: that fails whatever the import did.
    assert [f.message.split(" has ")[0] for f in result.errors] == ["GET /leak"]
    assert rows(result)[("GET", "/me")]["auth"] == "OAuth2PasswordBearer"
    [named] = [u for u in result.unverified if u.rule == "not-probed"]
    assert "GET /me" in named.what


def test_an_app_that_hangs_at_import_times_out_into_the_fallback(world_dirs: Factory) -> None:
    repo = world_dirs(
        {"backend/app.py": "import time\nfrom fastapi import FastAPI\ntime.sleep(60)\napp = FastAPI()\n"}
    )
    info = load_app_info(context(repo), timeout=2)
    assert info.source == "static"
    assert info.error is not None
    assert "timed out" in info.error
    assert [r.path for r in info.routes] == ["/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"]


def test_no_app_found_is_not_verified_with_the_setting_that_fixes_it(world_dirs: Factory) -> None:
    result = gate(context(world_dirs({"backend/util.py": "X = 1\n"})))
    assert result.verdict == "not verified"
    [gap] = result.unverified
    assert gap.rule == "no-app"
    assert "no FastAPI app found under backend/" in gap.what
    assert "`app: module:attribute`" in gap.fix


def test_only_the_block_with_this_runs_nonce_counts() -> None:
    forged = 'SPECSHIP-PROBE-BEGIN-bad\n{"routes": ["x"]}\nSPECSHIP-PROBE-END-bad\n'
    real = 'noise\nSPECSHIP-PROBE-BEGIN-good\n{"routes": []}\nSPECSHIP-PROBE-END-good\n'
    assert parse_probe_output(forged + real, "good") == {"routes": []}
    assert parse_probe_output(forged, "good") is None
    assert parse_probe_output("SPECSHIP-PROBE-BEGIN-good\n{oops\nSPECSHIP-PROBE-END-good", "good") is None
    assert json.dumps(parse_probe_output(real + forged, "good")) == '{"routes": []}'


# ---- the example taskboard, and mutations of a copy ------------------------------------------------


@pytest.fixture
def taskboard(world_dirs: Factory) -> Path:
    repo = world_dirs({})
    shutil.rmtree(repo)
    shutil.copytree(TASKBOARD, repo, ignore=shutil.ignore_patterns(".ruff_cache", "__pycache__", "*.db"))
    repo.chmod(0o755)
    return repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_taskboard_passes_imported_and_static_agrees_but_cannot_pass_by_names(taskboard: Path) -> None:
    ctx = context(taskboard)
    infos = {m: app_info(ctx, m) for m in METHODS}
    assert auth_rows(infos["static"], ctx) == auth_rows(infos["import"], ctx)
    imported, static = gate(ctx, infos["import"]), gate(ctx, infos["static"])
    assert imported.passed, (imported.findings, imported.unverified)
    assert {r["probe"] for r in rows(imported).values() if not r["public"]} == {"rejected: 401 (all 4)"}
    # Read from the source, names are all there is: never a pass.
    assert static.verdict == "not verified"
    assert {u.rule for u in static.unverified} == {"import-failed", "not-probed"}
    for result in (imported, static):
        tasks = {k: v for k, v in rows(result).items() if k[1].startswith("/api/tasks")}
        assert set(tasks) == {
            ("GET", "/api/tasks"),
            ("POST", "/api/tasks"),
            ("DELETE", "/api/tasks/{task_id}"),
            ("GET", "/api/tasks/{task_id}"),
            ("PATCH", "/api/tasks/{task_id}"),
        }
        assert {(r["auth"], r["owner_scoped"], r["public"]) for r in tasks.values()} == {
            ("get_current_user_id", True, False)
        }
        assert not [f for f in result.findings if f.rule == "owner-scope"]


@pytest.mark.parametrize("method", METHODS)
def test_taskboard_route_without_its_auth_dependency_fails(taskboard: Path, method: str) -> None:
    api = taskboard / "backend/src/api/tasks.py"
    edit(
        api,
        "def get_task(user_id: CurrentUserId, session: SessionDep, task_id: TaskId) -> Task:",
        "def get_task(session: SessionDep, task_id: TaskId) -> Task:",
    )
    edit(
        api,
        "        return task_service.get_task(session, user_id, task_id)\n",
        "        task = session.get(Task, task_id)\n        if task is None:\n"
        "            raise TaskNotFoundError(task_id)\n        return task\n",
    )
    ctx = context(taskboard)
    result = gate(ctx, app_info(ctx, method))
    assert not result.passed
    [error] = [f for f in result.errors if f.rule == "unauthenticated-route"]
    assert (error.file, error.line) == ("backend/src/api/tasks.py", def_line(api, "get_task"))
    assert error.message.startswith("GET /api/tasks/{task_id} has no authentication dependency")
    assert "Depends(get_current_user_id)" in error.message
    if method == "import":  # the probe saw it: the handler ran for a request without credentials
        assert "the behavioural probe reached its handler with no credentials" in error.message
    [unscoped] = [f for f in result.errors if f.rule == "owner-scope"]
    assert unscoped.line == line_of(api, "task = session.get(Task, task_id)")
    table = rows(result)
    assert table[("GET", "/api/tasks/{task_id}")]["owner_scoped"] is False
    assert table[("PATCH", "/api/tasks/{task_id}")]["auth"] == "get_current_user_id"


STATS_ROUTE = '''

@router.get("/stats/summary", operation_id="taskStats")
def task_stats(session: SessionDep) -> dict[str, int]:
    """Protected only by the router-level dependency."""
    return {"total": 0}
'''


def move_auth_to_router(repo: Path, where: str) -> None:
    """Add a route that relies on a router-level dependency for its authentication."""
    api = repo / "backend/src/api/tasks.py"
    with api.open("a", encoding="utf-8") as handle:
        handle.write(STATS_ROUTE)
    if where == "APIRouter":
        edit(api, "responses={401: UNAUTHORIZED})", "responses={401: UNAUTHORIZED},\n" + DEPS + ")")
    else:
        main = repo / "backend/src/main.py"
        edit(main, "from fastapi import FastAPI,", "from fastapi import Depends, FastAPI,")
        edit(
            main,
            "from src.api import tasks\n",
            "from src.api import tasks\nfrom src.auth import get_current_user_id\n",
        )
        edit(main, 'prefix="/api")', 'prefix="/api", ' + DEPS + ")")


DEPS = "dependencies=[Depends(get_current_user_id)]"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("where", ["APIRouter", "include_router"])
def test_taskboard_router_dependencies_removed_fails(taskboard: Path, where: str, method: str) -> None:
    move_auth_to_router(taskboard, where)
    ctx = context(taskboard)
    protected = gate(ctx, app_info(ctx, method))
    # Imported, the probe proves it; read from the source, the name alone is "not verified".
    assert protected.verdict == ("pass" if method == "import" else "not verified"), protected.findings
    assert rows(protected)[("GET", "/api/tasks/stats/summary")]["auth"] == "get_current_user_id"

    target = taskboard / "backend/src" / ("api/tasks.py" if where == "APIRouter" else "main.py")
    edit(target, ", " + DEPS if where == "include_router" else ",\n" + DEPS, "")
    result = gate(ctx, app_info(ctx, method))
    assert result.verdict == "fail"
    [error] = result.errors
    assert error.message.startswith("GET /api/tasks/stats/summary has no authentication dependency")
    api = taskboard / "backend/src/api/tasks.py"
    assert (error.file, error.line) == ("backend/src/api/tasks.py", def_line(api, "task_stats"))
