"""One SSE fan-out client process: many Server-Sent Events subscribers.

`python -m bench.sse_client URL TOKENS_FILE COUNT WINDOW` opens COUNT event
streams with httpx-sse (retrying refusals for up to WINDOW seconds), and then
speaks the same stdin/stdout protocol as `bench.ws_client`: `READY <n>`, then
after `STOP <expected ids as JSON>` one JSON summary line. A stream the server
ends (fell behind, or any other reason) is reopened with `Last-Event-ID`, as
EventSource does.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from typing import Any

import httpx
import orjson
import uvloop
from httpx_sse import aconnect_sse

from bench.stats import thin
from bench.ws_client import DRAIN_TIMEOUT_S, HANDSHAKES_IN_FLIGHT, POLL_S

LATENCY_SAMPLES = 20_000


class Subscriber:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
        self.seen: set[int] = set()
        self.latencies: list[float] = []
        self.last_id = 0
        self.reconnects = 0
        self.refusals = 0
        self.connected = asyncio.Event()

    async def run(self, gate: asyncio.Semaphore) -> None:
        """Stay subscribed: reopen after refusals and ends, like EventSource."""
        while True:
            headers = {"Last-Event-ID": str(self.last_id)} if self.last_id else {}
            try:
                await self._follow(gate, headers)
            except (httpx.HTTPError, OSError):
                self.refusals += 1
                await asyncio.sleep(0.5)
                continue
            self.reconnects += 1

    async def _follow(self, gate: asyncio.Semaphore, headers: dict[str, str]) -> None:
        await gate.acquire()  # held for the handshake only, not the stream
        opening = True
        try:
            async with aconnect_sse(
                self.http, "GET", self.url, headers=headers
            ) as source:
                gate.release()
                opening = False
                source.response.raise_for_status()
                self.connected.set()
                async for sse in source.aiter_sse():
                    if sse.data:
                        self._record(sse.data)
        finally:
            if opening:
                gate.release()

    def _record(self, data: str) -> None:
        now = time.time()
        event: dict[str, Any] = orjson.loads(data)
        self.seen.add(event["id"])
        self.last_id = max(self.last_id, event["id"])
        sent = datetime.fromisoformat(event["occurred_at"]).timestamp()
        self.latencies.append((now - sent) * 1000)


async def _stdin_line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


async def main(url: str, tokens: list[str], count: int, window: float) -> None:
    gate = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
    limits = httpx.Limits(max_connections=count + HANDSHAKES_IN_FLIGHT)
    timeout = httpx.Timeout(30, read=None)  # a stream is idle between events
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as http:
        subscribers = [
            Subscriber(http, f"{url}?access_token={tokens[i % len(tokens)]}")
            for i in range(count)
        ]
        tasks = [asyncio.create_task(s.run(gate)) for s in subscribers]
        waits = [asyncio.create_task(s.connected.wait()) for s in subscribers]
        await asyncio.wait(waits, timeout=window)
        failed = sum(1 for s in subscribers if not s.connected.is_set())
        print(f"READY {count - failed}", flush=True)
        line = await _stdin_line()
        expected = set(orjson.loads(line.removeprefix("STOP ")))
        for _ in range(int(DRAIN_TIMEOUT_S / POLL_S)):
            if all(expected <= s.seen for s in subscribers):
                break
            await asyncio.sleep(POLL_S)
        latencies = sorted(ms for s in subscribers for ms in s.latencies)
        summary = {
            "subscribers": count,
            "failed": failed,
            "missing": sum(1 for s in subscribers if not expected <= s.seen),
            "received": sum(len(s.seen & expected) for s in subscribers),
            "reconnects": sum(s.reconnects for s in subscribers),
            "refusals": sum(s.refusals for s in subscribers),
            "latencies_ms": thin(latencies, LATENCY_SAMPLES),
        }
        print(orjson.dumps(summary).decode(), flush=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _cli() -> None:
    url, tokens_file, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    window = float(sys.argv[4])
    with open(tokens_file) as handle:
        tokens = [line.strip() for line in handle if line.strip()]
    uvloop.run(main(url, tokens, count, window))


if __name__ == "__main__":
    _cli()
