"""Database outage: 503 problem+json fast, /ready 503 and /health 200, self-healing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from tests.resilience.conftest import HAS_ORDERS, Shop, has_route
from tests.resilience.load import (
    Outcome,
    error_problems,
    hammer,
    is_clean_problem,
    timed,
)
from tests.resilience.proxy import TcpProxy
from tests.support.databases import _asyncpg_dsn
from tests.support.invariants import APP_NAME, assert_invariants
from tests.support.server import LiveServer

pytestmark = [pytest.mark.resilience, pytest.mark.e2e]

# A request during an outage must answer within this, not hang.
FAST_FAIL_SECONDS = 3.0
RECOVERY_SECONDS = 10.0
SERVER_ENV = {"DB_CONNECT_TIMEOUT": "1", "DB_POOL_TIMEOUT": "2"}
# Drop idle connections before the server's keep_alive_timeout (5 s) does:
# with equal expiries a request can leave on a socket the server is closing.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=2)


async def _senders(
    http: httpx.AsyncClient, shop: Shop
) -> list[Callable[[], Awaitable[httpx.Response]]]:
    """Reads and (once orders exist) writes; the data they need is made first,
    before any connection is cut (the test's own would be among them)."""
    senders: list[Callable[[], Awaitable[httpx.Response]]] = [
        lambda: http.get("/ready")
    ]
    if has_route("GET", "/api/v1/products"):
        senders.append(lambda: http.get("/api/v1/products"))
    if HAS_ORDERS:
        headers = await shop.user()
        [product] = await shop.products(1, stock=100_000)
        body = {"items": [{"product_id": product, "quantity": 1}]}
        senders.append(lambda: http.post("/api/v1/orders", json=body, headers=headers))
    return senders


async def _load(
    senders: list[Callable[[], Awaitable[httpx.Response]]], stop: asyncio.Event
) -> list[Outcome]:
    """The senders, concurrently, until `stop`."""
    batches = await asyncio.gather(*(hammer(send, until=stop) for send in senders))
    return [outcome for batch in batches for outcome in batch]


def _tail(logs: str, lines: int = 40) -> str:
    """The server's last log lines: what it said about a dropped request."""
    return "\n".join(logs.splitlines()[-lines:])


async def _wait_ready(http: httpx.AsyncClient) -> float:
    """Seconds until /ready says 200 again; fails past RECOVERY_SECONDS."""
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_SECONDS:
        if (await timed(http.get("/ready"))).status == 200:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    pytest.fail(f"/ready did not recover within {RECOVERY_SECONDS} s")


async def test_outage_gives_fast_503_and_recovers_without_restart(
    shop: Shop,
    db_proxy: tuple[TcpProxy, str],
    live_server: Callable[..., LiveServer],
) -> None:
    proxy, proxied_url = db_proxy
    server = live_server(proxied_url, workers=2, env=SERVER_ENV)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=15, limits=CLIENT_LIMITS
    ) as http:
        assert (await http.get("/ready")).status_code == 200
        stop = asyncio.Event()
        load = asyncio.create_task(_load(await _senders(http, shop), stop))
        await asyncio.sleep(0.5)
        proxy.cut()
        await asyncio.sleep(0.5)
        during = [await timed(http.get("/ready")) for _ in range(5)]
        health = await http.get("/health")
        await asyncio.sleep(2)
        proxy.restore()
        recovered_after = await _wait_ready(http)
        stop.set()
        outcomes = await load

    assert health.status_code == 200
    for outcome in during:
        assert outcome.status == 503, outcome
        assert is_clean_problem(outcome), outcome
        assert '"service_unavailable"' in outcome.body
        assert outcome.seconds < FAST_FAIL_SECONDS, outcome
    assert recovered_after < RECOVERY_SECONDS
    problems = error_problems(outcomes, allowed={200, 201, 503})
    assert not problems, (problems, _tail(server.logs()))
    assert max(o.seconds for o in outcomes) < FAST_FAIL_SECONDS + 2
    assert any(o.status == 503 for o in outcomes)
    await assert_invariants(shop.url, shop.initial_stock)


async def _terminate_app_backends(database_url: str) -> int:
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = $1",
            APP_NAME,
        )
    finally:
        await connection.close()
    return len(rows)


async def test_terminated_connections_are_replaced_under_load(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(shop.url, workers=2, env=SERVER_ENV)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=15, limits=CLIENT_LIMITS
    ) as http:
        stop = asyncio.Event()
        load = asyncio.create_task(_load(await _senders(http, shop), stop))
        killed = 0
        for _ in range(15):  # about three seconds of repeated terminations
            await asyncio.sleep(0.2)
            killed += await _terminate_app_backends(shop.url)
        recovered_after = await _wait_ready(http)
        await asyncio.sleep(0.5)
        stop.set()
        outcomes = await load
        after = [await timed(http.get("/ready")) for _ in range(5)]

    assert killed > 0
    assert recovered_after < RECOVERY_SECONDS
    problems = error_problems(outcomes, allowed={200, 201, 503})
    assert not problems, (problems, _tail(server.logs()))
    assert max(o.seconds for o in outcomes) < FAST_FAIL_SECONDS + 2
    assert all(o.status == 200 for o in after)
    await assert_invariants(shop.url, shop.initial_stock)
