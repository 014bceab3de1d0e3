"""Hidden acceptance tests of 001-item-due-dates (the agent never sees them; see ../corpus.yaml).

Written from the spec alone. The docstring of each test names the acceptance scenario it proves.
They use the template's own fixtures (client, db, normal_user_token_headers,
superuser_token_headers) and its helper for further users, so any correct implementation passes.
"""

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import settings
from tests.utils.user import authentication_token_from_email
from tests.utils.utils import random_email

ITEMS = f"{settings.API_V1_STR}/items/"
# Not YYYY-MM-DD calendar dates (US1-AS4): an impossible day, words, a Unix timestamp (midnight
# UTC, which lax date parsing would accept), a date with a time of day, midnight included.
INVALID: tuple[Any, ...] = ("2030-02-30", "next friday", 1893456000, "2030-05-01T10:00:00", "2030-05-01T00:00:00")


def _user(client: TestClient, db: Session) -> dict[str, str]:
    """A fresh normal user's headers: their list holds only what the test created."""
    return authentication_token_from_email(client=client, email=random_email(), db=db)


def _create(client: TestClient, headers: dict[str, str], due: str | None) -> dict[str, Any]:
    body = {"title": f"hidden-{uuid.uuid4().hex[:8]}"}
    if due is not None:
        body["due_date"] = due
    response = client.post(ITEMS, headers=headers, json=body)
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()
    return item


def _ids(client: TestClient, headers: dict[str, str], **params: str) -> tuple[set[str], int]:
    response = client.get(ITEMS, headers=headers, params={"limit": "1000", **params})
    assert response.status_code == 200, response.text
    data = response.json()
    return {item["id"] for item in data["data"]}, data["count"]


def _names_field(response: Any, where: str, name: str) -> bool:
    return [where, name] in [error["loc"] for error in response.json()["detail"]]


def test_us1_1_2_3_a_due_date_is_stored_changed_and_cleared(
    client: TestClient, normal_user_token_headers: dict[str, str]
) -> None:
    """US1-1, US1-2, US1-3: set on create, changed (other fields kept), cleared; read back each time."""
    item = _create(client, normal_user_token_headers, "2030-05-01")
    assert item["due_date"] == "2030-05-01"
    url = f"{ITEMS}{item['id']}"
    assert client.get(url, headers=normal_user_token_headers).json()["due_date"] == "2030-05-01"
    changed = client.put(url, headers=normal_user_token_headers, json={"due_date": "2030-06-15"})
    assert changed.status_code == 200
    assert changed.json()["due_date"] == "2030-06-15"
    assert changed.json()["title"] == item["title"]
    assert client.get(url, headers=normal_user_token_headers).json()["due_date"] == "2030-06-15"
    cleared = client.put(url, headers=normal_user_token_headers, json={"due_date": None})
    assert cleared.status_code == 200
    assert client.get(url, headers=normal_user_token_headers).json()["due_date"] is None


def test_us1_4_an_invalid_due_date_on_create_is_refused_and_nothing_stored(
    client: TestClient, db: Session
) -> None:
    """US1-4 (create): each invalid due date is a 422 naming body.due_date; no item is stored."""
    headers = _user(client, db)
    for bad in INVALID:
        response = client.post(ITEMS, headers=headers, json={"title": "x", "due_date": bad})
        assert response.status_code == 422, (bad, response.text)
        assert _names_field(response, "body", "due_date"), (bad, response.text)
    assert _ids(client, headers) == (set(), 0)


def test_us1_4_an_invalid_due_date_on_update_is_refused_and_nothing_changed(
    client: TestClient, db: Session
) -> None:
    """US1-4 (update): each invalid due date is a 422 naming body.due_date; the item is unchanged."""
    headers = _user(client, db)
    item = _create(client, headers, "2030-05-01")
    url = f"{ITEMS}{item['id']}"
    for bad in INVALID:
        response = client.put(url, headers=headers, json={"title": "changed", "due_date": bad})
        assert response.status_code == 422, (bad, response.text)
        assert _names_field(response, "body", "due_date"), (bad, response.text)
    read = client.get(url, headers=headers).json()
    assert (read["due_date"], read["title"]) == ("2030-05-01", item["title"])


