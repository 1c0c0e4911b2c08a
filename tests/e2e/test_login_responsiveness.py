"""The event loop stays responsive while many logins hash passwords at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from tests.support.server import LiveServer

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
PASSWORD = "Sturdy-Pass-42"
SERVER_ENV = {
    "RATE_LIMIT_REGISTER": "0",
    "RATE_LIMIT_LOGIN": "0",
    "PASSWORD_HASH_WAIT": "60",
}


async def probe_until(client: httpx.AsyncClient, done: asyncio.Event) -> list[float]:
    latencies = []
    while not done.is_set():
        started = time.perf_counter()
        response = await client.get("/health")
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200
        await asyncio.sleep(0.01)
    return latencies


@pytest.mark.e2e
async def test_health_stays_fast_while_twenty_logins_hash(
    fresh_database_url: FreshDatabase, live_server: Callable[..., LiveServer]
) -> None:
    url = await fresh_database_url("postgresql")
    # One worker: every hash and every probe share one event loop.
    server = live_server(url, workers=1, env=SERVER_ENV)
    account = {"username": "patient", "email": "patient@example.com"}
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=60) as logins,
        httpx.AsyncClient(base_url=server.base_url, timeout=60) as probes,
    ):
        created = await logins.post(
            "/api/v1/auth/register",
            json={**account, "password": PASSWORD, "password_confirm": PASSWORD},
        )
        assert created.status_code == 201
        done = asyncio.Event()
        prober = asyncio.create_task(probe_until(probes, done))
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(
                logins.post(
                    "/api/v1/auth/login",
                    json={"username": "patient", "password": PASSWORD},
                )
                for _ in range(20)
            )
        )
        login_time = time.perf_counter() - started
        done.set()
        latencies = await prober
    assert [answer.status_code for answer in answers] == [200] * 20
    assert len(latencies) >= 3
    # Relative, not absolute: a blocked loop would hold a probe for about as
    # long as the hashing takes.
    assert max(latencies) < login_time / 3, (max(latencies), login_time)
