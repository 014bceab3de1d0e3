"""Hidden acceptance tests of 002-item-search (the agent never sees them; see ../corpus.yaml).

Written from the spec alone: each test's docstring names the acceptance scenario it proves. They
use the template's own fixtures (client, db, superuser_token_headers) and helpers, and give every
test fresh users and a word of its own, so rows other tests leave behind never match.
"""

import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import settings
from tests.utils.user import authentication_token_from_email
from tests.utils.utils import random_email

ITEMS = f"{settings.API_V1_STR}/items/"


def _user(client: TestClient, db: Session) -> dict[str, str]:
    return authentication_token_from_email(client=client, email=random_email(), db=db)


def _word() -> str:
    return f"zq{uuid.uuid4().hex[:10]}"


def _create(client: TestClient, headers: dict[str, str], title: str, description: str | None = None) -> str:
    body: dict[str, str] = {"title": title}
    if description is not None:
        body["description"] = description
    response = client.post(ITEMS, headers=headers, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _search(client: TestClient, headers: dict[str, str], **params: str) -> tuple[list[str], int]:
    response = client.get(ITEMS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in body["data"]], body["count"]


def test_us1_1_title_or_description_in_any_case(client: TestClient, db: Session) -> None:
    """US1-1: a search finds a match in the title or in the description, whatever the case."""
    me, word = _user(client, db), _word()
    in_title = _create(client, me, f"Buy {word.upper()}")
    in_description = _create(client, me, "Groceries", f"{word} and eggs")
    _create(client, me, "Call mom")
    _create(client, me, "No description at all")
    ids, count = _search(client, me, q=word.capitalize())
    assert set(ids) == {in_title, in_description}
    assert count == 2


def test_us1_2_paging_applies_to_the_matches_and_count_counts_them_all(client: TestClient, db: Session) -> None:
    """US1-2: skip/limit page through the matches; count is the number of all matches."""
    me, word = _user(client, db), _word()
    matching = {_create(client, me, f"{word} {n}") for n in range(3)}
    _create(client, me, "unrelated")
    seen: list[str] = []
    for skip in range(3):
        ids, count = _search(client, me, q=word, skip=str(skip), limit="1")
        assert count == 3
        seen += ids
    assert sorted(seen) == sorted(matching)  # three pages of one: every match exactly once
    assert _search(client, me, q=word, skip="3", limit="1") == ([], 3)


def test_us1_3_no_match_is_an_empty_list(client: TestClient, db: Session) -> None:
    """US1-3: a search that matches nothing is an empty list with count 0."""
    me = _user(client, db)
    _create(client, me, "Buy milk", "semi-skimmed")
    assert _search(client, me, q=_word()) == ([], 0)


def test_us1_4_percent_and_underscore_are_literal(client: TestClient, db: Session) -> None:
    """US1-4: "50%" finds "50% off" only; `_` is not a wildcard either."""
    me, word = _user(client, db), _word()
    percent = _create(client, me, f"{word} 50% off")
    _create(client, me, f"{word} 500 off")
    underscore = _create(client, me, f"{word} a_b")
    _create(client, me, f"{word} axb")
    assert _search(client, me, q="50%") == ([percent], 1)
    assert _search(client, me, q=f"{word} a_b") == ([underscore], 1)


def test_us1_5_empty_or_over_100_characters_is_refused_naming_q(client: TestClient, db: Session) -> None:
    """US1-5: an empty q or one of 101 characters is refused naming q; exactly 100 is accepted."""
    me = _user(client, db)
    for bad in ("", "y" * 101):
        response = client.get(ITEMS, headers=me, params={"q": bad})
        assert response.status_code == 422, (len(bad), response.text)
        assert any(error["loc"][-1] == "q" for error in response.json()["detail"]), response.text
    assert _search(client, me, q="y" * 100) == ([], 0)


def test_us2_1_a_normal_user_finds_only_their_own_items(client: TestClient, db: Session) -> None:
    """US2-1: user A's search shows and counts none of user B's matching items."""
    alice, bob, word = _user(client, db), _user(client, db), _word()
    hers = _create(client, alice, f"{word} invoice")
    _create(client, bob, f"{word} invoice")
    _create(client, bob, "Paid", f"the {word} invoice")
    assert _search(client, alice, q=word) == ([hers], 1)
    assert _search(client, bob, q=word)[1] == 2


def test_us2_2_a_superuser_finds_every_users_matches(
    client: TestClient, db: Session, superuser_token_headers: dict[str, str]
) -> None:
    """US2-2: a superuser's search finds the matching items of every user and no others."""
    alice, bob, word = _user(client, db), _user(client, db), _word()
    matches = {_create(client, alice, f"{word} one"), _create(client, bob, "Paid", f"the {word} two")}
    _create(client, bob, "Lunch")
    ids, count = _search(client, superuser_token_headers, q=word)
    assert set(ids) == matches
    assert count == 2


def test_without_q_the_list_is_unchanged(client: TestClient, db: Session) -> None:
    """FR-006 (edge case): without q a user still lists all of their own items and only those."""
    alice, bob = _user(client, db), _user(client, db)
    mine = {_create(client, alice, "first"), _create(client, alice, "second", "x")}
    _create(client, bob, "someone else's")
    ids, count = _search(client, alice)
    assert set(ids) == mine
    assert count == 2