def test_us1_5_items_and_clients_without_a_due_date_keep_working(
    client: TestClient, db: Session
) -> None:
    """US1-5 (and FR-008): an item without a due date reads back with none; an update that never
    sends a due date leaves the stored one alone."""
    headers = _user(client, db)
    plain = client.post(ITEMS, headers=headers, json={"title": "old", "description": "as before"})
    assert plain.status_code == 200
    read = client.get(f"{ITEMS}{plain.json()['id']}", headers=headers).json()
    assert (read["title"], read["description"], read["due_date"]) == ("old", "as before", None)
    dated = _create(client, headers, "2030-05-01")
    renamed = client.put(f"{ITEMS}{dated['id']}", headers=headers, json={"title": "renamed"})
    assert renamed.status_code == 200
    assert client.get(f"{ITEMS}{dated['id']}", headers=headers).json()["due_date"] == "2030-05-01"


def test_us2_1_overdue_lists_only_items_due_strictly_before_today(
    client: TestClient, db: Session
) -> None:
    """US2-1: overdue is due strictly before today (UTC): not today, not later, not undated."""
    headers = _user(client, db)
    today = datetime.now(timezone.utc).date()
    past = _create(client, headers, "2000-01-01")
    yesterday = _create(client, headers, (today - timedelta(days=1)).isoformat())
    _create(client, headers, today.isoformat())
    _create(client, headers, "2999-12-31")
    _create(client, headers, None)
    found = _ids(client, headers, overdue="true")
    if datetime.now(timezone.utc).date() == today:  # the date did not change while the test ran
        assert found == ({past["id"], yesterday["id"]}, 2)


def test_us2_2_due_before_excludes_the_given_day_and_refuses_a_non_date(
    client: TestClient, db: Session
) -> None:
    """US2-2: due_before=2030-02-20 lists only what is due earlier (count 1); 'soon' is a 422
    naming query.due_before."""
    headers = _user(client, db)
    early = _create(client, headers, "2030-01-10")
    _create(client, headers, "2030-02-20")
    _create(client, headers, None)
    assert _ids(client, headers, due_before="2030-02-20") == ({early["id"]}, 1)
    refused = client.get(ITEMS, headers=headers, params={"due_before": "soon"})
    assert refused.status_code == 422
    assert _names_field(refused, "query", "due_before"), refused.text


def test_us2_3_a_filter_never_shows_another_users_items(client: TestClient, db: Session) -> None:
    """US2-3: with either filter, user A sees and counts only A's items, none of B's."""
    alice, bob = _user(client, db), _user(client, db)
    hers = _create(client, alice, "2000-01-02")
    _create(client, bob, "2000-01-02")
    for params in ({"overdue": "true"}, {"due_before": "2031-01-01"}):
        assert _ids(client, alice, **params) == ({hers["id"]}, 1), params


def test_us2_4_a_superuser_sees_every_users_overdue_items(
    client: TestClient, db: Session, superuser_token_headers: dict[str, str]
) -> None:
    """US2-4: a superuser's overdue list holds every user's overdue items and nothing else."""
    first, second = _user(client, db), _user(client, db)
    late = {_create(client, first, "2000-01-03")["id"], _create(client, second, "2000-01-04")["id"]}
    later = _create(client, first, "2999-01-01")["id"]
    ids, count = _ids(client, superuser_token_headers, overdue="true")
    assert late <= ids
    assert later not in ids
    assert count == len(ids)


def test_edge_the_filters_keep_paging_and_count_the_filtered_set(
    client: TestClient, db: Session
) -> None:
    """Edge cases (paging; an empty match): a page of the overdue list, the count of all of it;
    a filter that matches nothing is an empty list with count 0."""
    headers = _user(client, db)
    late = {_create(client, headers, f"2000-01-0{day}")["id"] for day in (1, 2, 3)}
    _create(client, headers, "2999-12-31")
    response = client.get(ITEMS, headers=headers, params={"overdue": "true", "skip": "1", "limit": "1"})
    assert response.status_code == 200
    page = response.json()
    assert len(page["data"]) == 1 and page["data"][0]["id"] in late
    assert page["count"] == 3
    assert _ids(client, headers, due_before="1999-01-01") == (set(), 0)
