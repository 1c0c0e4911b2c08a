"""The embedded SQLite default with several workers: every socket, every event."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.support.live_data import LiveData
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e
ORDERS = 20


async def receive(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(20):
        return [orjson.loads(await ws.recv()) for _ in range(count)]


async def test_subscribers_on_every_worker_get_every_sqlite_event(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url("sqlite")
    server = live_server(url, workers=2)
    async with LiveData(url) as data:
        customer = await data.user()
        product = await data.product(stock=1000)
    # Several sockets, so both workers hold some; orders land on either worker.
    sockets = [
        await connect(
            f"{server.ws_url}/api/v1/orders/events", additional_headers=customer.headers
        )
        for _ in range(6)
    ]
    try:
        await asyncio.sleep(0.5)
        for _ in range(ORDERS):
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                response = await http.post(
                    "/api/v1/orders",
                    json={"items": [{"product_id": product.id, "quantity": 1}]},
                    headers=customer.headers,
                )
            assert response.status_code == 201, response.text
        streams = await asyncio.gather(*(receive(ws, ORDERS) for ws in sockets))
    finally:
        for ws in sockets:
            await ws.close()
    first_ids = [event["id"] for event in streams[0]]
    assert first_ids == sorted(set(first_ids))
    assert all([event["id"] for event in events] == first_ids for events in streams)
