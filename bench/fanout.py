"""`fan-out` and `sse`: many subscribers while orders are placed steadily.

One shape for both transports: client processes (`bench.ws_client` or
`bench.sse_client`) hold the subscribers, orders are placed at
DELIVERIES_PER_S / subscribers per second, and every subscriber must receive
every event committed meanwhile.
"""

from __future__ import annotations

import asyncio
import math
import random
import subprocess
import sys
import time
from typing import IO, Any

import asyncpg
import httpx
import orjson

from bench.report import Row
from bench.scenarios import Files
from bench.server import PROJECT_ROOT, Server
from bench.stats import percentile

PER_PROCESS = 2_500
SSE_PER_PROCESS = 500
# Deliveries per second we aim for (orders/s x subscribers), whatever the count.
DELIVERIES_PER_S = 10_000
DRAIN_S = 0.5
# Server memory (every process) allowed with 10,000 compressing subscribers.
DEFLATE_RSS_MIB = 1_228  # 1.2 GiB


def _spawn(
    url: str,
    files: Files,
    count: int,
    window: float,
    *,
    deflate: bool,
    client: str = "bench.ws_client",
    per_process: int = PER_PROCESS,
) -> list[subprocess.Popen[str]]:
    processes = math.ceil(count / per_process)
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                client,
                url,
                str(files.admin_tokens),
                str(share),
                str(window),
                *(["deflate"] if deflate else []),
            ],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in _split(count, processes)
    ]


def _split(count: int, parts: int) -> list[int]:
    return [count // parts + (1 if i < count % parts else 0) for i in range(parts)]


def _read_line(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.readline().strip()


async def _place_orders(
    base: str, tokens: list[str], rate: float, seconds: float, server: Server
) -> tuple[int, int, float]:
    """POST orders at `rate`/s; (created, failed, peak server RSS MiB)."""
    results: list[int] = []
    peak = 0.0

    async def one(client: httpx.AsyncClient) -> None:
        body = {"items": [{"product_id": random.randint(1, 10_000), "quantity": 1}]}
        headers = {"Authorization": f"Bearer {random.choice(tokens)}"}
        try:
            response = await client.post("/api/v1/orders", json=body, headers=headers)
        except httpx.HTTPError:
            results.append(0)
            return
        results.append(response.status_code)

    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        tasks, start = [], time.monotonic()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(client)))
            if n % max(1, int(rate)) == 0:
                peak = max(peak, server.rss_mib())
        await asyncio.gather(*tasks)
    created = sum(1 for status in results if status == 201)
    return created, len(results) - created, peak


async def _event_ids_after(dsn: str, cursor: int) -> list[int]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT id FROM order_event WHERE id > $1 ORDER BY id", cursor
        )
    finally:
        await connection.close()
    return [row["id"] for row in rows]


async def _cursor(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval("SELECT COALESCE(max(id), 0) FROM order_event")
        )
    finally:
        await connection.close()


def fan_out(
    server: Server,
    dsn: str,
    count: int,
    seconds: float,
    files: Files,
    user_tokens: list[str],
    *,
    window: float,
    deflate: bool = False,
) -> Row:
    """Subscribers without compression, or (`deflate`) negotiating
    permessage-deflate as every browser does; that row also bounds the
    server's memory (`backend.server.ws_deflate` keeps no zlib context per
    socket)."""
    ws_url = server.url.replace("http://", "ws://") + "/api/v1/orders/events"
    clients = _spawn(ws_url, files, count, window, deflate=deflate)
    try:
        row = _measure(server, dsn, count, seconds, clients, user_tokens)
    finally:
        for process in clients:
            if process.poll() is None:
                process.kill()
            process.wait()
    if deflate:
        row.scenario = row.scenario.replace("fan-out", "fan-out, deflate")
        row.target += f", RSS<={DEFLATE_RSS_MIB:,} MiB"
        row.passed = row.passed and row.extra["rss_peak_mib"] <= DEFLATE_RSS_MIB
    return row


def sse_fan_out(
    server: Server,
    dsn: str,
    count: int,
    seconds: float,
    files: Files,
    user_tokens: list[str],
    *,
    window: float,
) -> Row:
    """The same scenario over Server-Sent Events (`bench.sse_client`)."""
    url = server.url + "/api/v1/orders/events/stream"
    clients = _spawn(
        url,
        files,
        count,
        window,
        deflate=False,
        client="bench.sse_client",
        per_process=SSE_PER_PROCESS,
    )
    try:
        row = _measure(server, dsn, count, seconds, clients, user_tokens)
    finally:
        for process in clients:
            if process.poll() is None:
                process.kill()
            process.wait()
    row.scenario = row.scenario.replace("fan-out", "sse")
    return row


def _measure(
    server: Server,
    dsn: str,
    count: int,
    seconds: float,
    clients: list[subprocess.Popen[str]],
    user_tokens: list[str],
) -> Row:
    setup_start = time.monotonic()
    held = sum(int(_read_line(c.stdout).split()[1]) for c in clients)
    setup_s = time.monotonic() - setup_start
    rss_idle = server.rss_mib()
    cursor = asyncio.run(_cursor(dsn))
    rate = max(1.0, DELIVERIES_PER_S / count)
    created, failed, peak = asyncio.run(
        _place_orders(server.url, user_tokens, rate, seconds, server)
    )
    time.sleep(DRAIN_S)
    expected = asyncio.run(_event_ids_after(dsn, cursor))
    summaries = [_stop(c, expected) for c in clients]
    return _row(
        count,
        held,
        seconds,
        expected,
        summaries,
        {
            "setup_s": setup_s,
            "orders_per_s": rate,
            "orders_created": created,
            "orders_failed": failed,
            "rss_idle_mib": rss_idle,
            "rss_peak_mib": max(peak, server.rss_mib()),
        },
    )


def _stop(client: subprocess.Popen[str], expected: list[int]) -> dict[str, Any]:
    assert client.stdin is not None
    client.stdin.write("STOP " + orjson.dumps(expected).decode() + "\n")
    client.stdin.flush()
    summary: dict[str, Any] = orjson.loads(_read_line(client.stdout))
    return summary


def _row(
    count: int,
    held: int,
    seconds: float,
    expected: list[int],
    summaries: list[dict[str, Any]],
    extra: dict[str, Any],
) -> Row:
    latencies = sorted(ms for s in summaries for ms in s["latencies_ms"])
    missing = sum(s["missing"] for s in summaries)
    received = sum(s["received"] for s in summaries)
    p99 = percentile(latencies, 99)
    extra.update(
        held=held,
        events=len(expected),
        missing=missing,
        reconnects=sum(s["reconnects"] for s in summaries),
        deliveries=received,
        events_per_s=received / seconds,
    )
    return Row(
        f"fan-out ({received / seconds:,.0f} ev/s, {extra['rss_peak_mib']:.0f} MiB)",
        count,
        None,
        percentile(latencies, 50),
        p99,
        errors=(count - held) + missing + extra["orders_failed"],
        target="all held, p99<=1s, none missing",
        passed=held == count and missing == 0 and bool(expected) and p99 <= 1000,
        extra=extra,
    )
