"""The static route reader never drops a route, and app detection never guesses; plus the real template."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.gates import GateContext, GateResult
from bot.gates.app_detect import detect_app
from bot.gates.app_model import AppInfo
from bot.gates.app_source import locate_app, parsed_files, shared_parses
from bot.gates.auth_rules import is_public
from bot.gates.fastapi_auth import gate
from bot.gates.probe import load_app_info
from bot.gates.static_routes import static_app_info
from bot.settings import Settings, load

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "examples" / "full-stack-fastapi-template"
# The template's six open routes (SOURCE.md): login, recovery, reset, health, signup, private signup.
# The allow-list is the example's own .github/specship.yml (shared with the PostgreSQL pipeline test).
TEMPLATE_PUBLIC = {
    ("POST", "/api/v1/login/access-token"),
    ("POST", "/api/v1/password-recovery/{email}"),
    ("POST", "/api/v1/reset-password/"),
    ("POST", "/api/v1/users/signup"),
    ("GET", "/api/v1/utils/health-check/"),
    ("POST", "/api/v1/private/users/"),
}


@pytest.fixture(scope="module")
def dirs() -> Iterator[list[Path]]:
    made: list[Path] = []
    yield made
    for root in made:
        shutil.rmtree(root, ignore_errors=True)


def repo(dirs: list[Path], files: dict[str, str]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="specship-static-test-"))
    root.chmod(0o755)
    dirs.append(root)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def static(root: Path, app: str = "") -> AppInfo:
    ctx = GateContext(root, None, Settings(app_directory="backend", app=app))
    location = locate_app(ctx.app_dir, app) if app else detect_app(ctx.app_dir, root, "backend").location
    assert location is not None
    return static_app_info(ctx, location)


def paths(info: AppInfo) -> set[tuple[str, str]]:
    return {(m, r.path) for r in info.routes if not r.docs for m in r.methods}


SETTINGS_APP = {
    "backend/app/__init__.py": "",
    "backend/app/core/__init__.py": "",
    "backend/app/core/config.py": """
        from pydantic_settings import BaseSettings


        class Base(BaseSettings):
            API_PREFIX: str = "/api"


        class Settings(Base):
            API_V1_STR: str = "/api/v1"


        settings = Settings()
    """,
    "backend/app/admin.py": """
        from fastapi import APIRouter

        admin = APIRouter(prefix="/admin")
        reports = APIRouter(prefix="/reports")


        @admin.get("/dump")
        def dump() -> list[str]:
            return []


        @reports.get("/all")
        def everything() -> list[str]:
            return []
    """,
    "backend/app/main.py": """
        from fastapi import FastAPI

        from app.admin import admin, reports
        from app.core.config import settings

        app = FastAPI(openapi_url=f"{settings.API_V1_STR}/openapi.json")
        for r in [admin, reports]:
            app.include_router(r, prefix=settings.API_V1_STR)
        app.include_router(admin, prefix=f"{settings.API_PREFIX}/v2")
    """,
}


def test_prefixes_come_from_settings_constants_fstrings_and_loops(dirs: list[Path]) -> None:
    info = static(repo(dirs, SETTINGS_APP))
    assert paths(info) == {
        ("GET", "/api/v1/admin/dump"),
        ("GET", "/api/v1/reports/all"),
        ("GET", "/api/v2/admin/dump"),
    }
    assert next(r.path for r in info.routes if r.docs) == "/api/v1/openapi.json"
    assert info.unresolved == ()


UNKNOWN_APP = {
    "backend/app/__init__.py": "",
    "backend/app/main.py": """
        import os

        from fastapi import APIRouter, FastAPI

        admin = APIRouter()


        @admin.get("/dump")
        def dump() -> list[str]:
            return []


        routers = [r for r in [admin]]  # built at runtime: cannot be followed
        app = FastAPI()
        app.include_router(admin, prefix=os.environ["PREFIX"])
        for r in routers:
            app.include_router(r)
    """,
}


def test_what_cannot_be_resolved_is_marked_unknown_never_empty(dirs: list[Path]) -> None:
    info = static(repo(dirs, UNKNOWN_APP))
    assert paths(info) == {("GET", "{?os.environ['PREFIX']}/dump")}
    why = sorted(u.why for u in info.unresolved)
    assert why == [
        "`os.environ['PREFIX']` could not be resolved, so a path or prefix holds an unknown part",
        "the router passed to `app.include_router(r)` could not be resolved, so its routes were not read",
    ]
    assert all(u.file == "backend/app/main.py" and u.line for u in info.unresolved)


def test_the_gate_says_not_verified_for_an_unknown_path_and_an_unread_router(dirs: list[Path]) -> None:
    broken = "import nope\n" + textwrap.dedent(UNKNOWN_APP["backend/app/main.py"])
    root = repo(dirs, {**UNKNOWN_APP, "backend/app/main.py": broken})
    result = gate(GateContext(root, None, Settings(app_directory="backend", app="app.main:app")))
    assert result.details["method"] == "static"
    assert result.verdict == "not verified"
    assert {u.rule for u in result.unverified} == {"unresolved", "import-failed", "unknown-path"}
    [unknown] = [u for u in result.unverified if u.rule == "unknown-path"]
    assert unknown.what.startswith("GET {?os.environ['PREFIX']}/dump: part of its path could not be read")


def test_an_app_with_only_fastapis_own_routes_is_not_verified(dirs: list[Path]) -> None:
    root = repo(dirs, {"backend/main.py": "import nope\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"})
    result = gate(GateContext(root, None, Settings(app_directory="backend")))
    assert result.verdict == "not verified"
    assert "no-routes" in {u.rule for u in result.unverified}


def test_docs_paths_of_the_app_itself_are_not_public_when_fastapi_docs_are_off(dirs: list[Path]) -> None:
    root = repo(
        dirs,
        {
            "backend/main.py": """
                from fastapi import FastAPI

                app = FastAPI(docs_url=None, redoc_url=None)


                @app.get("/docs")
                def my_docs() -> str:
                    return "secret runbook"


                @app.post("/redoc")
                def my_redoc() -> str:
                    return "secret"
            """
        },
    )
    for method in ("import", "static"):
        ctx = GateContext(root, None, Settings(app_directory="backend"))
        info = load_app_info(ctx) if method == "import" else static(root)
        by_path = {(m, r.path): r for r in info.routes for m in r.methods}
        assert not is_public(by_path[("GET", "/docs")], "GET", ())
        assert not is_public(by_path[("POST", "/redoc")], "POST", ())
        assert is_public(by_path[("GET", "/openapi.json")], "GET", ())  # FastAPI's own, still on
        failed = {f.message.split(" has ")[0] for f in gate(ctx, info).errors}
        assert {"GET /docs", "POST /redoc"} <= failed, method


DETECT = {
    "backend/app/__init__.py": "",
    "backend/app/factory.py": """
        from fastapi import FastAPI

        from app.routes import router


        def make_app() -> FastAPI:
            app = FastAPI()
            app.include_router(router)
            return app


        def init_app() -> FastAPI:
            return FastAPI()  # a factory nobody uses, with no route
    """,
    "backend/app/routes.py": """
        from fastapi import APIRouter

        router = APIRouter()


        @router.get("/a")
        def a() -> str:
            return "a"


        @router.get("/b")
        def b() -> str:
            return "b"
    """,
    "backend/app/main.py": """
        from app.factory import make_app

        app = make_app()
    """,
    "backend/app/health.py": """
        from fastapi import FastAPI

        health_app = FastAPI()


        @health_app.get("/ping")
        def ping() -> str:
            return "pong"
    """,
}


def test_detection_prefers_the_app_serving_most_routes_through_an_imported_factory(dirs: list[Path]) -> None:
    root = repo(dirs, DETECT)
    found = detect_app(root / "backend", root, "backend")
    assert found.location is not None
    assert found.location.spec == "app.main:app"
    assert dict(found.candidates) == {
        "app.main:app": 2,
        "app.health:health_app": 1,
        "app.factory:init_app()": 0,
    }


def test_detection_follows_a_chain_of_modules_that_never_name_fastapi(dirs: list[Path]) -> None:
    # server.py -> wiring.build() -> core.assemble() -> FastAPI(): only core names FastAPI, and
    # neither server nor wiring has a factory-shaped name. The unrelated modules are read only.
    files = {
        "backend/svc/__init__.py": "",
        "backend/svc/core.py": """
            from fastapi import FastAPI

            def assemble(title):
                made = FastAPI(title=title)

                @made.get("/one")
                def one() -> str:
                    return "one"

                return made
        """,
        "backend/svc/wiring.py": """
            from svc import core

            def build():
                return core.assemble("svc")
        """,
        "backend/svc/server.py": """
            from svc.wiring import build

            server = build()
        """,
        **{
            f"backend/svc/util_{i}.py": f"VALUE_{i} = {i}\n\ndef helper_{i}():\n    return {i}\n"
            for i in range(5)
        },
    }
    root = repo(dirs, files)
    with shared_parses():
        found = detect_app(root / "backend", root, "backend")
        parsed = {Path(p).name for p in parsed_files()}
    assert found.location is not None, found
    assert found.location.spec == "svc.server:server"
    assert "util_0.py" not in parsed
    assert "server.py" in parsed


def test_detection_refuses_to_guess_between_two(dirs: list[Path]) -> None:
    second = """
        from fastapi import FastAPI

        other = FastAPI()


        @other.get("/x")
        def x() -> str:
            return "x"


        @other.get("/y")
        def y() -> str:
            return "y"
    """
    root = repo(dirs, {**DETECT, "backend/app/other.py": second})
    found = detect_app(root / "backend", root, "backend")
    assert found.location is None
    assert found.problem == (
        "2 objects could be the app and none serves more routes than the others: "
        "app.main:app (2 routes), app.other:other (2 routes)"
    )
    result = gate(GateContext(root, None, Settings(app_directory="backend")))
    assert result.verdict == "not verified"
    [gap] = result.unverified
    assert gap.rule == "no-app"
    assert "app.other:other" in gap.what


def test_a_mounted_sub_app_is_not_the_app(dirs: list[Path]) -> None:
    files = {
        "backend/main.py": """
            from fastapi import FastAPI

            api = FastAPI()
            for_mount = FastAPI()


            @for_mount.get("/one")
            def one() -> str:
                return "1"


            @for_mount.get("/two")
            def two() -> str:
                return "2"


            api.mount("/v2", for_mount)
        """
    }
    found = detect_app(repo(dirs, files) / "backend", Path("/"), "backend")
    assert found.location is not None
    assert found.location.attr == "api"


# ---- full-stack-fastapi-template: the same 23 routes read and imported ----------------------------


@pytest.fixture(scope="module")
def template() -> Iterator[GateContext]:
    parent = Path(tempfile.mkdtemp(prefix="specship-template-"))
    parent.chmod(0o755)
    root = parent / "fsft"
    shutil.copytree(TEMPLATE, root, ignore=shutil.ignore_patterns("__pycache__", "*.lock"))
    settings = load({}, file_text=(TEMPLATE / ".github/specship.yml").read_text(encoding="utf-8"))
    assert (settings.app_directory, len(settings.public_routes)) == ("backend", 6)
    yield GateContext(root, None, settings)
    shutil.rmtree(parent, ignore_errors=True)


def table(result: GateResult) -> dict[tuple[str, str], dict[str, object]]:
    rows = result.details["routes"]
    assert isinstance(rows, list)
    return {(r["method"], r["path"]): r for r in rows}


def test_template_static_and_dynamic_tables_agree_on_all_23_routes_and_the_allow_list(
    template: GateContext,
) -> None:
    imported = load_app_info(template)
    assert (imported.source, imported.error, imported.app) == ("import", None, "app.main:app")
    read = static(template.repo)
    assert paths(read) == paths(imported)
    assert len(paths(imported)) == 23
    assert all(path.startswith("/api/v1/") for _, path in paths(imported))
    by_import, by_source = table(gate(template, imported)), table(gate(template, read))
    user = {key for key in by_import if not by_import[key]["path"].startswith(("/docs", "/redoc"))}
    user.discard(("GET", "/api/v1/openapi.json"))
    assert set(by_source) == set(by_import)
    public = {key for key in user if by_import[key]["public"]}
    assert public == {key for key in user if by_source[key]["public"]}
    assert public == TEMPLATE_PUBLIC
    assert {(k, by_import[k]["auth"]) for k in user} == {(k, by_source[k]["auth"]) for k in user}


def test_template_protected_routes_all_refuse_the_probe(template: GateContext) -> None:
    result = gate(template)
    rows = table(result)
    protected = [r for r in rows.values() if not r["public"]]
    assert len(protected) == 17
    assert {str(r["probe"]).split(":")[0] for r in protected} == {"rejected"}
    # The example's config names both dependencies in auth-dependencies; the probe decided anyway.
    assert {r["explanation"] for r in protected} == {
        "get_current_user (auth-dependencies)",
        "get_current_active_superuser (auth-dependencies)",
    }
    assert [f for f in result.errors if f.rule != "owner-scope"] == []
