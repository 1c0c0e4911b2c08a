"""Orders under real concurrency: a Hypercorn process, many clients at once.

Run on PostgreSQL and on SQLite. Whatever the interleaving: no oversell, no
5xx, no duplicate order from a retried request, one winner per racing move,
and stock + units in non-cancelled orders = initial stock.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.support.invariants import assert_invariants
from tests.support.live_data import LiveData, LiveUser
from tests.support.server import LiveServer

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("backend", ["postgresql", "sqlite"]),
]


@asynccontextmanager
async def _shop(
    backend: str,
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> AsyncIterator[tuple[str, LiveData, httpx.AsyncClient]]:
    url = await fresh_database_url(backend)
    server = live_server(url, workers=2)
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
    async with (
        LiveData(url) as data,
        httpx.AsyncClient(
            base_url=server.base_url + "/api/v1", limits=limits, timeout=30
        ) as http,
    ):
        yield url, data, http


def _lines(*pairs: tuple[int, int]) -> dict[str, Any]:
    return {"items": [{"product_id": p, "quantity": q} for p, q in pairs]}


async def _gather(
    *requests: Coroutine[Any, Any, httpx.Response],
) -> list[httpx.Response]:
    return list(await asyncio.gather(*requests))


def _no_server_errors(responses: list[httpx.Response]) -> None:
    errors = [(r.status_code, r.text) for r in responses if r.status_code >= 500]
    assert errors == []


async def test_last_units_go_to_exactly_as_many_orders(
    backend: str,
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> None:
    async with _shop(backend, fresh_database_url, live_server) as (url, data, http):
        product = await data.product(stock=50)
        buyers = await data.users(20)
        responses = await _gather(
            *(
                http.post(
                    "/orders", json=_lines((product.id, 1)), headers=buyer.headers
                )
                for buyer in buyers
                for _ in range(10)
            )
        )
        _no_server_errors(responses)
        assert Counter(r.status_code for r in responses) == {201: 50, 409: 150}
        refused = [r.json() for r in responses if r.status_code == 409]
        assert {(p["code"], p["product_id"]) for p in refused} == {
            ("insufficient_stock", product.id)
        }
        assert await data.stock(product.id) == 0
    await assert_invariants(url, {product.id: 50})


async def test_two_line_orders_in_any_order_neither_deadlock_nor_oversell(
    backend: str,
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> None:
    async with _shop(backend, fresh_database_url, live_server) as (url, data, http):
        first = await data.product(stock=120)
        second = await data.product(stock=90)
        buyers = await data.users(10)
        rng = random.Random(4)

        def body() -> dict[str, Any]:
            pairs = [(first.id, rng.randint(1, 2)), (second.id, rng.randint(1, 2))]
            rng.shuffle(pairs)
            return _lines(*pairs)

        responses = await _gather(
            *(
                http.post("/orders", json=body(), headers=buyers[n % 10].headers)
                for n in range(100)
            )
        )
        _no_server_errors(responses)
        assert set(Counter(r.status_code for r in responses)) <= {201, 409}
        assert any(r.status_code == 201 for r in responses)
    await assert_invariants(url, {first.id: 120, second.id: 90})


async def test_one_idempotency_key_makes_one_order(
    backend: str,
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> None:
    async with _shop(backend, fresh_database_url, live_server) as (url, data, http):
        product = await data.product(stock=100)
        buyer = await data.user()
        headers = buyer.headers | {"Idempotency-Key": "pay-once-123"}
        responses = await _gather(
            *(
                http.post("/orders", json=_lines((product.id, 3)), headers=headers)
                for _ in range(20)
            )
        )
        _no_server_errors(responses)
        created = [r for r in responses if r.status_code == 201]
        busy = [r for r in responses if r.status_code == 409]
        assert len(created) + len(busy) == 20
        assert all(r.json()["code"] == "idempotency_in_progress" for r in busy)
        assert len({r.json()["id"] for r in created}) == 1
        fresh = [r for r in created if "Idempotent-Replayed" not in r.headers]
        assert len(fresh) == 1
        assert await data.stock(product.id) == 97
        listed = (await http.get("/orders", headers=buyer.headers)).json()
        assert listed["total"] == 1
    await assert_invariants(url, {product.id: 100})


async def _racing_moves(
    http: httpx.AsyncClient, owner: LiveUser, admin: LiveUser, order_id: int
) -> tuple[list[httpx.Response], list[httpx.Response]]:
    cancels = [
        http.post(f"/orders/{order_id}/cancel", headers=owner.headers)
        for _ in range(10)
    ]
    patches = [
        http.patch(
            f"/orders/{order_id}", json={"status": "cancelled"}, headers=admin.headers
        )
        for _ in range(10)
    ]
    responses = await _gather(*cancels, *patches)
    return responses[:10], responses[10:]


async def test_racing_status_moves_have_exactly_one_winner(
    backend: str,
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> None:
    async with _shop(backend, fresh_database_url, live_server) as (url, data, http):
        product = await data.product(stock=10)
        owner, admin = await data.user(), await data.user(is_admin=True)
        placed = await http.post(
            "/orders", json=_lines((product.id, 4)), headers=owner.headers
        )
        order_id = placed.json()["id"]
        cancels, patches = await _racing_moves(http, owner, admin, order_id)
        responses = cancels + patches
        _no_server_errors(responses)
        assert Counter(r.status_code for r in responses) == {200: 1, 409: 19}
        assert await data.stock(product.id) == 10

        paid = await http.post(
            "/orders", json=_lines((product.id, 1)), headers=owner.headers
        )
        moves = await _gather(
            *(
                http.patch(
                    f"/orders/{paid.json()['id']}",
                    json={"status": "paid"},
                    headers=admin.headers,
                )
                for _ in range(20)
            )
        )
        assert Counter(r.status_code for r in moves) == {200: 1, 409: 19}
    await assert_invariants(url, {product.id: 10})


async def test_stock_invariant_after_a_mixed_workload(
    backend: str,
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> None:
    async with _shop(backend, fresh_database_url, live_server) as (url, data, http):
        initial = {(await data.product(stock=40)).id: 40 for _ in range(4)}
        ids = list(initial)
        buyers = await data.users(8)
        admin = await data.user(is_admin=True)
        rng = random.Random(7)

        async def shopper(buyer: LiveUser) -> list[httpx.Response]:
            seen = []
            for _ in range(8):
                chosen = rng.sample(ids, rng.randint(1, 3))
                placed = await http.post(
                    "/orders",
                    json=_lines(*((p, rng.randint(1, 4)) for p in chosen)),
                    headers=buyer.headers,
                )
                seen.append(placed)
                if placed.status_code == 201 and rng.random() < 0.5:
                    order_id = placed.json()["id"]
                    seen += await _gather(
                        http.post(f"/orders/{order_id}/cancel", headers=buyer.headers),
                        http.patch(
                            f"/orders/{order_id}",
                            json={"status": "paid"},
                            headers=admin.headers,
                        ),
                    )
            return seen

        batches = await asyncio.gather(*(shopper(buyer) for buyer in buyers))
        responses = [r for batch in batches for r in batch]
        _no_server_errors(responses)
        assert {r.status_code for r in responses} <= {200, 201, 409}
    await assert_invariants(url, initial)
