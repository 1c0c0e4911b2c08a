"""A real HTTP receiver for webhook tests: verifies every delivery it gets.

A plain asyncio server (no framework), so a test decides each answer: a
status, a redirect, or never answering at all. Every request is verified
with the Standard Webhooks library against each secret the test gave it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

HANG = -1  # an "answer": keep the connection open and never reply


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified_by: list[str]

    @property
    def event(self) -> dict[str, object]:
        event: dict[str, object] = orjson.loads(self.body)
        return event

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    # (the request, how many times this msg id was seen) -> status or HANG
    answer: Callable[[Received, int], int] = lambda _request, _seen: 200
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def ids(self) -> list[str]:
        return [request.msg_id for request in self.received]

    async def wait_for(
        self, condition: Callable[[], bool], seconds: float = 30.0
    ) -> None:
        async with asyncio.timeout(seconds):
            while not condition():
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), 0.5)

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head.split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (
                    line.partition(":") for line in lines[1:] if line
                )
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = Received(path, headers, body, self._verify(body, headers))
            self.received.append(request)
            self._arrived.set()
            seen = sum(1 for other in self.received if other.msg_id == request.msg_id)
            status = self.answer(request, seen)
            if status == HANG:
                await asyncio.sleep(3600)
            location = "Location: /elsewhere\r\n" if 300 <= status < 400 else ""
            writer.write(
                f"HTTP/1.1 {status} X\r\n{location}Content-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _verify(self, body: bytes, headers: dict[str, str]) -> list[str]:
        verified = []
        for secret in self.secrets:
            with contextlib.suppress(WebhookVerificationError):
                Webhook(secret).verify(body, headers)
                verified.append(secret)
        return verified
