"""Order events to subscribers that negotiate permessage-deflate and to ones that
do not, on a real Hypercorn server (`backend.server.ws_deflate`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from tests.e2e.test_event_fanout import (
    OPEN,
    collect,
    open_shop,
    place_orders,
    settle,
    subscribe,
)
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e
# How each kind of client asks: as browsers (Chromium, Firefox) and the
# `websockets` library do by default; with a smaller server window; not at all.
CLIENTS: dict[str, dict[str, Any]] = {
    "default": {},
    "small window": {
        "compression": None,
        "extensions": [
            ClientPerMessageDeflateFactory(
                server_max_window_bits=10, client_max_window_bits=10
            )
        ],
    },
    "plain": {"compression": None},
}


async def test_compressing_and_plain_subscribers_get_every_event(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url("postgresql")
    server = live_server(url, workers=2, env=OPEN)
    shop = await open_shop(server, url)
    kinds = [kind for kind in CLIENTS for _ in range(4)]
    sockets = [await subscribe(server, shop.admin, **CLIENTS[kind]) for kind in kinds]
    try:
        answers = {
            (kind, socket.response.headers.get("Sec-WebSocket-Extensions"))
            for kind, socket in zip(kinds, sockets, strict=True)
        }
        await settle()
        order_ids = await place_orders(shop, 30)
        streams = await asyncio.gather(*(collect(ws, 30) for ws in sockets))
    finally:
        for ws in sockets:
            await ws.close()
    assert answers == {
        (
            "default",
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=15",
        ),
        (
            "small window",
            "permessage-deflate; server_no_context_takeover; "
            "client_max_window_bits=10; server_max_window_bits=10",
        ),
        ("plain", None),
    }
    assert sorted(event["order_id"] for event in streams[0]) == sorted(order_ids)
    for events in streams[1:]:
        assert events == streams[0], "every subscriber reads the same events"
