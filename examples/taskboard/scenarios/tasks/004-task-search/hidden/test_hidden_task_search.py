"""Held-out acceptance tests for 004-task-search, written from its spec alone.

The agent never sees them: the eval copies this folder into the work tree after a session ended
and runs it in the sandbox, to learn whether the work really meets the spec. They use only what
spec 001 already gives the tests (the `client`, `alice` and `bob` fixtures) and the v1.1.0
contract's `q`, so any correct implementation passes them. Newest first is checked through ids:
a later-created task has a larger id and, at equal times, 001 breaks ties by id.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

Headers = dict[str, str]


def _create(client: TestClient, who: Headers, *titles: str) -> list[int]:
    ids = []
    for title in titles:
        response = client.post("/api/tasks", json={"title": title}, headers=who)
        assert response.status_code == 201, response.text
        ids.append(int(response.json()["id"]))
    return ids


def _search(client: TestClient, who: Headers, q: str, **params: int) -> dict[str, Any]:
    response = client.get("/api/tasks", params={"q": q, **params}, headers=who)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _titles(page: dict[str, Any]) -> list[str]:
    return [item["title"] for item in page["items"]]


def _rejected_at_q(client: TestClient, who: Headers, q: str) -> bool:
    response = client.get("/api/tasks", params={"q": q}, headers=who)
    if response.status_code != 422:
        return False
    return ["query", "q"] in [error.get("loc") for error in response.json().get("detail", [])]


def test_us1_1_only_matching_titles_newest_first(client: TestClient, alice: Headers) -> None:
    """US1-1: "milk" finds "Buy milk" and "Milkshake recipe" only, newest first."""
    _create(client, alice, "Buy milk", "Call the bank", "Milkshake recipe")
    page = _search(client, alice, "milk")
    assert _titles(page) == ["Milkshake recipe", "Buy milk"]
    assert page["total"] == 2


def test_us1_2_case_is_ignored(client: TestClient, alice: Headers) -> None:
    """US1-2: "passport" and "Passport" both find "Renew PASSPORT"."""
    _create(client, alice, "Renew PASSPORT", "Water plants")
    for q in ("passport", "Passport", "pASSport"):
        assert _titles(_search(client, alice, q)) == ["Renew PASSPORT"], q


def test_us1_3_percent_and_underscore_are_literal(client: TestClient, alice: Headers) -> None:
    """US1-3: "50%" finds "50% discount code", not "500 emails to answer" (no wildcards)."""
    _create(client, alice, "50% discount code", "500 emails to answer", "a_b", "axb")
    assert _titles(_search(client, alice, "50%")) == ["50% discount code"]
    assert _titles(_search(client, alice, "a_b")) == ["a_b"]


def test_us1_4_another_users_tasks_never_appear_or_count(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    """US1-4: A's search for "dentist" shows only A's task, and the total is 1."""
    (mine,) = _create(client, alice, "Dentist appointment")
    _create(client, bob, "Dentist appointment", "Dentist invoice")
    page = _search(client, alice, "dentist")
    assert [item["id"] for item in page["items"]] == [mine]
    assert page["total"] == 1


def test_us1_5_paging_applies_to_the_matches(client: TestClient, alice: Headers) -> None:
    """US1-5: three "report" tasks of five, page size 2: the two newest matches, total 3."""
    ids = _create(client, alice, "Q1 report", "Buy stamps", "Q2 report", "Water plants", "Q3 report")
    page = _search(client, alice, "report", limit=2)
    assert [item["id"] for item in page["items"]] == [ids[4], ids[2]]
    assert page["total"] == 3
    assert [item["id"] for item in _search(client, alice, "report", limit=2, offset=2)["items"]] == [ids[0]]


def test_us1_6_no_match_is_an_empty_page(client: TestClient, alice: Headers) -> None:
    """US1-6: a search nothing matches is an empty list with total 0, not an error."""
    _create(client, alice, "Buy milk")
    page = _search(client, alice, "holiday")
    assert (page["items"], page["total"]) == ([], 0)


def test_us2_1_empty_or_blank_text_is_rejected_naming_q(client: TestClient, alice: Headers) -> None:
    """US2-1: empty text and only spaces are each a 422 naming q."""
    assert _rejected_at_q(client, alice, "")
    assert _rejected_at_q(client, alice, "    ")


def test_us2_2_at_most_100_characters(client: TestClient, alice: Headers) -> None:
    """US2-2: 101 characters are a 422 naming q; exactly 100 are accepted."""
    _create(client, alice, "y" * 150)
    assert _rejected_at_q(client, alice, "y" * 101)
    assert _search(client, alice, "y" * 100)["total"] == 1


def test_us2_3_surrounding_spaces_are_trimmed(client: TestClient, alice: Headers) -> None:
    """US2-3: "  milk  " finds "Buy milk" as "milk" does."""
    _create(client, alice, "Buy milk", "Call the bank")
    assert _titles(_search(client, alice, "  milk  ")) == ["Buy milk"]


def test_fr_005_without_q_the_list_is_unchanged(client: TestClient, alice: Headers) -> None:
    """FR-005: without q every task is listed, newest first, as in 001."""
    ids = _create(client, alice, "Buy milk", "Call the bank")
    response = client.get("/api/tasks", headers=alice)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [ids[1], ids[0]]


def test_fr_006_searching_needs_a_token(client: TestClient) -> None:
    """FR-006: a search without a token is a 401."""
    assert client.get("/api/tasks", params={"q": "milk"}).status_code == 401
