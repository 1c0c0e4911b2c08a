"""The framework-free ceiling: raw ASGI + asyncpg, the service's SQL.

`hypercorn -c hypercorn.toml bench.ceiling_app:app` serves
`GET /api/v1/products/{id}` with the same JSON fields as the real service, so
`read-one` can be compared against what the server and driver alone can do;
`GET /api/v1/orders/{id}` (`read-order`): verify the access token, check
its login session and read the order with its items, as the service does
without any cache; and `GET /api/v1/products`, the `read-list` ceiling
(bench/ceiling_list.py).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
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
            _JWT.update(_jwt_settings())
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
    if scope["type"] == "http" and path.startswith(ORDER_PREFIX):
        await _read_order(scope, send, path)
        return
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


# --- read-order: GET /api/v1/orders/{id} with a bearer token ----------------
# The token is verified as backend.security.tokens does (PyJWT, the pinned
# algorithm, audience, issuer, required claims and the `typ` header); the
# login-session check and the two reads are the statements the service runs
# (services/logins.py `_TOKEN_USER`, services/orders.py `get_order`).

ORDER_PREFIX = "/api/v1/orders/"
TOKEN_USER = (
    "SELECT user_account.id, user_account.username, user_account.email, "
    "user_account.password_hash, user_account.first_name, user_account.last_name, "
    "user_account.email_verified, user_account.is_active, user_account.is_admin, "
    "user_account.token_version, user_account.credentials_version, "
    "user_account.mfa_enabled, user_account.created_at, user_account.updated_at "
    "FROM user_account WHERE user_account.id = $1::INTEGER "
    "AND user_account.is_active IS true AND user_account.token_version = $2::INTEGER "
    "AND (EXISTS (SELECT * FROM auth_session WHERE auth_session.id = $3::VARCHAR "
    "AND auth_session.user_id = user_account.id AND auth_session.revoked_at IS NULL "
    "AND auth_session.expires_at > $4::TIMESTAMP WITH TIME ZONE))"
)
OWN_ORDER = (
    "SELECT id, user_id, status, total_cents, currency, expires_at, created_at, "
    "updated_at FROM customer_order WHERE id = $1 AND user_id = $2"
)
ANY_ORDER = (
    "SELECT id, user_id, status, total_cents, currency, expires_at, created_at, "
    "updated_at FROM customer_order WHERE id = $1"
)
ORDER_ITEMS = (
    "SELECT product_id, sku, name, quantity, unit_price_cents, line_total_cents "
    "FROM order_item WHERE order_id = $1 ORDER BY id"
)
_NOT_FOUND = b'{"status": 404}'
_UNAUTHORIZED = b'{"status": 401}'
_JWT: dict[str, Any] = {}


def _jwt_settings() -> dict[str, Any]:
    issuer = os.environ.get("JWT_ISSUER", "backend")
    return {
        "key": os.environ["JWT_SECRET_KEY"],
        "algorithms": [os.environ.get("JWT_ALGORITHM", "HS256")],
        "audience": f"{issuer}:access",
        "issuer": issuer,
        "leeway": int(os.environ.get("JWT_LEEWAY", "0")),
        "options": {"require": ["exp", "iat", "sub", "jti", "iss", "aud"]},
    }


def _claims(scope: Scope) -> dict[str, Any] | None:
    """The verified access-token claims of the request, or None."""
    authorization = next(
        (value for name, value in scope["headers"] if name == b"authorization"), b""
    ).decode("latin-1")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    try:
        payload: dict[str, Any] = jwt.decode(token, **_JWT)
        typ = jwt.get_unverified_header(token).get("typ")
        claims = {
            "user_id": int(payload["sub"]),
            "session_id": str(payload["sid"]),
            "token_version": int(payload["ver"]),
        }
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None
    return claims if typ == "at+jwt" and isinstance(payload["sub"], str) else None


async def _read_order(scope: Scope, send: Send, path: str) -> None:
    claims = _claims(scope)
    if claims is None:
        await _respond(send, 401, _UNAUTHORIZED)
        return
    try:
        order_id = int(path[len(ORDER_PREFIX) :])
    except ValueError:
        await _respond(send, 404, _NOT_FOUND)
        return
    async with _state["pool"].acquire() as connection:
        user = await connection.fetchrow(
            TOKEN_USER,
            claims["user_id"],
            claims["token_version"],
            claims["session_id"],
            datetime.now(UTC),
        )
        if user is None:
            await _respond(send, 401, _UNAUTHORIZED)
            return
        if user["is_admin"]:
            order = await connection.fetchrow(ANY_ORDER, order_id)
        else:
            order = await connection.fetchrow(OWN_ORDER, order_id, user["id"])
        if order is None:
            await _respond(send, 404, _NOT_FOUND)
            return
        items = await connection.fetch(ORDER_ITEMS, order_id)
    body = dict(order)
    body["items"] = [dict(item) for item in items]
    await _respond(send, 200, orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
