"""SIGTERM under load: in-flight requests finish, sockets close 1001, prompt exit."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import tomllib
from collections.abc import Callable

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.resilience.conftest import HAS_EVENTS_SOCKET, Shop, needs_orders
from tests.support.invariants import assert_invariants
from tests.support.server import PROJECT_ROOT, LiveServer

pytestmark = [pytest.mark.resilience, pytest.mark.e2e, needs_orders]

GRACEFUL_TIMEOUT = tomllib.loads((PROJECT_ROOT / "hypercorn.toml").read_text())[
    "graceful_timeout"
]
IN_FLIGHT = 10
SOCKETS = 5


async def _order_in_two_halves(
    port: int, token: str, product: int, sent_half: asyncio.Event, resume: asyncio.Event
) -> bytes:
    """POST an order whose body straddles the SIGTERM; the raw response."""
    body = json.dumps({"items": [{"product_id": product, "quantity": 1}]}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /api/v1/orders HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n"
            + f"Authorization: {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        await writer.drain()
        sent_half.set()
        await resume.wait()
        writer.write(body[10:])
        await writer.drain()
        return await asyncio.wait_for(reader.read(), GRACEFUL_TIMEOUT)
    finally:
        writer.close()


async def _close_code(socket: websockets.ClientConnection) -> int | None:
    """Read until the server closes; its close code."""
    try:
        async for _ in socket:
            pass
    except ConnectionClosed:
        pass
    return socket.close_code


async def test_sigterm_lets_in_flight_requests_finish(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> None:
    headers = await shop.user()
    [product] = await shop.products(1, stock=1000)
    server = live_server(shop.url, workers=2)
    assert server.process is not None
    halves = [asyncio.Event() for _ in range(IN_FLIGHT)]
    resume = asyncio.Event()
    orders = [
        asyncio.create_task(
            _order_in_two_halves(
                server.port, headers["Authorization"], product, half, resume
            )
        )
        for half in halves
    ]
    await asyncio.gather(*(half.wait() for half in halves))
    await asyncio.sleep(0.2)  # let the workers read the heads

    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.5)
    resume.set()
    answers = await asyncio.gather(*orders)
    exit_code = await asyncio.to_thread(server.process.wait, GRACEFUL_TIMEOUT + 5)
    took = time.monotonic() - started

    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert exit_code == 0
    assert took < GRACEFUL_TIMEOUT + 2
    await assert_invariants(shop.url, shop.initial_stock)


@pytest.mark.skipif(not HAS_EVENTS_SOCKET, reason="no order-events websocket yet")
async def test_sigterm_closes_websockets_with_1001(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> None:
    headers = await shop.user()
    server = live_server(shop.url, workers=2)
    assert server.process is not None
    sockets = [
        await websockets.connect(
            f"{server.ws_url}/api/v1/orders/events", additional_headers=headers
        )
        for _ in range(SOCKETS)
    ]
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    codes = await asyncio.wait_for(
        asyncio.gather(*(_close_code(s) for s in sockets)), GRACEFUL_TIMEOUT + 5
    )
    closed_after = time.monotonic() - started
    exit_code = await asyncio.to_thread(server.process.wait, GRACEFUL_TIMEOUT + 5)

    assert codes == [1001] * SOCKETS
    assert closed_after < GRACEFUL_TIMEOUT
    assert exit_code == 0
