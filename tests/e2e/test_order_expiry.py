"""Orders expire on real servers: in time, once, racing payments, across hosts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect

from tests.support.invariants import assert_invariants, count_rows
from tests.support.live_data import LiveData, LiveUser
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e
MakeUrl = Callable[[str], Awaitable[str]]
StartServer = Callable[..., LiveServer]
ORDERS = "/api/v1/orders"
# The contract: an order expires at most 30 s after its `expires_at`.
LATE = 30.0
# What a loaded test machine may add to that (process start, polling).
SLACK = 10.0


async def _place(
    http: httpx.AsyncClient, user: LiveUser, product_id: int, quantity: int = 1
) -> dict[str, Any]:
    response = await http.post(
        ORDERS,
        json={"items": [{"product_id": product_id, "quantity": quantity}]},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _wait_final(
    http: httpx.AsyncClient, user: LiveUser, order_ids: list[int], ttl: float
) -> dict[int, dict[str, Any]]:
    """Each order once it is no longer pending; fails past the contract's bound."""
    deadline = time.monotonic() + ttl + LATE + SLACK
    final: dict[int, dict[str, Any]] = {}
    while len(final) < len(order_ids):
        assert time.monotonic() < deadline, (
            f"still pending: {set(order_ids) - set(final)}"
        )
        for order_id in set(order_ids) - set(final):
            body = (await http.get(f"{ORDERS}/{order_id}", headers=user.headers)).json()
            if body["status"] != "pending":
                final[order_id] = body
        await asyncio.sleep(0.5)
    return final


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_pending_order_expires_in_time_with_its_stock_and_one_event(
    fresh_database_url: MakeUrl, live_server: StartServer, backend: str
) -> None:
    ttl = 2
    url = await fresh_database_url(backend)
    server = live_server(url, env={"ORDER_PENDING_TTL": str(ttl)})
    async with LiveData(url) as data:
        customer, admin = await data.user(), await data.user(is_admin=True)
        product = await data.product(stock=10)
        async with (
            connect(
                f"{server.ws_url}{ORDERS}/events", additional_headers=admin.headers
            ) as socket,
            httpx.AsyncClient(base_url=server.base_url, timeout=10) as http,
        ):
            await asyncio.sleep(0.5)  # subscribed before the first commit
            placed = await _place(http, customer, product.id, quantity=3)
            assert placed["expires_at"] is not None
            assert await data.stock(product.id) == 7
            final = await _wait_final(http, customer, [placed["id"]], ttl)
            expired = final[placed["id"]]
            assert (expired["status"], expired["expires_at"]) == ("expired", None)
            assert await data.stock(product.id) == 10
            async with asyncio.timeout(10):
                seen = [orjson.loads(await socket.recv()) for _ in range(2)]
            assert [(e["previous_status"], e["status"]) for e in seen] == [
                (None, "pending"),
                ("pending", "expired"),
            ]
            assert seen[1]["order"]["status"] == "expired"
            page = (
                await http.get(f"{ORDERS}/events?since=0", headers=admin.headers)
            ).json()
            assert [e["status"] for e in page["items"]] == ["pending", "expired"]
            for move in ("cancel",):
                refused = await http.post(
                    f"{ORDERS}/{placed['id']}/{move}", headers=customer.headers
                )
                assert refused.status_code == 409
                assert refused.json()["code"] == "invalid_transition"
            paid = await http.patch(
                f"{ORDERS}/{placed['id']}",
                json={"status": "paid"},
                headers=admin.headers,
            )
            assert paid.json()["code"] == "invalid_transition"
    await assert_invariants(url, {product.id: 10})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_payments_racing_expiry_end_paid_or_expired_never_both(
    fresh_database_url: MakeUrl, live_server: StartServer, backend: str
) -> None:
    ttl, count = 3, 24
    url = await fresh_database_url(backend)
    server = live_server(
        url, workers=2, env={"ORDER_PENDING_TTL": str(ttl), "ORDER_MAX_PENDING": "100"}
    )
    async with LiveData(url) as data:
        customer, admin = await data.user(), await data.user(is_admin=True)
        product = await data.product(stock=100)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
            orders = [await _place(http, customer, product.id) for _ in range(count)]
            started = time.monotonic()

            async def pay(index: int, order_id: int) -> int:
                # Spread over the expiry: some well before, some just around
                # `expires_at`, some after the job may already have run.
                await asyncio.sleep(
                    max(0.0, ttl - 1.5 + index * 0.6 - (time.monotonic() - started))
                )
                response = await http.patch(
                    f"{ORDERS}/{order_id}",
                    json={"status": "paid"},
                    headers=admin.headers,
                )
                assert response.status_code in (200, 409), response.text
                return response.status_code

            statuses = await asyncio.gather(
                *(pay(i, order["id"]) for i, order in enumerate(orders))
            )
            ids = [order["id"] for order in orders]
            final = await _wait_final(http, customer, ids, ttl + count * 0.6)
    outcome = [final[order_id]["status"] for order_id in ids]
    assert set(outcome) <= {"paid", "expired"}
    assert [s == 200 for s in statuses] == [o == "paid" for o in outcome]
    units_out = outcome.count("paid")
    async with LiveData(url) as data:
        assert await data.stock(product.id) == 100 - units_out
    # One event chain per order: created, then paid or expired, never both.
    await assert_invariants(url, {product.id: 100})
    assert await count_rows(url, "order_event") == 2 * count


async def test_orders_expire_once_across_hosts(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    ttl, count = 1, 30
    url = await fresh_database_url("postgresql")
    env = {"ORDER_PENDING_TTL": str(ttl), "ORDER_MAX_PENDING": "100"}
    first = live_server(url, workers=2, env=env)
    live_server(url, workers=1, env=env)  # another host on the same database
    async with LiveData(url) as data:
        customer = await data.user()
        product = await data.product(stock=100)
        async with httpx.AsyncClient(base_url=first.base_url, timeout=20) as http:
            orders = [await _place(http, customer, product.id) for _ in range(count)]
            final = await _wait_final(http, customer, [o["id"] for o in orders], ttl)
        assert {body["status"] for body in final.values()} == {"expired"}
        assert await data.stock(product.id) == 100
    await assert_invariants(url, {product.id: 100})
    assert await count_rows(url, "order_event") == 2 * count  # one expiry each


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_placement_rate_is_one_budget_across_workers(
    fresh_database_url: MakeUrl, live_server: StartServer, backend: str
) -> None:
    rate = 4
    url = await fresh_database_url(backend)
    server = live_server(url, workers=2, env={"RATE_LIMIT_ORDERS": f"{rate}/minute"})
    async with LiveData(url) as data:
        alice, bob = await data.user(), await data.user()
        product = await data.product(stock=100)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}
    responses = []
    for index in range(rate + 2):
        # A new connection per request, so the kernel spreads them over workers.
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            key = {"Idempotency-Key": "first"} if index == 0 else {}
            responses.append(
                await http.post(ORDERS, json=body, headers={**alice.headers, **key})
            )
    assert [r.status_code for r in responses] == [201] * rate + [429] * 2
    assert responses[-1].json()["code"] == "rate_limited"
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= 60
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        replay = await http.post(
            ORDERS, json=body, headers={**alice.headers, "Idempotency-Key": "first"}
        )
        assert replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == responses[0].json()
        other = await http.post(ORDERS, json=body, headers=bob.headers)
        assert other.status_code == 201
