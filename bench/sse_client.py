"""One SSE fan-out client process: many Server-Sent Events subscribers.

`python -m bench.sse_client URL TOKENS_FILE COUNT WINDOW` opens COUNT event
streams (retrying refusals for up to WINDOW seconds), and then speaks the same
stdin/stdout protocol as `bench.ws_client`: `READY <n>`, then after
`STOP <expected ids as JSON>` one JSON summary line. A stream the server ends
(fell behind, or any other reason) is reopened with `Last-Event-ID`, as
EventSource does.

Each stream is a bare asyncio protocol that decodes HTTP/1.1 chunked framing
and SSE `data:` lines, nothing more: a general client (httpx-sse, which the
tests use) spent more CPU per event than the server, so the row measured the
client. The websocket client's C-accelerated framing has no such cost.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import uvloop

from bench.stats import thin
from bench.ws_client import DRAIN_TIMEOUT_S, HANDSHAKES_IN_FLIGHT, POLL_S

LATENCY_SAMPLES = 20_000


class _Stream(asyncio.Protocol):
    """One response: the head, then chunks, then SSE messages split on blank lines."""

    def __init__(self, subscriber: Subscriber) -> None:
        self.subscriber = subscriber
        self.head: bytes | None = None
        self.raw = b""
        self.text = b""
        self.started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.raw += data
        if self.head is None:
            head, found, rest = self.raw.partition(b"\r\n\r\n")
            if not found:
                return
            self.head, self.raw = head, rest
            self.started.set_result(int(head.split(b" ", 2)[1]))
        self._chunks()

    def _chunks(self) -> None:
        while True:
            size_line, found, rest = self.raw.partition(b"\r\n")
            if not found:
                return
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            self.text += rest[:size]
            self.raw = rest[size + 2 :]
            self._messages()

    def _messages(self) -> None:
        *messages, self.text = self.text.split(b"\n\n")
        for message in messages:
            for line in message.split(b"\n"):
                if line.startswith(b"data: "):
                    self.subscriber.record(line[6:])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.started.done():
            self.started.set_exception(exc or ConnectionError("closed"))
        self.ended.set_result(None)


class Subscriber:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.target = f"{parts.path}?{parts.query}"
        self.seen: set[int] = set()
        self.latencies: list[float] = []
        self.last_id = 0
        self.reconnects = 0
        self.refusals = 0
        self.connected = asyncio.Event()

    async def run(self, gate: asyncio.Semaphore) -> None:
        """Stay subscribed: reopen after refusals and ends, like EventSource."""
        loop = asyncio.get_running_loop()
        while True:
            async with gate:
                try:
                    transport, stream = await loop.create_connection(
                        lambda: _Stream(self), self.host, self.port
                    )
                    transport.write(self._request())
                    status = await asyncio.wait_for(stream.started, 30)
                except (OSError, TimeoutError):
                    status = 0
            if status != 200:
                self.refusals += 1
                await asyncio.sleep(0.5)
                continue
            self.connected.set()
            await stream.ended
            self.reconnects += 1

    def _request(self) -> bytes:
        resume = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id else ""
        return (
            f"GET {self.target} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Accept: text/event-stream\r\n{resume}\r\n"
        ).encode()

    def record(self, data: bytes) -> None:
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
    subscribers = [
        Subscriber(f"{url}?access_token={tokens[i % len(tokens)]}")
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
    with open(tokens_file) as handle:
        tokens = [line.strip() for line in handle if line.strip()]
    uvloop.run(main(url, tokens, count, window))


if __name__ == "__main__":
    _cli()
