"""Abuse: one user cannot hold an unbounded number of event sockets open, and a
flood that gets a socket closed does not leave the connection open."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.live_data import LiveData
from tests.support.server import LiveServer

pytestmark = [pytest.mark.resilience, pytest.mark.e2e]
LIMIT = 3


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_event_sockets_per_user_are_capped(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
    backend: str,
) -> None:
    url = await fresh_database_url(backend)
    env = {"WS_MAX_CONNECTIONS_PER_USER": str(LIMIT)}
    server = live_server(url, workers=1, env=env)
    async with LiveData(url) as data:
        flooder, other = await data.user(), await data.user()
    address = f"{server.ws_url}/api/v1/orders/events"
    held = [
        await connect(address, additional_headers=flooder.headers) for _ in range(LIMIT)
    ]
    try:
        with pytest.raises(InvalidStatus) as refused:
            await connect(address, additional_headers=flooder.headers)
        assert refused.value.response.status_code == 429
        assert refused.value.response.headers["Retry-After"]
        # The cap is per user: someone else still gets in.
        async with connect(address, additional_headers=other.headers):
            pass
        await held.pop().close()
        held.append(await _connect_once_freed(address, flooder.headers))
    finally:
        for socket in held:
            await socket.close()


async def test_flooded_socket_is_closed_with_1008_and_dropped(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    """Frames sent as fast as possible: past the rate limit the server closes
    with 1008, and closes the TCP connection once the client answers the close.

    The frames still arriving after the close used to fill Hypercorn's inbound
    queue (Quart stops reading it when the handler returns): the client's close
    was then never read and the socket stayed open for good. A burst that was
    still arriving when Hypercorn closed instead reset the connection, and the
    client lost the close frame (1006).
    """
    server = live_server(await fresh_database_url("sqlite"), workers=1)
    async with LiveData(server.database_url) as data:
        flooder = await data.user()
    address = f"{server.ws_url}/api/v1/orders/events"
    for burst in (100, 500, 1000):
        # The client would give up on the server after close_timeout; only the
        # server closing the connection ends wait_closed() within 5 s.
        socket = await connect(
            address, additional_headers=flooder.headers, close_timeout=60
        )
        try:
            with contextlib.suppress(ConnectionClosed):
                for _ in range(burst):
                    await socket.send("a")
            async with asyncio.timeout(5):
                await socket.wait_closed()
            assert socket.close_code == 1008, burst
        finally:
            socket.transport.abort()


async def _connect_once_freed(
    address: str, headers: dict[str, str]
) -> ClientConnection:
    """Connect once the server has counted a closed socket out (429 until then)."""
    async with asyncio.timeout(10):
        while True:
            try:
                return await connect(address, additional_headers=headers)
            except InvalidStatus as refused:
                if refused.response.status_code != 429:
                    raise
            await asyncio.sleep(0.05)
