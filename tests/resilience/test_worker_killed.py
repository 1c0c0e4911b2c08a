"""A worker SIGKILLed mid-order: nothing half-written, retries land exactly once.

Hypercorn 0.18's master answers a worker that dies with a non-zero status by
shutting the whole server down (it respawns only workers that exit cleanly),
so in production the supervisor (the container's restart policy, systemd)
starts it again. The test plays that supervisor: if the master exits, it starts
the server again on the same port while the clients keep retrying.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.resilience.conftest import Shop, needs_orders
from tests.support.invariants import assert_invariants, count_rows
from tests.support.server import LiveServer

pytestmark = [pytest.mark.resilience, pytest.mark.e2e, needs_orders]

ORDERS = 120
CONCURRENCY = 16
RETRY_FOR = 60.0  # seconds a client keeps retrying one order


def worker_pids(master: int) -> list[int]:
    """The Hypercorn workers: the master's spawned child processes."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master:
                continue
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # the process ended while we looked
        if b"spawn_main" in cmdline:  # not multiprocessing's resource tracker
            children.append(int(stat.parent.name))
    return children


async def _place_until_done(
    http: httpx.AsyncClient, headers: dict[str, str], body: dict[str, object]
) -> list[dict[str, object]]:
    """POST one order, retrying with the same key until a definitive answer."""
    key = {"Idempotency-Key": str(uuid.uuid4()), **headers}
    answers = []
    seen: list[object] = []
    deadline = time.monotonic() + RETRY_FOR
    while time.monotonic() < deadline:
        try:
            response = await http.post("/api/v1/orders", json=body, headers=key)
        except httpx.TransportError as error:
            seen.append(repr(error))
            await asyncio.sleep(0.1)  # the worker died under us: try again
            continue
        if response.status_code in (409, 503) or response.status_code >= 500:
            seen.append((response.status_code, response.text[:100]))
            await asyncio.sleep(0.1)  # still in flight elsewhere, or recovering
            continue
        assert response.status_code == 201, response.text
        answers.append(response.json())
        if len(answers) == 2:  # the original, then one replay to compare
            return answers
    pytest.fail(f"an order never completed: {seen[-5:]}")


async def _master_exits(server: LiveServer) -> bool:
    """Whether the master shuts down after losing a worker (Hypercorn <= 0.18)."""
    assert server.process is not None
    try:
        await asyncio.to_thread(server.process.wait, 20)
    except subprocess.TimeoutExpired:
        return False
    return True


async def test_killed_worker_loses_no_stock_and_doubles_no_order(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> None:
    headers = await shop.user()
    products = await shop.products(3, stock=ORDERS * 2)
    body: dict[str, object] = {
        "items": [{"product_id": p, "quantity": 1} for p in products]
    }
    server = live_server(shop.url, workers=2)
    assert server.process is not None
    victims = worker_pids(server.process.pid)
    assert len(victims) == 2
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=10, limits=limits
    ) as http:
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one() -> list[dict[str, object]]:
            async with slots:
                return await _place_until_done(http, headers, body)

        placing = asyncio.gather(*(one() for _ in range(ORDERS)))
        await asyncio.sleep(0.3)
        os.kill(victims[0], signal.SIGKILL)
        if await _master_exits(server):
            live_server(shop.url, workers=2, port=server.port)
        results = await placing

    ids = [first["id"] for first, _ in results]
    assert all(first == replay for first, replay in results)
    assert len(set(ids)) == ORDERS
    await assert_invariants(shop.url, shop.initial_stock)
    # Exactly the orders the clients were told about exist: none doubled.
    assert await count_rows(shop.url, "customer_order") == ORDERS
