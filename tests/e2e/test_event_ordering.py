"""Order events under stress: slow and abusive clients, a killed listener."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.e2e.test_event_fanout import (
    OPEN,
    MakeUrl,
    StartServer,
    collect,
    open_shop,
    place_orders,
    settle,
    sql,
    subscribe,
)
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e
# ~25 KiB per event, so a client that stops reading backs up its socket quickly.
LINE = {
    "product_id": 1,
    "sku": "EV-1",
    "name": "x" * 180,
    "quantity": 1,
    "unit_price_cents": 100,
    "line_total_cents": 100,
}
BURST = 40
BURSTS = 40


def small_socket(server: LiveServer) -> socket.socket:
    """A client socket with a tiny receive window, so the server's sends block."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    return sock


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (the workers)."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for each in [pid, *map(int, children)]:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


async def burst_of_events(url: str, order_id: int, user_id: int) -> None:
    """Many large events in one commit, written straight to the log."""
    snapshot = {
        "id": order_id,
        "user_id": user_id,
        "status": "pending",
        "items": [LINE] * 100,
        "total_cents": 100,
        "currency": "USD",
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
    }
    await sql(
        url,
        "WITH burst AS (INSERT INTO order_event (type, order_id, user_id, status,"
        " order_snapshot, occurred_at) SELECT 'order.created', $1, $2, 'pending',"
        " $3::jsonb, now() FROM generate_series(1, $4) RETURNING id)"
        " SELECT pg_notify('order_events', max(id)::text) FROM burst",
        order_id,
        user_id,
        json.dumps(snapshot),
        BURST,
    )


@pytest.mark.xfail(
    reason="open: the stalled client is not seen closed with 1013 within 20 s on "
    "loopback (buffers absorb the burst or the close frame queues behind data)",
    strict=False,
)
async def test_a_stalled_subscriber_is_closed_while_a_healthy_one_keeps_up(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=1, env={**OPEN, "WS_QUEUE_SIZE": "60"})
    shop = await open_shop(server, url)
    (order_id,) = await place_orders(shop, 1)
    owner = (await sql(url, "SELECT user_id FROM customer_order"))[0]["user_id"]
    async with (
        subscribe(server, shop.admin) as healthy,
        # Reads nothing: its client-side queue and socket buffers fill up.
        subscribe(
            server, shop.admin, max_queue=1, sock=small_socket(server)
        ) as stalled,
    ):
        await settle()
        events = []
        for _ in range(BURSTS):
            await burst_of_events(url, order_id, owner)
            events += await collect(healthy, BURST, within=10)
        assert [e["id"] for e in events] == sorted({e["id"] for e in events})
        received, code = await drain(stalled)
    assert code == 1013
    assert received < BURST * BURSTS


async def drain(ws: ClientConnection) -> tuple[int, int | None]:
    """Read a socket to its close: frames received, and the close code."""
    received = 0
    try:
        async with asyncio.timeout(20):
            while True:
                await ws.recv()
                received += 1
    except ConnectionClosed as closed:
        return received, closed.rcvd.code if closed.rcvd else None


async def test_a_client_flooding_large_frames_is_closed_without_memory_growth(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=1, env=OPEN)
    shop = await open_shop(server, url)
    assert server.process is not None
    before = rss_kib(server.process.pid)
    frame = b"x" * 65536
    for _ in range(20):
        async with subscribe(server, shop.customer) as ws:
            assert await flood(ws, frame) == 1009
    await asyncio.sleep(0.5)
    grown = rss_kib(server.process.pid) - before
    assert grown < 20 * 1024, f"server RSS grew by {grown} KiB"


async def flood(ws: ClientConnection, frame: bytes) -> int | None:
    """Send `frame` until the server closes; its close code."""
    try:
        async with asyncio.timeout(5):
            while True:
                await ws.send(frame)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def test_a_killed_listener_is_re_established_and_no_event_is_lost(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=2, env=OPEN)
    shop = await open_shop(server, url)
    listeners = (
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'backend-events'"
        " AND datname = current_database()"
    )
    async with subscribe(server, shop.admin) as ws:
        await settle()
        first = await place_orders(shop, 5)
        old = {row["pid"] for row in await sql(url, listeners)}
        assert len(old) == 2
        await sql(url, "SELECT pg_terminate_backend(pid) FROM (" + listeners + ") l")
        during = await place_orders(shop, 5)
        for _ in range(50):
            new = {row["pid"] for row in await sql(url, listeners)}
            if len(new) == 2 and not new & old:
                break
            await asyncio.sleep(0.1)
        assert len(new) == 2, "both listeners came back"
        assert not new & old
        after = await place_orders(shop, 5)
        events = await collect(ws, 15)
    assert sorted(e["order_id"] for e in events) == sorted(first + during + after)
    assert [e["id"] for e in events] == sorted({e["id"] for e in events})
