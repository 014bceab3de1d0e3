"""Hidden acceptance tests of 001-item-due-dates (the agent never sees them; see ../corpus.yaml).

Each test names the acceptance scenario it proves. They use the template's own fixtures (client,
normal_user_token_headers, superuser_token_headers) and its helper for a second user.
"""

import uuid
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import settings
from tests.utils.user import authentication_token_from_email
from tests.utils.utils import random_email

ITEMS = f"{settings.API_V1_STR}/items/"


def _create(client: TestClient, headers: dict[str, str], due: str | None) -> dict:
    body = {"title": f"hidden-{uuid.uuid4().hex[:8]}"}
    if due is not None:
        body["due_date"] = due
    response = client.post(ITEMS, headers=headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(client: TestClient, headers: dict[str, str], **params: str) -> tuple[set[str], int]:
    response = client.get(ITEMS, headers=headers, params={"limit": "1000", **params})
    assert response.status_code == 200, response.text
    data = response.json()
    return {item["id"] for item in data["data"]}, data["count"]


def test_us1_1_2_3_a_due_date_is_stored_changed_and_cleared(
    client: TestClient, normal_user_token_headers: dict[str, str]
) -> None:
    item = _create(client, normal_user_token_headers, "2030-05-01")
    assert item["due_date"] == "2030-05-01"
    url = f"{ITEMS}{item['id']}"
    changed = client.put(url, headers=normal_user_token_headers, json={"due_date": "2030-06-15"})
    assert changed.status_code == 200
    assert changed.json()["due_date"] == "2030-06-15"
    assert changed.json()["title"] == item["title"]
    cleared = client.put(url, headers=normal_user_token_headers, json={"due_date": None})
    assert cleared.status_code == 200
    assert client.get(url, headers=normal_user_token_headers).json()["due_date"] is None


def test_us1_4_an_invalid_due_date_is_refused_naming_the_field(
    client: TestClient, normal_user_token_headers: dict[str, str]
) -> None:
    for bad in ("2030-02-30", "next friday", 1893456000, "2030-05-01T10:00:00"):
        response = client.post(ITEMS, headers=normal_user_token_headers, json={"title": "x", "due_date": bad})
        assert response.status_code == 422, (bad, response.text)
        assert "due_date" in response.text


def test_us2_1_overdue_lists_only_items_due_strictly_before_today(
    client: TestClient, normal_user_token_headers: dict[str, str]
) -> None:
    today = datetime.now(timezone.utc).date()
    past = _create(client, normal_user_token_headers, "2000-01-01")
    due_today = _create(client, normal_user_token_headers, today.isoformat())
    future = _create(client, normal_user_token_headers, "2999-12-31")
    undated = _create(client, normal_user_token_headers, None)
    yesterday = _create(client, normal_user_token_headers, (today - timedelta(days=1)).isoformat())
    ids, count = _ids(client, normal_user_token_headers, overdue="true")
    assert {past["id"], yesterday["id"]} <= ids
    assert not ids & {due_today["id"], future["id"], undated["id"]}
    assert count == len(ids)


def test_us2_2_due_before_excludes_the_given_day_and_refuses_a_non_date(
    client: TestClient, normal_user_token_headers: dict[str, str]
) -> None:
    early = _create(client, normal_user_token_headers, "2030-01-10")
    on_day = _create(client, normal_user_token_headers, "2030-02-20")
    undated = _create(client, normal_user_token_headers, None)
    ids, count = _ids(client, normal_user_token_headers, due_before="2030-02-20")
    assert early["id"] in ids
    assert not ids & {on_day["id"], undated["id"]}
    assert count == len(ids)
    refused = client.get(ITEMS, headers=normal_user_token_headers, params={"due_before": "soon"})
    assert refused.status_code == 422
    assert "due_before" in refused.text


def test_us2_3_a_filter_never_shows_another_users_items(
    client: TestClient, normal_user_token_headers: dict[str, str], db: Session
) -> None:
    other = authentication_token_from_email(client=client, email=random_email(), db=db)
    theirs = _create(client, other, "2000-01-02")
    for params in ({"overdue": "true"}, {"due_before": "2031-01-01"}):
        ids, count = _ids(client, normal_user_token_headers, **params)
        assert theirs["id"] not in ids
        assert count == len(ids)


def test_us2_4_a_superuser_sees_every_users_overdue_items(
    client: TestClient, normal_user_token_headers: dict[str, str], superuser_token_headers: dict[str, str]
) -> None:
    mine = _create(client, normal_user_token_headers, "2000-01-03")
    later = _create(client, normal_user_token_headers, "2999-01-01")
    ids, _ = _ids(client, superuser_token_headers, overdue="true")
    assert mine["id"] in ids
    assert later["id"] not in ids
