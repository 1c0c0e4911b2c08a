"""Client aborts: requests cancelled at random moments leave nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable

import httpx
import pytest

from backend.config import Settings
from tests.resilience.conftest import Shop, needs_orders
from tests.support.invariants import app_backend_count, assert_invariants
from tests.support.server import LiveServer

pytestmark = [pytest.mark.resilience, pytest.mark.e2e, needs_orders]

ABORTS = 300
WORKERS = 2
_POOL = Settings.model_fields
# The most connections the workers' pools may hold, at the default settings.
POOL_CEILING = WORKERS * (
    _POOL["db_pool_size"].default + _POOL["db_max_overflow"].default
)


async def _abandon(send: Awaitable[object], after: float) -> None:
    """Give `send` `after` seconds, then cancel it (closing its connection)."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        await asyncio.wait_for(send, after)


async def _half_body(port: int, headers: dict[str, str], body: bytes) -> None:
    """Send the head and part of an order body, then hang up."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /api/v1/orders HTTP/1.1\r\nHost: shop\r\n"
            b"Content-Type: application/json\r\n"
            + f"Authorization: {headers['Authorization']}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[: random.randrange(len(body))]
        )
        await writer.drain()
        await asyncio.sleep(random.uniform(0, 0.05))
    finally:
        writer.transport.abort()
        writer.close()


def _requests(
    http: httpx.AsyncClient, port: int, headers: dict[str, str], products: list[int]
) -> list[Callable[[], Awaitable[object]]]:
    def order() -> dict[str, object]:
        chosen = random.sample(products, random.randint(1, len(products)))
        return {"items": [{"product_id": p, "quantity": 1} for p in chosen]}

    return [
        lambda: http.post("/api/v1/orders", json=order(), headers=headers),
        lambda: http.get("/api/v1/orders", headers=headers),
        lambda: http.get("/api/v1/products"),
        lambda: _half_body(port, headers, json.dumps(order()).encode()),
    ]


async def test_aborted_requests_leak_nothing(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> None:
    random.seed(7)
    headers = await shop.user()
    products = await shop.products(4, stock=10_000)
    server = live_server(shop.url, workers=WORKERS)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        kinds = _requests(http, server.port, headers, products)
        for start in range(0, ABORTS, 30):  # 30 at a time, cancelled at 0-60 ms
            await asyncio.gather(
                *(
                    _abandon(random.choice(kinds)(), random.uniform(0, 0.06))
                    for _ in range(start, start + 30)
                )
            )
        await asyncio.sleep(0.5)
        after = await http.post(
            "/api/v1/orders",
            json={"items": [{"product_id": products[0], "quantity": 1}]},
            headers=headers,
        )
    assert after.status_code == 201, after.text
    await assert_invariants(shop.url, shop.initial_stock)
    assert await app_backend_count(shop.url) <= POOL_CEILING
