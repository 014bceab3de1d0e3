"""Owner scoping that decides: declarative models, gating checks only, changed code, exempt routes."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from bot.gates import Finding, GateContext, GateResult
from bot.gates.app_source import locate_app
from bot.gates.fastapi_auth import gate
from bot.gates.static_routes import static_app_info
from bot.settings import Settings

MODELS = """
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    author = Column(Integer, ForeignKey("users.id"))
    text = Column(String)


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""
ROUTES = """
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.security import HTTPBearer
from sqlalchemy import select

from svc.models import Note, Tag

bearer = HTTPBearer()
app = FastAPI()
router = APIRouter()


def current_user(token=Depends(bearer)) -> int:
    return 1


def get_session():
    return None


@router.get("/notes")
def notes(user: int = Depends(current_user), session=Depends(get_session)) -> list[str]:
    return [n.text for n in session.query(Note).filter(Note.author == user)]


@router.get("/notes/all")
def all_notes(user: int = Depends(current_user), session=Depends(get_session)) -> list[str]:
    return [n.text for n in session.query(Note).all()]


@router.get("/notes/{note_id}")
def one_note(note_id: int, user: int = Depends(current_user), session=Depends(get_session)) -> str:
    note = session.get(Note, note_id)
    if note is None or note.author != user:
        raise HTTPException(status_code=404)
    return note.text


@router.get("/tags/{tag_id}")
def one_tag(tag_id: int, user: int = Depends(current_user), session=Depends(get_session)) -> int:
    tag = session.get(Tag, tag_id)
    print(tag.owner_id, user)  # mentions both, gates nothing
    return tag.id


@router.get("/tags")
def tags(user: int = Depends(current_user), session=Depends(get_session)) -> list[int]:
    return list(session.scalars(select(Tag).where(Tag.owner_id == user)))


@router.get("/tags/mine")
def my_tags(user: int = Depends(current_user), session=Depends(get_session)) -> list[int]:
    conditions = []
    conditions.append(Tag.owner_id == user)  # collected, then spread into the where
    return list(session.scalars(select(Tag).where(*conditions)))


@router.get("/tags/decoy")
def decoy_tags(user: int = Depends(current_user), session=Depends(get_session)) -> list[int]:
    seen = []
    seen.append(Tag.owner_id == user)  # collected, but never gates the query
    return list(session.scalars(select(Tag).where(Tag.id > 0)))


app.include_router(router)
"""
FILES = {"backend/svc/__init__.py": "", "backend/svc/models.py": MODELS, "backend/svc/main.py": ROUTES}
NEW_ROUTE = """

@app.get("/tags/export")
def export(user: int = Depends(current_user), session=Depends(get_session)) -> list[int]:
    return list(session.scalars(select(Tag)))
"""


def judge(repo: Path, base: str | None, **settings: object) -> GateResult:
    ctx = GateContext(repo, base, Settings(app_directory="backend", app="svc.main:app", **settings))  # type: ignore[arg-type]
    location = locate_app(ctx.app_dir, ctx.settings.app)
    assert location is not None
    return gate(ctx, static_app_info(ctx, location))


def owner(result: GateResult) -> list[Finding]:
    return sorted((f for f in result.findings if f.rule == "owner-scope"), key=lambda f: f.line or 0)


def scoped(result: GateResult) -> dict[str, object]:
    rows = result.details["routes"]
    assert isinstance(rows, list)
    return {r["path"]: r["owner_scoped"] for r in rows if r["path"].startswith(("/notes", "/tags"))}


def line_of(repo: Path, needle: str) -> int:
    text = (repo / "backend/svc/main.py").read_text().splitlines()
    return next(n for n, line in enumerate(text, 1) if needle in line)


