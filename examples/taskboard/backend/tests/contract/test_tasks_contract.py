"""Contract tests for POST /api/tasks, GET /api/tasks and GET /api/tasks/{task_id} (T011).

Real responses are validated against the schemas in contracts/openapi.yaml.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.contract.openapi_contract import check_response

Headers = dict[str, str]
COLLECTION = "/api/tasks"
ITEM = "/api/tasks/{task_id}"


def test_create_task_201(client: TestClient, alice: Headers) -> None:
    response = client.post(
        COLLECTION, json={"title": "Buy milk", "description": None}, headers=alice
    )
    assert response.status_code == 201
    check_response(response, COLLECTION, "post")


def test_create_task_401(client: TestClient) -> None:
    response = client.post(COLLECTION, json={"title": "Buy milk"})
    assert response.status_code == 401
    check_response(response, COLLECTION, "post")


def test_create_task_422(client: TestClient, alice: Headers) -> None:
    response = client.post(COLLECTION, json={"title": ""}, headers=alice)
    assert response.status_code == 422
    check_response(response, COLLECTION, "post")


def test_list_tasks_200(client: TestClient, alice: Headers) -> None:
    client.post(COLLECTION, json={"title": "one", "description": "with text"}, headers=alice)
    client.post(COLLECTION, json={"title": "two"}, headers=alice)
    response = client.get(COLLECTION, headers=alice)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 2
    check_response(response, COLLECTION, "get")


def test_list_tasks_401(client: TestClient) -> None:
    response = client.get(COLLECTION)
    assert response.status_code == 401
    check_response(response, COLLECTION, "get")


def test_list_tasks_422(client: TestClient, alice: Headers) -> None:
    response = client.get(COLLECTION, params={"limit": 101}, headers=alice)
    assert response.status_code == 422
    check_response(response, COLLECTION, "get")


def test_get_task_200(client: TestClient, alice: Headers) -> None:
    task_id = client.post(COLLECTION, json={"title": "one"}, headers=alice).json()["id"]
    response = client.get(f"/api/tasks/{task_id}", headers=alice)
    assert response.status_code == 200
    check_response(response, ITEM, "get")


def test_get_task_401(client: TestClient) -> None:
    response = client.get("/api/tasks/1", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401
    check_response(response, ITEM, "get")


def test_get_task_404(client: TestClient, alice: Headers) -> None:
    response = client.get("/api/tasks/1", headers=alice)
    assert response.status_code == 404
    check_response(response, ITEM, "get")
