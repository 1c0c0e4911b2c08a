"""Order events under stress: slow and abusive clients, a killed listener."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
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


async def test_a_stalled_subscriber_is_closed_while_a_healthy_one_keeps_up(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    env = {**OPEN, "WS_QUEUE_SIZE": "60", "WS_SEND_TIMEOUT": "2", "LOG_LEVEL": "INFO"}
    server = live_server(url, workers=1, env=env)
    shop = await open_shop(server, url)
    (order_id,) = await place_orders(shop, 1)
    owner = (await sql(url, "SELECT user_id FROM customer_order"))[0]["user_id"]
    # Reads nothing, so its socket buffers fill up. (No permessage-deflate:
    # these repetitive frames would otherwise shrink to almost nothing.)
    stalled = await subscribe(
        server, shop.admin, max_queue=1, sock=small_socket(server), compression=None
    )
    try:
        async with subscribe(server, shop.admin) as healthy:
            await settle()
            events = []
            for _ in range(BURSTS):
                await burst_of_events(url, order_id, owner)
                events += await collect(healthy, BURST, within=10)
            assert [e["id"] for e in events] == sorted({e["id"] for e in events})
            assert len(events) == BURST * BURSTS
            assert await server_closed_a_subscriber_with(server, 1013)
    finally:
        stalled.transport.abort()  # it would never read its way to the close


async def server_closed_a_subscriber_with(server: LiveServer, code: int) -> bool:
    """Whether the server's log shows it closing a subscriber with `code`."""
    for _ in range(100):
        for line in server.logs().splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("close_code") == code:
                return True
        await asyncio.sleep(0.1)
    return False


async def test_an_oversized_message_closes_the_socket_with_1009(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=1, env=OPEN)
    shop = await open_shop(server, url)
    async with subscribe(server, shop.customer, compression=None) as ws:
        await ws.send("x" * 4097)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_a_client_flooding_large_frames_is_closed_without_memory_growth(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    # After its 1009, a flooding client's socket lingers (with what it already
    # sent) until Hypercorn's read_timeout drops it; shortened here from 30 s.
    command = [sys.executable, "-m", "hypercorn", "-c", "hypercorn.toml"]
    command += ["--read-timeout", "2", "backend.asgi:app"]
    server = live_server(url, workers=1, env=OPEN, command=command)
    shop = await open_shop(server, url)
    worker = busiest_child(server)
    frame = b"x" * 65536
    rss_before = rss_kib(worker)
    for _ in range(6):
        ws = await subscribe(server, shop.customer, compression=None)
        try:
            assert await flood(ws, frame) in {"closed", "stopped reading"}
        finally:
            ws.transport.abort()
    await asyncio.sleep(3)  # past the read timeout
    assert established_connections(server.port) == 0, "flooding sockets released"
    # Each flood offered up to 64 MB; the server keeps only what its socket
    # buffers let through before it refused more (a few MB per connection,
    # reused by the next one), far from what the client pushed.
    grown = rss_kib(worker) - rss_before
    assert grown < 6 * 8 * 1024, f"server RSS grew by {grown} KiB over 6 floods"


def established_connections(port: int) -> int:
    """Open TCP connections to the server's port (from /proc/net/tcp)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local_ports = [
        int(fields[1].split(":")[1], 16)
        for fields in map(str.split, lines)
        if fields[3] == "01"  # ESTABLISHED
    ]
    return local_ports.count(port)


def busiest_child(server: LiveServer) -> int:
    """The Hypercorn worker: the master's child holding the most descriptors."""
    assert server.process is not None
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return max(
        map(int, children), key=lambda child: len(os.listdir(f"/proc/{child}/fd"))
    )


async def flood(ws: ClientConnection, frame: bytes) -> str:
    """Send `frame` until the server closes the socket or stops reading it."""
    try:
        for _ in range(1000):  # 64 MB, if the server swallowed it all
            await asyncio.wait_for(ws.send(frame), 2)
            await asyncio.sleep(0)  # let the client's reader see a close
    except ConnectionClosed:
        return "closed"
    except TimeoutError:
        return "stopped reading"  # our sends back up: nothing is buffered there
    return "kept reading"


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
