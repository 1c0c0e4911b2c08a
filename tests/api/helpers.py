"""Shared helpers for the auth and users API tests."""

from __future__ import annotations

import uuid
from typing import Any

from quart.typing import TestClientProtocol as Client

PASSWORD = "Sturdy-Pass-42"


def new_account(**overrides: Any) -> dict[str, Any]:
    name = f"u{uuid.uuid4().hex[:10]}"
    return {
        "username": name,
        "email": f"{name}@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        **overrides,
    }


async def register(client: Client, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/register", json=new_account(**overrides))
    assert response.status_code == 201, await response.get_json()
    body: dict[str, Any] = await response.get_json()
    return body


async def login(client: Client, username: str, password: str = PASSWORD) -> Any:
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


async def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = await response.get_json()
    assert response.status_code == status, body
    assert response.content_type == "application/problem+json"
    assert body["code"] == code, body
    return body
