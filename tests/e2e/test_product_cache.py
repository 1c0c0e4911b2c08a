"""The product cache against real servers: never a stale product after a change.

Two workers share a host, so a change made through one worker is seen at once
by the other (read-your-writes); on PostgreSQL a server on "another host" (its
own temp directory, hence its own change stamps) hears the change by NOTIFY.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from backend.models import Product
from tests.support.live_data import LiveData
from tests.support.server import LiveServer

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
URL = "/api/v1/products"
pytestmark = pytest.mark.e2e


@asynccontextmanager
async def _shop(
    url: str, server: LiveServer
) -> AsyncIterator[tuple[LiveData, httpx.AsyncClient]]:
    async with (
        LiveData(url) as data,
        httpx.AsyncClient(base_url=server.base_url, timeout=15) as http,
    ):
        yield data, http


async def _reads(http: httpx.AsyncClient, product_id: int, times: int = 12) -> set[Any]:
    """What `times` reads say (each on a new connection, so both workers answer)."""
    views = set()
    for _ in range(times):
        response = await http.get(
            f"{URL}/{product_id}", headers={"Connection": "close"}
        )
        body = response.json()
        views.add((response.status_code, body.get("price_cents"), body.get("stock")))
    return views


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_changes_through_any_worker_are_read_back_at_once(
    backend: str,
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url(backend)
    async with _shop(url, live_server(url, workers=2)) as (data, http):
        admin = await data.user(is_admin=True)
        buyer = await data.user()
        product = await data.product(stock=10, price_cents=1000)
        assert await _reads(http, product.id) == {(200, 1000, 10)}  # now cached

        for price in (1100, 1200, 1300):
            patched = await http.patch(
                f"{URL}/{product.id}",
                json={"price_cents": price},
                headers=admin.headers,
            )
            assert patched.status_code == 200
            assert await _reads(http, product.id) == {(200, price, 10)}

        order = await http.post(
            "/api/v1/orders",
            json={"items": [{"product_id": product.id, "quantity": 3}]},
            headers=buyer.headers,
        )
        assert order.status_code == 201
        assert await _reads(http, product.id) == {(200, 1300, 7)}

        cancelled = await http.post(
            f"/api/v1/orders/{order.json()['id']}/cancel", headers=buyer.headers
        )
        assert cancelled.status_code == 200
        assert await _reads(http, product.id) == {(200, 1300, 10)}

        deleted = await http.delete(f"{URL}/{product.id}", headers=admin.headers)
        assert deleted.status_code == 204
        assert await _reads(http, product.id) == {(404, None, None)}


async def _until_seen(
    http: httpx.AsyncClient,
    product_id: int,
    price: int,
    patience: float,
    stock: int = 10,
) -> float:
    started = time.monotonic()
    while time.monotonic() - started < patience:
        if await _reads(http, product_id, times=4) == {(200, price, stock)}:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"{price}, {stock} not served within {patience} s")


async def test_other_hosts_hear_changes_by_notification(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    tmp_path: Path,
) -> None:
    url = await fresh_database_url("postgresql")
    here = live_server(url, workers=2)
    elsewhere_tmp = tmp_path / "other-host"
    elsewhere_tmp.mkdir()
    elsewhere = live_server(url, workers=1, env={"TMPDIR": str(elsewhere_tmp)})
    async with _shop(url, here) as (data, http):
        admin = await data.user(is_admin=True)
        buyer = await data.user()
        product = await data.product(stock=10, price_cents=1000)
        assert await _reads(http, product.id) == {(200, 1000, 10)}
        patched = await http.patch(
            f"{elsewhere.base_url}{URL}/{product.id}",
            json={"price_cents": 2000},
            headers=admin.headers,
        )
        assert patched.status_code == 200
        # Well inside the 60 s TTL: only the notification can have evicted it.
        await _until_seen(http, product.id, 2000, patience=5)
        ordered = await http.post(
            f"{elsewhere.base_url}/api/v1/orders",
            json={"items": [{"product_id": product.id, "quantity": 4}]},
            headers=buyer.headers,
        )
        assert ordered.status_code == 201
        # No product NOTIFY here: the order event itself names the product.
        await _until_seen(http, product.id, 2000, patience=5, stock=6)


async def test_changes_behind_the_services_back_are_seen_within_the_ttl(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url("sqlite")
    server = live_server(url, workers=2, env={"PRODUCT_CACHE_TTL": "1"})
    async with _shop(url, server) as (data, http):
        product = await data.product(stock=10, price_cents=1000)
        assert await _reads(http, product.id) == {(200, 1000, 10)}
        async with data.session() as session, session.begin():
            await session.execute(
                update(Product).where(Product.id == product.id).values(price_cents=3000)
            )
        await _until_seen(http, product.id, 3000, patience=5)
