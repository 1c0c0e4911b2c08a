"""Order events across real Hypercorn workers and hosts on one PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.databases import _asyncpg_dsn
from tests.support.factories import bearer
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e
MakeUrl = Callable[[str], Awaitable[str]]
StartServer = Callable[..., LiveServer]
EVENTS = "/api/v1/orders/events"
OPEN = {"RATE_LIMIT_REGISTER": "0", "RATE_LIMIT_LOGIN": "0"}


@dataclass
class Shop:
    """A live server's base URLs, an admin and a customer token, one product."""

    server: LiveServer
    admin: str
    customer: str
    product_id: int


async def register(http: httpx.AsyncClient, database_url: str, *, admin: bool) -> str:
    name = f"u{uuid.uuid4().hex[:10]}"
    response = await http.post(
        "/api/v1/auth/register",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "password": "Correct-Horse-9",
            "password_confirm": "Correct-Horse-9",
        },
    )
    assert response.status_code == 201, response.text
    if admin:  # admin rights are read live from the database on every request
        await sql(database_url, "UPDATE user_account SET is_admin = true")
    token: str = response.json()["access_token"]
    return token


async def sql(database_url: str, statement: str, *args: Any) -> Any:
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        return await connection.fetch(statement, *args)
    finally:
        await connection.close()


async def open_shop(server: LiveServer, database_url: str, stock: int = 10_000) -> Shop:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        admin = await register(http, database_url, admin=True)
        customer = await register(http, database_url, admin=False)
        response = await http.post(
            "/api/v1/products",
            json={"sku": "EV-1", "name": "Widget", "price_cents": 100, "stock": stock},
            headers=bearer(admin),
        )
        assert response.status_code == 201, response.text
    return Shop(server, admin, customer, response.json()["id"])


async def place_orders(shop: Shop, count: int, *, quantity: int = 1) -> list[int]:
    """`count` orders placed concurrently through the API; their ids."""
    limit = asyncio.Semaphore(10)
    async with httpx.AsyncClient(base_url=shop.server.base_url, timeout=20) as http:

        async def one() -> int:
            async with limit:
                response = await http.post(
                    "/api/v1/orders",
                    json={
                        "items": [{"product_id": shop.product_id, "quantity": quantity}]
                    },
                    headers=bearer(shop.customer),
                )
            assert response.status_code == 201, response.text
            order_id: int = response.json()["id"]
            return order_id

        return list(await asyncio.gather(*(one() for _ in range(count))))


def subscribe(
    server: LiveServer, token: str, since: int | None = None, **options: Any
) -> Any:
    query = "" if since is None else f"?since={since}"
    return connect(
        f"{server.ws_url}{EVENTS}{query}", additional_headers=bearer(token), **options
    )


async def collect(ws: ClientConnection, count: int, within: float = 20) -> list[Any]:
    events: list[Any] = []
    async with asyncio.timeout(within):
        while len(events) < count:
            events.append(orjson.loads(await ws.recv()))
    return events


async def settle() -> None:
    """Let freshly accepted sockets subscribe before the first commit."""
    await asyncio.sleep(0.5)


async def test_every_subscriber_on_every_worker_and_host_gets_every_event_once(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    first = live_server(url, workers=2, env=OPEN)
    second = live_server(url, workers=1, env=OPEN)  # another "host", same database
    shop = await open_shop(first, url)
    sockets = [await subscribe(first, shop.admin) for _ in range(6)]
    sockets += [await subscribe(second, shop.admin) for _ in range(2)]
    sockets.append(await subscribe(second, shop.customer))
    try:
        await settle()
        order_ids = await place_orders(shop, 50)
        streams = await asyncio.gather(*(collect(ws, 50) for ws in sockets))
    finally:
        for ws in sockets:
            await ws.close()
    for events in streams:
        ids = [event["id"] for event in events]
        assert ids == sorted(set(ids)), "strictly increasing, no duplicate"
        assert sorted(event["order_id"] for event in events) == sorted(order_ids)
    assert len({tuple(e["id"] for e in events) for events in streams}) == 1
    workers = await sql(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1"
        " AND datname = current_database()",
        "backend-events",
    )
    assert workers[0]["n"] == 3, "one listener per worker, on both servers"


async def test_resume_with_since_after_a_disconnect_loses_nothing(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=2, env=OPEN)
    shop = await open_shop(server, url)
    async with subscribe(server, shop.customer) as ws:
        await settle()
        before = await place_orders(shop, 5)
        seen = await collect(ws, 5)
    missed = await place_orders(shop, 5)  # nobody is listening now
    async with subscribe(server, shop.customer, since=seen[-1]["id"]) as ws:
        await settle()
        after = await place_orders(shop, 3)
        resumed = await collect(ws, 8)
    ids = [event["id"] for event in seen + resumed]
    assert ids == sorted(set(ids))
    got = sorted(event["order_id"] for event in seen + resumed)
    assert got == sorted(before + missed + after)


async def test_a_rolled_back_order_produces_no_event(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=2, env=OPEN)
    shop = await open_shop(server, url, stock=1)
    async with subscribe(server, shop.admin) as ws:
        await settle()
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            refused = await http.post(
                "/api/v1/orders",
                json={"items": [{"product_id": shop.product_id, "quantity": 2}]},
                headers=bearer(shop.customer),
            )
        assert refused.status_code == 409
        (placed,) = await place_orders(shop, 1)
        (event,) = await collect(ws, 1)
        assert event["order_id"] == placed
        with pytest.raises(TimeoutError):
            await collect(ws, 1, within=1.5)
    rows = await sql(url, "SELECT order_id FROM order_event")
    assert [row["order_id"] for row in rows] == [placed]


async def test_handshake_without_token_is_refused_with_401(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    server = live_server(await fresh_database_url("postgresql"), workers=1, env=OPEN)
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}{EVENTS}"):
            pass
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["X-Request-ID"]


async def test_an_accepted_handshake_carries_the_request_id(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=1, env=OPEN)
    shop = await open_shop(server, url)
    headers = {**bearer(shop.customer), "X-Request-ID": "ws-trace-101"}
    async with connect(f"{server.ws_url}{EVENTS}", additional_headers=headers) as ws:
        assert ws.response is not None
        assert ws.response.headers["X-Request-ID"] == "ws-trace-101"


__all__ = ["ConnectionClosed"]
