"""The behavioural auth probe: fixture apps imported and probed in the real sandbox; names only explain."""

from __future__ import annotations

import datetime
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.gates import GateContext, GateResult
from bot.gates.fastapi_auth import gate
from bot.gates.probe_auth import concrete_path, jwt
from bot.settings import Settings

SECURITY = """
import os
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False)
KEY = os.environ["JWT_SECRET"]


def _claims(credentials, **options):
    if credentials is None:
        raise HTTPException(status_code=401, detail="Not authenticated")
    try:
        return jwt.decode(credentials.credentials, KEY, algorithms=["HS256"], options=options)
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token") from None


def current_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    return _claims(credentials)["sub"]


def lenient_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    return _claims(credentials, verify_exp=False)["sub"]


def get_current_user_id() -> str:
    return "anyone"


def optional_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str | None:
    return credentials.credentials if credentials else None


class AnyBearer(HTTPBearer):
    async def __call__(self, request: Request):
        return await super().__call__(request)
"""
ROUTES = """
import enum
import uuid

from fastapi import APIRouter, Depends, FastAPI, WebSocket
from pydantic import BaseModel

from svc.security import AnyBearer, current_user, get_current_user_id, lenient_user, optional_user

app = FastAPI()
router = APIRouter(prefix="/api")


class Color(enum.Enum):
    red = "red"


class Body(BaseModel):
    title: str


@router.get("/fake")
def fake(user: str = Depends(get_current_user_id)) -> str:
    return user


@router.get("/optional")
def optional(user: str | None = Depends(optional_user)) -> str:
    return "data"


@router.get("/bearer")
def unverified(token=Depends(AnyBearer())) -> str:
    return "data"


@router.get("/real")
def real(user: str = Depends(current_user)) -> str:
    return user


@router.get("/typed/{number}/{key}/{color}/{rest:path}")
def typed(number: int, key: uuid.UUID, color: Color, rest: str, user: str = Depends(current_user)) -> str:
    return user


@router.get("/search")
def search(q: str, user: str = Depends(current_user)) -> str:
    return q


@router.post("/expired-ok")
def expired_ok(body: Body, user: str = Depends(lenient_user)) -> str:
    return body.title


@router.get("/items/{item_id}")
def item(item_id: str, user: str = Depends(current_user)) -> str:
    return item_id


@router.get("/items/stats")
def shadowed() -> str:
    return "stats"


@app.websocket("/ws")
async def open_socket(socket: WebSocket) -> None:
    await socket.accept()


app.include_router(router)
"""
APP = {
    "backend/.env.example": "JWT_SECRET=\n",
    "backend/svc/__init__.py": "",
    "backend/svc/security.py": SECURITY,
    "backend/svc/main.py": ROUTES,
}


@pytest.fixture(scope="module")
def repos() -> Iterator[list[Path]]:
    made: list[Path] = []
    yield made
    for root in made:
        shutil.rmtree(root, ignore_errors=True)


def make(repos: list[Path], files: dict[str, str]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="specship-probe-test-"))
    root.chmod(0o755)
    repos.append(root)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def probed(repos: list[Path]) -> GateResult:
    settings = Settings(
        app_directory="backend", app="svc.main:app", auth_dependencies=("get_current_user_id",)
    )
    return gate(GateContext(make(repos, APP), None, settings))


def row(result: GateResult, method: str, path: str) -> dict[str, object]:
    table = result.details["routes"]
    assert isinstance(table, list)
    return next(r for r in table if (r["method"], r["path"]) == (method, path))


def error_for(result: GateResult, label: str) -> str:
    return next(f.message for f in result.errors if f.message.startswith(label))


def test_fake_auth_by_name_is_failed_by_behaviour(probed: GateResult) -> None:
    fake = row(probed, "GET", "/api/fake")
    assert fake["explanation"] == "get_current_user_id (auth-dependencies)"
    assert (fake["protected"], fake["probe"]) == (False, "reached the handler (all 4)")
    message = error_for(probed, "GET /api/fake")
    assert (
        "authenticated by name (get_current_user_id (auth-dependencies)), but the behavioural probe"
        in message
    )
    assert "no credentials" in message