def test_declarative_models_and_only_gating_comparisons(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({k: textwrap.dedent(v) for k, v in FILES.items()})
    result = judge(repo, None)
    assert scoped(result) == {
        "/notes": True,
        "/notes/all": False,
        "/notes/{note_id}": True,  # the owner check raises
        "/tags/{tag_id}": False,  # print() is not a check
        "/tags": True,
        "/tags/mine": True,
        "/tags/decoy": False,
    }
    assert [(f.line, f.severity) for f in owner(result)] == [
        (line_of(repo, "session.query(Note).all()"), "error"),
        (line_of(repo, "tag = session.get(Tag, tag_id)"), "error"),
        (line_of(repo, "select(Tag).where(Tag.id > 0)"), "error"),
    ]
    assert "Note.author holds the owner" in owner(result)[0].message
    assert result.verdict == "fail"


def test_unchanged_code_warns_and_new_code_fails(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({k: textwrap.dedent(v) for k, v in FILES.items()})
    before = judge(repo, "HEAD")
    assert {f.severity for f in owner(before)} == {"warning"}
    assert all(f.message.endswith("(unchanged since the base commit)") for f in owner(before))
    with (repo / "backend/svc/main.py").open("a") as handle:
        handle.write(NEW_ROUTE)
    after = judge(repo, "HEAD")
    [new] = [f for f in owner(after) if f.severity == "error"]
    assert new.line == line_of(repo, "session.scalars(select(Tag))")
    assert new.message.startswith("GET /tags/export: `select(Tag)` reads Tag rows")


def test_an_exempt_route_is_a_warning(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({k: textwrap.dedent(v) for k, v in FILES.items()})
    result = judge(repo, None, owner_scope_exempt=("GET /notes/all", "/tags/*"))
    assert [f.severity for f in owner(result)] == ["warning", "warning", "warning"]  # /tags/* has two
    assert all("(exempt: owner-scope-exempt)" in f.message for f in owner(result))


REBOUND_ROUTES = """

@app.get("/tags/by-kind")
def tags_by_kind(kind: str = "", user: int = Depends(current_user), session=Depends(get_session)):
    conditions = [Tag.owner_id == user]
    if kind:
        conditions = [Tag.id == len(kind)]  # replaces the owner condition instead of adding to it
    return list(session.scalars(select(Tag).where(*conditions)))


@app.get("/tags/narrowed")
def narrowed_tags(kind: str = "", user: int = Depends(current_user), session=Depends(get_session)):
    conditions = []
    conditions.append(Tag.owner_id == user)
    if kind:
        conditions = conditions + [Tag.id == len(kind)]  # still carries the owner condition
    return list(session.scalars(select(Tag).where(*conditions)))
"""


def test_a_condition_list_rebound_without_the_owner_no_longer_scopes(git_repo: Callable[..., Path]) -> None:
    # The taskboard eval task 003-task-priority's buggy session: `conditions = [priority == p]`
    # after `conditions = [user_id == user_id]` lists every user's rows when the filter is given.
    files = {k: textwrap.dedent(v) for k, v in FILES.items()}
    files["backend/svc/main.py"] += REBOUND_ROUTES
    repo = git_repo(files)
    result = judge(repo, None)
    assert scoped(result)["/tags/by-kind"] is False
    assert scoped(result)["/tags/narrowed"] is True
    [by_kind] = [f for f in owner(result) if f.message.startswith("GET /tags/by-kind")]
    assert by_kind.severity == "error"


def test_rebinding_the_owner_condition_away_is_a_change_to_the_query(git_repo: Callable[..., Path]) -> None:
    # The query line stays as it was; the change rebinds its conditions: an error, not "unchanged".
    files = {k: textwrap.dedent(v) for k, v in FILES.items()}
    files["backend/svc/main.py"] += REBOUND_ROUTES.replace("conditions = [Tag.id == len(kind)]", "pass")
    repo = git_repo(files)
    assert [f for f in owner(judge(repo, "HEAD")) if "/tags/by-kind" in f.message] == []
    main = repo / "backend/svc/main.py"
    main.write_text(
        main.read_text().replace("        pass  #", "        conditions = [Tag.id == len(kind)]  #")
    )
    [found] = [f for f in owner(judge(repo, "HEAD")) if f.message.startswith("GET /tags/by-kind")]
    assert found.severity == "error"
    assert not found.message.endswith("(unchanged since the base commit)")


REBOUND_NAMES = """

@app.get("/tags/narrowed")
def narrowed(q: int = 0, user: int = Depends(current_user), session=Depends(get_session)) -> list[int]:
    owned = Tag.owner_id == user
    if q:
        owned = owned & (Tag.id == q)  # still the user's scope, narrowed
    return list(session.scalars(select(Tag).where(owned)))


@app.get("/tags/rebound")
def rebound(q: int = 0, user: int = Depends(current_user), session=Depends(get_session)) -> list[int]:
    owned = Tag.owner_id == user
    if q:
        owned = Tag.id == q  # replaces the user's scope on this path
    return list(session.scalars(select(Tag).where(owned)))
"""


def test_a_condition_rebound_without_the_user_no_longer_scopes(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({k: textwrap.dedent(v) for k, v in FILES.items()})
    with (repo / "backend/svc/main.py").open("a") as handle:
        handle.write(REBOUND_NAMES)
    result = judge(repo, None)
    found = scoped(result)
    assert (found["/tags/narrowed"], found["/tags/rebound"]) == (True, False)
    [rebound] = [f for f in owner(result) if f.message.startswith("GET /tags/rebound")]
    assert rebound.severity == "error"


def test_an_unchanged_query_unscoped_by_a_changed_line_of_its_function_fails(
    git_repo: Callable[..., Path],
) -> None:
    narrowed_only = REBOUND_NAMES.replace("owned = Tag.id == q  #", "owned = owned & (Tag.id == q)  #")
    files = {k: textwrap.dedent(v) for k, v in FILES.items()}
    repo = git_repo({**files, "backend/svc/main.py": files["backend/svc/main.py"] + narrowed_only})
    assert not [f for f in owner(judge(repo, "HEAD")) if "/tags/rebound" in f.message]
    (repo / "backend/svc/main.py").write_text(files["backend/svc/main.py"] + REBOUND_NAMES)
    [rebound] = [f for f in owner(judge(repo, "HEAD")) if f.message.startswith("GET /tags/rebound")]
    # the query's own line is unchanged; the rebinding two lines above it is what unscoped it
    assert rebound.severity == "error"
    assert not rebound.message.endswith("(unchanged since the base commit)")
