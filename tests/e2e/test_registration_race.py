"""Concurrent registrations on a real server: the unique constraint decides."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from tests.support.server import LiveServer

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
PASSWORD = "Sturdy-Pass-42"
# Limits off and a patient hash pool: this test is about the constraint only.
SERVER_ENV = {
    "RATE_LIMIT_REGISTER": "0",
    "RATE_LIMIT_LOGIN": "0",
    "PASSWORD_HASH_WAIT": "30",
}


def variants(name: str, count: int) -> list[str]:
    """`count` spellings of `name` that differ only in letter case."""
    return [
        "".join(c.upper() if (n >> i) & 1 else c for i, c in enumerate(name))
        for n in range(count)
    ]


async def register_all(base_url: str, bodies: list[dict[str, str]]) -> Counter[Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        responses = await asyncio.gather(
            *(client.post("/api/v1/auth/register", json=body) for body in bodies)
        )
    return Counter(
        (r.status_code, r.json().get("code") if r.status_code != 201 else None)
        for r in responses
    )


@pytest.mark.e2e
@pytest.mark.parametrize("field", ["username", "email"])
async def test_concurrent_registrations_give_one_201_and_409s(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    field: str,
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=2, env=SERVER_ENV)
    stem = f"racer{uuid.uuid4().hex[:8]}"
    names = variants(stem, 20)
    bodies = [
        {
            "username": name if field == "username" else f"{stem}{n}",
            "email": f"{name}@example.com" if field == "email" else f"{stem}{n}@ex.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        }
        for n, name in enumerate(names)
    ]
    outcome = await register_all(server.base_url, bodies)
    assert outcome == Counter({(201, None): 1, (409, f"{field}_taken"): 19}), (
        outcome,
        server.logs()[-2000:],
    )
