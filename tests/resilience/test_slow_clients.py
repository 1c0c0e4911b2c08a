"""Slow clients: dribbled headers and dribbled bodies are cut off, others unharmed.

Until a request head is complete Hypercorn holds the connection to
`keep_alive_timeout` (hypercorn.toml) in total, however slowly bytes arrive, so
a slowloris client is closed after it; the app's `BODY_TIMEOUT` bounds the
whole body, so dribbling it a byte at a time is answered with 408. (A client
that goes fully silent is also cut by `read_timeout`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import tomllib
from collections.abc import Callable

import httpx
import pytest

from tests.resilience.conftest import Shop, has_route
from tests.support.server import PROJECT_ROOT, LiveServer

pytestmark = [
    pytest.mark.resilience,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not has_route("POST", "/api/v1/products"),
        reason="needs a body-reading route: POST /api/v1/products (issue 4)",
    ),
]

CONFIG = tomllib.loads((PROJECT_ROOT / "hypercorn.toml").read_text())
HEAD_TIMEOUT = CONFIG["keep_alive_timeout"]
BODY_TIMEOUT = 2
SLOW_CLIENTS = 40


async def _dribble(
    writer: asyncio.StreamWriter, read: asyncio.Task[bytes], limit: float
) -> None:
    """A byte every 0.3 s (so never idle) until the server answers or hangs up."""
    started = time.monotonic()
    while not read.done() and time.monotonic() - started < limit:
        writer.write(b"a")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        await asyncio.sleep(0.3)


async def _dribbled_headers(port: int) -> tuple[float, bytes]:
    """A request head sent a byte at a time: seconds until the server hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(b"GET /health HTTP/1.1\r\nHost: shop\r\nX-Slow: ")
    read = asyncio.create_task(reader.read())
    await _dribble(writer, read, HEAD_TIMEOUT + 10)
    answer = await asyncio.wait_for(read, 1)
    writer.close()
    return time.monotonic() - started, answer


async def _dribbled_body(port: int, token: str) -> tuple[float, bytes]:
    """A body promised at 1000 bytes, sent a byte every 0.3 s (never idle)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(
        b"POST /api/v1/products HTTP/1.1\r\nHost: shop\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n"
        b"Authorization: " + token.encode() + b"\r\n\r\n"
    )
    read = asyncio.create_task(reader.read())
    await _dribble(writer, read, BODY_TIMEOUT + 10)
    answer = await asyncio.wait_for(read, 1)
    writer.close()
    return time.monotonic() - started, answer


async def _latencies(http: httpx.AsyncClient, count: int = 40) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.monotonic()
        assert (await http.get("/api/v1/products")).status_code == 200
        latencies.append(time.monotonic() - started)
    return latencies


def test_hypercorn_config_bounds_slow_reads() -> None:
    assert 0 < CONFIG["keep_alive_timeout"] <= 10
    assert 0 < CONFIG["read_timeout"] <= 60
    # Idle websockets answer pings, so a read timeout longer than the ping
    # interval never closes a healthy subscriber.
    assert CONFIG["read_timeout"] > CONFIG["websocket_ping_interval"]


async def test_slow_clients_are_cut_off_without_slowing_others(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> None:
    token = (await shop.user(admin=True))["Authorization"]
    env = {"BODY_TIMEOUT": str(BODY_TIMEOUT)}
    server = live_server(shop.url, workers=2, env=env)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        await _latencies(http, 10)  # warm the pools
        baseline = statistics.median(await _latencies(http))
        slow = [
            *(_dribbled_headers(server.port) for _ in range(SLOW_CLIENTS // 2)),
            *(_dribbled_body(server.port, token) for _ in range(SLOW_CLIENTS // 2)),
        ]
        attack = asyncio.gather(*slow)
        await asyncio.sleep(0.5)
        during = statistics.median(await _latencies(http))
        results = await attack
    # A fresh connection: the pooled one may have idled past keep_alive_timeout.
    async with httpx.AsyncClient(base_url=server.base_url) as fresh:
        assert (await fresh.get("/health")).status_code == 200

    heads, bodies = results[: SLOW_CLIENTS // 2], results[SLOW_CLIENTS // 2 :]
    for seconds, answer in heads:
        assert seconds < HEAD_TIMEOUT + 2
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
    for seconds, answer in bodies:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"application/problem+json" in answer
        assert seconds < BODY_TIMEOUT + 4  # slack for a loaded machine
    # Loopback latencies are a few ms; below 10 ms, 2x is scheduler noise.
    assert during <= 2 * max(baseline, 0.01), (baseline, during)
