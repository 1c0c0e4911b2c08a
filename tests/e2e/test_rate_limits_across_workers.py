"""A multi-worker server spends one login budget, whichever worker answers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from tests.support.server import LiveServer

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_login_limit_holds_across_workers(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    backend: str,
) -> None:
    server = live_server(
        await fresh_database_url(backend),
        workers=2,
        env={"RATE_LIMIT_LOGIN": "6/minute"},
    )
    statuses = []
    for _ in range(9):
        # A new connection per attempt, so the kernel spreads them over workers.
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            response = await http.post(
                "/api/v1/auth/login", json={"username": "nobody", "password": "x"}
            )
        statuses.append(response.status_code)
    assert statuses == [401] * 6 + [429] * 3
