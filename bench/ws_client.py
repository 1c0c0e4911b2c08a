"""One fan-out client process: many order-event subscribers.

`python -m bench.ws_client URL TOKENS_FILE COUNT WINDOW [deflate]` connects
COUNT subscribers (retrying refusals for up to WINDOW seconds; with `deflate`
they negotiate permessage-deflate, as browsers and the `websockets` library do
by default), prints
`READY <connected>`, records every event (id, receipt time minus the
event's `occurred_at`) until a `STOP <expected ids as JSON>` line arrives on
stdin, then prints one JSON summary line and exits. A subscriber the server
closes (1013: too far behind) reconnects with `since`, as the contract says.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from typing import Any

import orjson
import uvloop
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench.stats import thin

HANDSHAKES_IN_FLIGHT = 64
LATENCY_SAMPLES = 20_000
# After the last order, how long subscribers may take to catch up before an
# event still not received counts as missing.
DRAIN_TIMEOUT_S = 10.0
POLL_S = 0.05


class Subscriber:
    def __init__(self, url: str, *, deflate: bool) -> None:
        self.url = url
        self.compression: str | None = "deflate" if deflate else None
        self.seen: set[int] = set()
        self.latencies: list[float] = []
        self.last_id = 0
        self.reconnects = 0
        self.connected = asyncio.Event()
        self.refusals = 0

    async def run(self, gate: asyncio.Semaphore) -> None:
        """Stay subscribed: (re)connect after refusals and closes, like a client."""
        while True:
            since = f"&since={self.last_id}" if self.last_id else ""
            try:
                async with gate:
                    socket = await connect(
                        self.url + since,
                        ping_interval=None,
                        compression=self.compression,
                    )
            except (OSError, InvalidStatus, TimeoutError):
                self.refusals += 1
                await asyncio.sleep(0.5)
                continue
            self.connected.set()
            try:
                async for frame in socket:
                    self._record(frame)
            except ConnectionClosed:
                pass
            self.reconnects += 1

    def _record(self, frame: str | bytes) -> None:
        now = time.time()
        event: dict[str, Any] = orjson.loads(frame)
        self.seen.add(event["id"])
        self.last_id = max(self.last_id, event["id"])
        sent = datetime.fromisoformat(event["occurred_at"]).timestamp()
        self.latencies.append((now - sent) * 1000)


async def _stdin_line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


async def main(
    url: str, tokens: list[str], count: int, window: float, *, deflate: bool
) -> None:
    gate = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
    subscribers = [
        Subscriber(f"{url}?access_token={tokens[i % len(tokens)]}", deflate=deflate)
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


def _cli() -> None:
    url, tokens_file, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    window = float(sys.argv[4])
    deflate = sys.argv[5:] == ["deflate"]
    with open(tokens_file) as handle:
        tokens = [line.strip() for line in handle if line.strip()]
    uvloop.run(main(url, tokens, count, window, deflate=deflate))


if __name__ == "__main__":
    _cli()
