"""A websocket message over the limit gets its 1009 close frame, and a close
handshake, even when the client is still sending (backend.ws_frames)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.live_data import LiveData
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e
BIG = "x" * 65536


async def _send_then_read(socket: ClientConnection, messages: int) -> None:
    for _ in range(messages):  # still sending after the server's close
        await socket.send(BIG)
    async with asyncio.timeout(20):
        await socket.recv()


@pytest.mark.parametrize("messages", [1, 3, 40])
async def test_a_message_over_the_limit_is_closed_with_1009(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
    messages: int,
) -> None:
    url = await fresh_database_url("sqlite")
    server = live_server(url)
    async with LiveData(url) as data:
        user = await data.user()
    address = f"{server.ws_url}/api/v1/orders/events"
    async with connect(address, additional_headers=user.headers) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await _send_then_read(socket, messages)
    assert closed.value.rcvd is not None, "the close frame arrived"
    assert closed.value.rcvd.code == 1009
    # The server still serves: the socket's slot was given back.
    async with connect(address, additional_headers=user.headers):
        pass