def test_optional_user_is_explained_as_such_and_failed(probed: GateResult) -> None:
    optional = row(probed, "GET", "/api/optional")
    assert optional["explanation"] == "optional_user → HTTPBearer (auto_error=False)"
    assert optional["protected"] is False
    assert "reached its handler with no credentials" in error_for(probed, "GET /api/optional")


def test_a_bearer_scheme_that_never_verifies_is_caught_by_the_wrong_key(probed: GateResult) -> None:
    bearer = row(probed, "GET", "/api/bearer")
    assert bearer["auth"] == "AnyBearer"
    message = error_for(probed, "GET /api/bearer")
    assert "a token signed with the wrong key" in message
    assert "no credentials" not in message  # HTTPBearer itself still refuses an empty header


def test_an_expired_token_accepted_is_caught_even_when_only_the_body_was_wrong(probed: GateResult) -> None:
    # The probe sends no body: a 422 after authentication let the request through still counts.
    message = error_for(probed, "POST /api/expired-ok")
    assert "with an expired token" in message
    assert "wrong key" not in message


def test_real_verification_refuses_all_four(probed: GateResult) -> None:
    for path in (
        "/api/real",
        "/api/search",
        "/api/typed/{number}/{key}/{color}/{rest:path}",
        "/api/items/{item_id}",
    ):
        assert row(probed, "GET", path)["probe"] == "rejected: 401 (all 4)", path


def test_a_shadowed_route_is_not_credited_with_its_neighbours_answers(probed: GateResult) -> None:
    stats = row(probed, "GET", "/api/items/stats")
    assert stats["probe"] == "routed to item (all 4)"
    assert stats["protected"] is False
    assert "the probe got" in error_for(probed, "GET /api/items/stats")


def test_a_websocket_without_authentication_is_reached(probed: GateResult) -> None:
    assert row(probed, "WEBSOCKET", "/ws")["probe"] == "reached the handler (all 4)"


def test_the_gate_fails_and_counts(probed: GateResult) -> None:
    assert probed.verdict == "fail"
    assert "imported and probed" in probed.summary


def test_path_and_query_values_have_the_parameters_types() -> None:
    class Field:
        def __init__(self, name: str, annotation: object, required: bool = True) -> None:
            self.name, self.alias, self.required = name, name, required
            self.field_info = type("Info", (), {"annotation": annotation})()

    dependant = type("Dependant", (), {})()
    dependant.path_params = [Field("n", int), Field("when", datetime.date)]
    dependant.query_params = [Field("q", str), Field("page", int, required=False)]
    url = concrete_path("/a/{n}/{when}/{f:path}", dependant)
    assert url == "/a/1/2026-01-01/specship/probe?q=specship-probe"


def test_probe_tokens_are_well_formed_jwts() -> None:
    import jwt as pyjwt

    token = jwt("k" * 40, -60)
    with pytest.raises(pyjwt.ExpiredSignatureError):
        pyjwt.decode(token, "k" * 40, algorithms=["HS256"])
    assert (
        pyjwt.decode(token, "k" * 40, algorithms=["HS256"], options={"verify_exp": False})["sub"]
        == "specship-probe"
    )
    assert pyjwt.get_unverified_header(jwt(None, 60))["alg"] == "none"


def test_an_app_whose_startup_fails_is_not_verified(repos: list[Path]) -> None:
    files = {
        "backend/main.py": """
            from contextlib import asynccontextmanager
            from fastapi import Depends, FastAPI
            from fastapi.security import HTTPBearer

            @asynccontextmanager
            async def lifespan(app):
                raise RuntimeError("no database")
                yield

            app = FastAPI(lifespan=lifespan)

            @app.get("/me")
            def me(token=Depends(HTTPBearer())) -> str:
                return "me"
        """
    }
    result = gate(GateContext(make(repos, files), None, Settings(app_directory="backend")))
    assert result.verdict == "not verified"
    rules = {u.rule: u for u in result.unverified}
    assert "no database" in rules["startup-failed"].what
    assert "not probed: the app's startup failed" in rules["not-probed"].what


