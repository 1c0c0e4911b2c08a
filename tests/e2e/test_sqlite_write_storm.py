"""SQLite under a write storm: writers wait their turn; only an outage is a 503.

Sixteen writers place orders and move them along for sixteen seconds while a
subscriber keeps reconnecting with `since`. Contention on SQLite's one write
lock is not an outage, so no request may fail with 503; a lock held by someone
else for longer than the busy timeout still is one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.engine import make_url
from websockets.asyncio.client import connect

from tests.support.live_data import LiveData, LiveUser
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e

WRITERS = 16
STORM_SECONDS = 16.0
NO_LIMITS = {"RATE_LIMIT_ORDERS": "0", "RATE_LIMIT_LOGIN": "0"}


async def _customer(
    http: httpx.AsyncClient, user: LiveUser, product_id: int, until: float
) -> list[int]:
    statuses = []
    while time.monotonic() < until:
        placed = await http.post(
            "/api/v1/orders",
            json={"items": [{"product_id": product_id, "quantity": 1}]},
            headers=user.headers,
        )
        statuses.append(placed.status_code)
        if placed.status_code == 201 and placed.json()["id"] % 2:
            cancelled = await http.post(
                f"/api/v1/orders/{placed.json()['id']}/cancel",
                json={},
                headers=user.headers,
            )
            statuses.append(cancelled.status_code)
    return statuses


async def _clerk(
    http: httpx.AsyncClient,
    admin: LiveUser,
    customer: LiveUser,
    product_id: int,
    until: float,
) -> list[int]:
    """Places orders for a customer account and moves each to paid and shipped."""
    statuses = []
    while time.monotonic() < until:
        placed = await http.post(
            "/api/v1/orders",
            json={"items": [{"product_id": product_id, "quantity": 1}]},
            headers=customer.headers,
        )
        statuses.append(placed.status_code)
        if placed.status_code != 201:
            continue
        for status in ("paid", "shipped"):
            moved = await http.patch(
                f"/api/v1/orders/{placed.json()['id']}",
                json={"status": status},
                headers=admin.headers,
            )
            statuses.append(moved.status_code)
    return statuses


async def _reconnecting_subscriber(
    server: LiveServer, admin: LiveUser, until: float
) -> int:
    """Connects, takes a few events, leaves, and comes back with `since`."""
    since, received = 0, 0
    while time.monotonic() < until:
        url = f"{server.ws_url}/api/v1/orders/events?since={since}"
        async with connect(url, additional_headers=admin.headers) as socket:
            for _ in range(5):
                async with asyncio.timeout(30):
                    event = orjson.loads(await socket.recv())
                assert event["id"] > since
                since, received = event["id"], received + 1
    return received


async def test_sixteen_writers_and_a_reconnecting_subscriber_never_see_503(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url("sqlite")
    server = live_server(url, env=NO_LIMITS)
    async with LiveData(url) as data:
        customers = await data.users(WRITERS)
        admins = await data.users(4, is_admin=True)
        product = await data.product(stock=1_000_000)
    until = time.monotonic() + STORM_SECONDS
    limits = httpx.Limits(max_connections=WRITERS + 2)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=60, limits=limits
    ) as http:
        writers: list[Awaitable[Any]] = [
            _customer(http, user, product.id, until) for user in customers[4:]
        ]
        writers += [
            _clerk(http, admin, customer, product.id, until)
            for admin, customer in zip(admins, customers[:4], strict=True)
        ]
        *results, received = await asyncio.gather(
            *writers, _reconnecting_subscriber(server, admins[0], until)
        )
    statuses = [status for result in results for status in result]
    assert len(statuses) > WRITERS
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert received > 0


async def test_a_write_lock_held_past_the_busy_timeout_is_still_503(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url("sqlite")
    server = live_server(url, env=NO_LIMITS | {"SQLITE_BUSY_TIMEOUT_MS": "500"})
    async with LiveData(url) as data:
        customer = await data.user()
        product = await data.product(stock=10)
    # Another program holds the write lock and does not let go.
    holder = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            placed = await http.post(
                "/api/v1/orders",
                json={"items": [{"product_id": product.id, "quantity": 1}]},
                headers=customer.headers,
            )
    finally:
        holder.rollback()
        holder.close()
    assert placed.status_code == 503
    assert placed.json()["code"] == "service_unavailable"
