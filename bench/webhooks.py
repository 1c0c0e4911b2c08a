"""The `webhooks` scenario: orders at a steady rate, each event POSTed to a receiver.

The receiver (a process of its own, as a real receiver is: the load's client
never delays its answers) answers 200 after 5 ms and notes when each
`webhook-id` arrived; commit-to-receipt is that time minus the event's
`occurred_at` (written at commit). Request latency is measured with and
without an endpoint, at the same rate, to show webhooks cost requests nothing.

The load without webhooks runs both before and after the load with them
(A-B-A), after a warm-up, and its two halves are pooled: a shared host that
speeds up or slows down during the scenario, or a server still warming up,
then moves both sides of the ratio alike instead of only one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import statistics
import time
from datetime import datetime
from multiprocessing.connection import Connection

import aiohttp
import asyncpg
import httpx

from bench.report import Row
from bench.server import Server

RATE = 200.0
EVENTS = 2_000
RECEIVER_DELAY = 0.005
# Orders placed, unmeasured, before the first baseline: the server's pools,
# statement caches and PostgreSQL's buffers warm up on these.
WARM_UP_ORDERS = 400
# The receiver stands in for a remote host: on this one it takes only the CPU
# the service leaves idle, as the worker does (bench.server.Worker).
RECEIVER_NICENESS = 10


class Receiver:
    """HTTP/1.1 with keep-alive, just enough for the server's delivery client."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.port = 0

    async def start(self) -> asyncio.Server:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                pairs = (line.partition(":") for line in head.split("\r\n")[1:])
                headers = {
                    name.strip().lower(): value.strip() for name, _, value in pairs
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                event_id = int(headers["webhook-id"].removeprefix("evt_"))
                self.arrived.setdefault(event_id, time.time())
                await asyncio.sleep(RECEIVER_DELAY)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # Stopping: end quietly (3.11's streams print a cancelled
            # handler's traceback).
            pass
        finally:
            writer.close()


def _receive(control: Connection) -> None:
    """The receiver's own process: the client's loop never delays its answers.

    Sends its port, then answers `control`'s "arrived" requests with what
    arrived so far, until "stop".
    """

    os.nice(RECEIVER_NICENESS)

    async def serve() -> None:
        receiver = Receiver()
        server = await receiver.start()
        control.send(receiver.port)
        loop = asyncio.get_running_loop()
        while (command := await loop.run_in_executor(None, control.recv)) != "stop":
            assert command == "arrived"
            control.send(dict(receiver.arrived))
        server.close()

    asyncio.run(serve())


class ReceiverProcess:
    """A `Receiver` in a child process, and the pipe that reads what it got."""

    def __init__(self) -> None:
        self._control, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_receive, args=(child,), daemon=True
        )
        self._process.start()
        self.port: int = self._control.recv()

    async def arrived(self) -> dict[int, float]:
        self._control.send("arrived")
        got: dict[int, float] = await asyncio.to_thread(self._control.recv)
        return got

    def stop(self) -> None:
        self._control.send("stop")
        self._process.join(10)


async def _orders(base: str, tokens: list[str], count: int) -> list[float]:
    """POST `count` orders at RATE/s; each request's latency in ms (201s only).

    aiohttp, not httpx: the load's client shares the two cores with what it
    measures, and aiohttp's costs a tenth of the CPU per request.
    """
    latencies: list[float] = []

    async def one(client: aiohttp.ClientSession) -> None:
        body = {"items": [{"product_id": random.randint(1, 10_000), "quantity": 1}]}
        headers = {"Authorization": f"Bearer {random.choice(tokens)}"}
        started = time.monotonic()
        async with client.post("/api/v1/orders", json=body, headers=headers) as reply:
            await reply.read()
            if reply.status == 201:
                latencies.append((time.monotonic() - started) * 1000)

    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(base, timeout=timeout) as client:
        tasks, start = [], time.monotonic()
        for n in range(count):
            await asyncio.sleep(max(0.0, start + n / RATE - time.monotonic()))
            tasks.append(asyncio.create_task(one(client)))
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


async def _events_after(dsn: str, cursor: int) -> dict[int, datetime]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT id, occurred_at FROM order_event WHERE id > $1", cursor
        )
    finally:
        await connection.close()
    return {row["id"]: row["occurred_at"] for row in rows}


async def _latest(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval("SELECT COALESCE(max(id), 0) FROM order_event")
        )
    finally:
        await connection.close()


async def _print_delivery_times(dsn: str, cursor: int) -> None:
    """Where a delivery's time goes: the POST itself (the log's duration)."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS n,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99"
            " FROM webhook_delivery WHERE event_id > $1",
            cursor,
        )
    finally:
        await connection.close()
    print(
        f"  {row['n']} attempts logged; the POST took p50 {row['p50']} ms,"
        f" p99 {row['p99']} ms",
        flush=True,
    )


async def _run(
    base: str, dsn: str, tokens: list[str], admin: str, baseline_count: int
) -> Row:
    await _orders(base, tokens, WARM_UP_ORDERS)
    before = await _orders(base, tokens, baseline_count // 2)
    receiver = ReceiverProcess()
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        response = await client.post(
            "/api/v1/webhooks",
            json={"url": f"http://127.0.0.1:{receiver.port}/hook"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        response.raise_for_status()
        endpoint = response.json()["id"]
        cursor = await _latest(dsn)
        with_hooks = await _orders(base, tokens, EVENTS)
        expected = await _events_after(dsn, cursor)
        for _ in range(300):  # up to a minute for the last deliveries
            arrived = await receiver.arrived()
            if not set(expected) - set(arrived):
                break
            await asyncio.sleep(0.2)
        await _print_delivery_times(dsn, cursor)  # before the delete drops the log
        # Deleted, so the second baseline's events are delivered to no one.
        deleted = await client.delete(
            f"/api/v1/webhooks/{endpoint}",
            headers={"Authorization": f"Bearer {admin}"},
        )
        deleted.raise_for_status()
    after = await _orders(base, tokens, baseline_count - baseline_count // 2)
    receiver.stop()
    got = {event: arrived[event] for event in expected if event in arrived}
    delays = sorted(
        (arrived - expected[event].timestamp()) * 1000 for event, arrived in got.items()
    )
    missing = len(expected) - len(got)
    p99 = delays[int(0.99 * (len(delays) - 1))] if delays else float("inf")
    span = (max(got.values()) - min(got.values())) if len(got) > 1 else 0.0
    baseline = before + after
    ratio = statistics.median(with_hooks) / statistics.median(baseline)
    passed = (
        missing == 0
        and p99 <= 2000
        and ratio <= 1.10
        and len(expected) >= EVENTS * 0.99
    )
    return Row(
        "webhooks: commit-to-receipt",
        1,
        rps=len(got) / span if span else None,
        p50_ms=delays[len(delays) // 2] if delays else None,
        p99_ms=p99,
        errors=missing,
        ratio=ratio,
        target="p99 <= 2000 ms at 200 events/s, none missing, request p50 <= 1.10x",
        passed=passed,
        extra={
            "events": len(expected),
            "received": len(got),
            "request_p50_ms_without": statistics.median(baseline),
            "request_p50_ms_without_before": statistics.median(before),
            "request_p50_ms_without_after": statistics.median(after),
            "request_p50_ms_with": statistics.median(with_hooks),
        },
    )


def webhooks(
    server: Server, dsn: str, tokens: list[str], admin: str, *, quick: bool
) -> Row:
    """2,000 order events at 200/s delivered to a local receiver (5 ms answers)."""
    return asyncio.run(_run(server.url, dsn, tokens, admin, 1_000 if quick else EVENTS))
