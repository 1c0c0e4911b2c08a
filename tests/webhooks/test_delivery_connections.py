"""The delivery client keeps a receiver's connection alive between deliveries."""

from __future__ import annotations

import asyncio

from backend.config import Settings
from backend.webhooks import delivery, signing
from backend.webhooks.secrets import new_secret
from tests.conftest import make_settings


class CountingReceiver:
    """Answers every request 200 with a short body; counts its connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = next(
                    int(line.split(":", 1)[1])
                    for line in head.split("\r\n")
                    if line.lower().startswith("content-length:")
                )
                await reader.readexactly(length)
                self.requests += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _settings() -> Settings:
    return make_settings("sqlite+aiosqlite:///unused.db", webhook_allow_private=True)


async def test_consecutive_deliveries_share_one_connection() -> None:
    receiver = CountingReceiver()
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    message = delivery.Message(
        f"http://127.0.0.1:{port}/hook",
        [new_secret()],
        signing.message_id(1),
        b"{}",
    )
    client = delivery.new_client()
    try:
        outcomes = [await delivery.send(client, message, _settings()) for _ in range(3)]
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
    assert [outcome.response_status for outcome in outcomes] == [200, 200, 200]
    assert receiver.requests == 3
    assert receiver.connections == 1