def test_the_expired_token_is_signed_with_the_key_the_app_reads(probed: GateResult) -> None:
    # The fixture reads JWT_SECRET from the environment (its .env.example names it).
    assert probed.details["expired_token_key"] == "$JWT_SECRET"
    assert "expiry-untested" not in {u.rule for u in probed.unverified}


def _generated_key_app(where: str) -> dict[str, str]:
    """A template-like app: its key is generated at import, nothing in the environment names it."""
    config = {
        "settings": """
            import secrets

            class Settings:
                SECRET_KEY = secrets.token_urlsafe(32)

            settings = Settings()
        """,
        "hidden": """
            import secrets

            def _make():
                key = secrets.token_urlsafe(32)
                return lambda: key

            current_key = _make()
        """,
    }[where]
    name = "settings" if where == "settings" else "current_key"
    key = "settings.SECRET_KEY" if where == "settings" else "current_key()"
    main = f"""
        import jwt
        from fastapi import Depends, FastAPI, HTTPException
        from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

        from svc.config import {name}

        app = FastAPI()

        def user(credentials: HTTPAuthorizationCredentials = Depends(HTTPBearer())) -> str:
            try:
                claims = jwt.decode(
                    credentials.credentials, {key}, algorithms=["HS256"], options={{"verify_exp": False}}
                )
            except jwt.InvalidTokenError:
                raise HTTPException(status_code=401, detail="Invalid token") from None
            return claims["sub"]

        @app.get("/me")
        def me(name: str = Depends(user)) -> str:
            return name
    """
    return {"backend/svc/__init__.py": "", "backend/svc/config.py": config, "backend/svc/main.py": main}


def test_a_key_generated_at_import_is_found_so_an_unchecked_expiry_fails(repos: list[Path]) -> None:
    # Signed with any other key, the expired token would be refused like the wrong-key one.
    settings = Settings(app_directory="backend", app="svc.main:app")
    result = gate(GateContext(make(repos, _generated_key_app("settings")), None, settings))
    assert result.details["expired_token_key"] == "svc.config.settings.SECRET_KEY"
    assert result.verdict == "fail"
    message = error_for(result, "GET /me")
    assert "reached its handler with an expired token" in message
    assert "wrong key" not in message


def test_a_key_the_probe_cannot_find_leaves_expiry_not_verified(repos: list[Path]) -> None:
    settings = Settings(app_directory="backend", app="svc.main:app")
    result = gate(GateContext(make(repos, _generated_key_app("hidden")), None, settings))
    assert result.details["expired_token_key"] == ""
    assert row(result, "GET", "/me")["protected"] is True  # every token it got was refused
    assert result.verdict == "not verified"
    gap = next(u for u in result.unverified if u.rule == "expiry-untested")
    assert "1 route(s) refused an expired token, but the app's signing key was not found" in gap.what
    assert "SECRET_KEY" in gap.fix


def test_an_app_without_jwts_is_not_asked_about_expiry(repos: list[Path]) -> None:
    files = {
        "backend/main.py": """
            import hmac
            from fastapi import Depends, FastAPI, Header, HTTPException

            app = FastAPI()

            def api_key(x_api_key: str = Header("")) -> str:
                if not hmac.compare_digest(x_api_key, "s" * 40):
                    raise HTTPException(status_code=401, detail="Invalid API key")
                return x_api_key

            @app.get("/data")
            def data(key: str = Depends(api_key)) -> str:
                return "data"
        """
    }
    settings = Settings(app_directory="backend", app="main:app", auth_dependencies=("api_key",))
    result = gate(GateContext(make(repos, files), None, settings))
    assert row(result, "GET", "/data")["probe"] == "rejected: 401 (all 4)"
    assert result.verdict == "pass", result.unverified
