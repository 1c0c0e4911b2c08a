"""The framework-free ceiling: raw ASGI + asyncpg reading one product row.

`hypercorn -c hypercorn.toml bench.ceiling_app:app` serves
`GET /api/v1/products/{id}` with the same JSON fields as the real service, so
`read-one` can be compared against what the server and driver alone can do.
`GET /api/v1/products` is the `read-list` ceiling (bench/ceiling_list.py).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson

from bench.ceiling_list import list_page

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PREFIX = "/api/v1/products/"
LIST_PATH = "/api/v1/products"
QUERY = (
    "SELECT id, sku, name, description, price_cents, stock, is_active, "
    "created_at, updated_at FROM product WHERE id = $1 AND is_active"
)
_JSON_HEADERS = [(b"content-type", b"application/json")]
_state: dict[str, Any] = {}


def _dsn() -> str:
    url = os.environ["DATABASE_URL"]
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get("DB_POOL_SIZE", "10"))
            _state["pool"] = await asyncpg.create_pool(
                _dsn(), min_size=size, max_size=size
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _state["pool"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": _JSON_HEADERS}
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path: str = scope["path"]
    if scope["type"] == "http" and path == LIST_PATH:
        await _respond(
            send, 200, await list_page(_state["pool"], scope["query_string"])
        )
        return
    if scope["type"] != "http" or not path.startswith(PREFIX):
        await _respond(send, 404, b'{"status": 404}')
        return
    async with _state["pool"].acquire() as connection:
        row = await connection.fetchrow(QUERY, int(path[len(PREFIX) :]))
    if row is None:
        await _respond(send, 404, b'{"status": 404}')
        return
    product = dict(row)
    product["currency"] = "USD"
    await _respond(send, 200, orjson.dumps(product))
