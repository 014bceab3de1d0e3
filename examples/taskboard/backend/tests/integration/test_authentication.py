"""FR-001: every task operation rejects requests without a valid token, before touching data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from src.api import tasks
from src.auth import get_current_user_id

# pragma: allowlist nextline secret
OTHER_SECRET = "a-secret-the-server-does-not-know-".ljust(64, "z")

OPERATIONS = [
    ("GET", "/api/tasks", None),
    ("POST", "/api/tasks", {"title": "x"}),
    ("GET", "/api/tasks/1", None),
    ("PATCH", "/api/tasks/1", {"completed": True}),
    ("DELETE", "/api/tasks/1", None),
]


def _bad_headers(make_token: Any) -> dict[str, dict[str, str]]:
    return {
        "missing": {},
        "wrong scheme": {"Authorization": f"Basic {make_token()}"},
        "malformed": {"Authorization": "Bearer not.a.jwt"},
        "expired": {"Authorization": f"Bearer {make_token(expires_in=timedelta(seconds=-1))}"},
        "forged": {"Authorization": f"Bearer {make_token(secret=OTHER_SECRET)}"},
    }


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_every_operation_requires_a_valid_token(
    client: TestClient, make_token: Any, method: str, path: str, body: dict[str, Any] | None
) -> None:
    for case, headers in _bad_headers(make_token).items():
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, case
        assert response.headers["www-authenticate"] == "Bearer", case
        assert set(response.json()) == {"detail"}, case


def test_rejected_write_stores_nothing(client: TestClient, alice: dict[str, str]) -> None:
    client.post("/api/tasks", json={"title": "sneaky"}, headers={"Authorization": "Bearer x"})
    assert client.get("/api/tasks", headers=alice).json()["total"] == 0


def _depends_on(dependant: Dependant, target: object) -> bool:
    return any(sub.call is target or _depends_on(sub, target) for sub in dependant.dependencies)


def test_every_task_route_depends_on_get_current_user_id() -> None:
    routes = [route for route in tasks.router.routes if isinstance(route, APIRoute)]
    assert len(routes) == 5
    unprotected = [
        f"{sorted(route.methods)} {route.path}"
        for route in routes
        if not _depends_on(route.dependant, get_current_user_id)
    ]
    assert unprotected == []


def test_every_api_operation_declares_bearer_security(app: FastAPI) -> None:
    # Looks at the app as mounted, so a route added to another router is caught as well.
    operations = [
        (method, path, operation)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    assert len(operations) == 5
    assert all(op.get("security") == [{"bearerAuth": []}] for _, _, op in operations)
