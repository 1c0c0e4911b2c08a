"""A response sent before its request's body arrived says `Connection: close`.

Hypercorn closes such a connection after the response; a keep-alive client not
told so sends its next request down it and gets no answer. Raw sockets against
a real Hypercorn, so the body can really be still on its way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e

BODY = b'{"items": [{"product_id": 1, "quantity": 1}]}'
HEAD = (
    b"POST /api/v1/orders HTTP/1.1\r\nHost: shop\r\n"
    b"Authorization: Bearer not-a-token\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY)
)


async def _response_head(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = next(
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return head.lower()


@pytest.fixture
async def server(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> LiveServer:
    return live_server(await fresh_database_url("sqlite"), workers=1)


async def test_refused_before_the_body_came_says_close(server: LiveServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(HEAD)  # the body is held back: the 401 comes first
    await writer.drain()
    head = await _response_head(reader)
    assert head.startswith(b"http/1.1 401")
    assert b"connection: close" in head
    writer.close()


async def test_refused_with_the_whole_body_keeps_the_connection(
    server: LiveServer,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for _ in range(2):  # the second request reuses the connection
        writer.write(HEAD + BODY)
        await writer.drain()
        head = await _response_head(reader)
        assert head.startswith(b"http/1.1 401")
        assert b"connection: close" not in head
    writer.close()
