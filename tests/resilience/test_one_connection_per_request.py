"""A request holds at most one pooled connection at a time.

A request that kept its session's connection while it waited for a second one
(a read connection) would deadlock the pool under load: every connection held
by a request waiting for another. With a pool of one connection, a single such
request waits for itself and fails after `DB_POOL_TIMEOUT`, so these reads are
made with exactly one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from tests.resilience.conftest import Shop, needs_orders
from tests.support.server import LiveServer

pytestmark = [pytest.mark.resilience, pytest.mark.e2e, needs_orders]

ONE_CONNECTION = {
    "DB_POOL_SIZE": "1",
    "DB_MAX_OVERFLOW": "0",
    "DB_POOL_TIMEOUT": "2",
    # Every authenticated read checks its login in the database.
    "LOGIN_CACHE_SIZE": "0",
    "PRODUCT_CACHE_SIZE": "0",
}


async def test_authenticated_reads_need_one_connection(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> None:
    owner, admin = await shop.user(), await shop.user(admin=True)
    (product,) = await shop.products(1, stock=100)
    server = live_server(shop.url, workers=1, env=ONE_CONNECTION)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        placed = await http.post(
            "/api/v1/orders",
            json={"items": [{"product_id": product, "quantity": 1}]},
            headers=owner,
        )
        assert placed.status_code == 201, placed.text
        reads = [
            http.get(f"/api/v1/orders/{placed.json()['id']}", headers=owner),
            http.get(f"/api/v1/orders/{placed.json()['id']}", headers=admin),
            http.get(f"/api/v1/products/{product}", headers=admin),
            http.get("/api/v1/products?include_inactive=true", headers=admin),
            http.get("/api/v1/products?min_price_cents=0"),
            http.get("/api/v1/orders", headers=owner),
            http.get("/api/v1/auth/me", headers=owner),
        ] * 4
        answers = await asyncio.gather(*reads)
    assert [answer.status_code for answer in answers] == [200] * len(reads), [
        answer.text for answer in answers if answer.status_code != 200
    ]
