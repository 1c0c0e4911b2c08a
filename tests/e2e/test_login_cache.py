"""The login cache against real servers: a revoked login is refused at once.

Authenticated order reads skip the login-session check when the worker's login
cache knows the login is live (`web.login_cache`). Each test first reads on
every worker, so the login is cached everywhere, then revokes it (logout, a
password change, refresh-token reuse, deactivation, a role change) and reads
again. On one host (two workers sharing a file of change stamps) the very next
request is refused, on SQLite and PostgreSQL. A server on "another host" (its
own temp directory, hence its own stamps) hears of it by NOTIFY.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_data import LiveData
from tests.support.server import LiveServer

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
AUTH = "/api/v1/auth"
PASSWORD = "Login-Cache-1"
# Argon2 logins and registrations would hit their per-address limits.
ENV = {"RATE_LIMIT_LOGIN": "0", "RATE_LIMIT_REGISTER": "0"}
pytestmark = pytest.mark.e2e


@asynccontextmanager
async def _shop(
    url: str, server: LiveServer
) -> AsyncIterator[tuple[LiveData, httpx.AsyncClient]]:
    async with (
        LiveData(url) as data,
        httpx.AsyncClient(base_url=server.base_url, timeout=15) as http,
    ):
        yield data, http


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _statuses(
    http: httpx.AsyncClient, order_id: int, headers: dict[str, str], times: int = 12
) -> set[int]:
    """What `times` reads answer (each on a new connection, so both workers do)."""
    statuses = set()
    for _ in range(times):
        response = await http.get(
            f"/api/v1/orders/{order_id}", headers={**headers, "Connection": "close"}
        )
        statuses.add(response.status_code)
    return statuses


async def _order(
    http: httpx.AsyncClient, data: LiveData, headers: dict[str, str]
) -> int:
    product = await data.product(stock=10)
    placed = await http.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product.id, "quantity": 1}]},
        headers=headers,
    )
    assert placed.status_code == 201, placed.text
    order_id: int = placed.json()["id"]
    return order_id


async def _register(http: httpx.AsyncClient) -> dict[str, Any]:
    name = f"c{uuid.uuid4().hex[:12]}"
    registered = await http.post(
        f"{AUTH}/register",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert registered.status_code == 201, registered.text
    body: dict[str, Any] = registered.json()
    return body


async def _login(http: httpx.AsyncClient, username: str) -> dict[str, Any]:
    logged_in = await http.post(
        f"{AUTH}/login", json={"username": username, "password": PASSWORD}
    )
    assert logged_in.status_code == 200, logged_in.text
    pair: dict[str, Any] = logged_in.json()
    return pair


async def _revocations_are_refused(
    data: LiveData,
    revoke: httpx.AsyncClient,
    read: httpx.AsyncClient,
    refused_within: Callable[..., Coroutine[Any, Any, None]],
) -> None:
    """Every kind of revocation made through `revoke`, read back through `read`."""
    admin = await data.user(is_admin=True)

    # Logout ends the session of the token it is called with.
    alice = await data.user()
    order = await _order(read, data, alice.headers)
    assert await _statuses(read, order, alice.headers) == {200}
    assert (
        await revoke.post(f"{AUTH}/logout", headers=alice.headers)
    ).status_code == 204
    await refused_within(read, order, alice.headers, {401})

    # A password change ends every other session of the user.
    first = await _register(read)
    second = await _login(read, first["user"]["username"])
    order = await _order(read, data, _bearer(first["access_token"]))
    kept, ended = _bearer(first["access_token"]), _bearer(second["access_token"])
    assert await _statuses(read, order, ended) == {200}
    changed = await revoke.post(
        f"{AUTH}/change-password",
        json={
            "current_password": PASSWORD,
            "new_password": PASSWORD + "x",
            "new_password_confirm": PASSWORD + "x",
        },
        headers=kept,
    )
    assert changed.status_code == 204, changed.text
    await refused_within(read, order, ended, {401})
    assert await _statuses(read, order, kept) == {200}

    # A refresh token presented twice ends its whole session.
    pair = await _register(read)
    order = await _order(read, data, _bearer(pair["access_token"]))
    assert await _statuses(read, order, _bearer(pair["access_token"])) == {200}
    refresh = {"refresh_token": pair["refresh_token"]}
    assert (await revoke.post(f"{AUTH}/refresh", json=refresh)).status_code == 200
    assert (await revoke.post(f"{AUTH}/refresh", json=refresh)).status_code == 401
    await refused_within(read, order, _bearer(pair["access_token"]), {401})

    # Deactivation ends every session of the user.
    bob = await data.user()
    order = await _order(read, data, bob.headers)
    assert await _statuses(read, order, bob.headers) == {200}
    deleted = await revoke.delete(f"/api/v1/users/{bob.id}", headers=admin.headers)
    assert deleted.status_code == 204
    await refused_within(read, order, bob.headers, {401})

    # A demoted admin no longer sees other users' orders.
    carol, dave = await data.user(is_admin=True), await data.user()
    order = await _order(read, data, dave.headers)
    assert await _statuses(read, order, carol.headers) == {200}
    demoted = await revoke.patch(
        f"/api/v1/users/{carol.id}", json={"is_admin": False}, headers=admin.headers
    )
    assert demoted.status_code == 200, demoted.text
    await refused_within(read, order, carol.headers, {404})


async def _at_once(
    http: httpx.AsyncClient, order: int, headers: dict[str, str], wanted: set[int]
) -> None:
    assert await _statuses(http, order, headers) == wanted


async def _by_notification(
    http: httpx.AsyncClient, order: int, headers: dict[str, str], wanted: set[int]
) -> None:
    # The bound across hosts is the NOTIFY's delivery, typically a millisecond
    # or two; well inside the 60 s TTL, so only the notification evicted it.
    started = time.monotonic()
    while time.monotonic() - started < 5:
        if await _statuses(http, order, headers, times=4) == wanted:
            assert await _statuses(http, order, headers) == wanted
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still not {wanted} after 5 s")


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_revocations_through_any_worker_are_refused_at_once(
    backend: str,
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url(backend)
    async with _shop(url, live_server(url, workers=2, env=ENV)) as (data, http):
        await _revocations_are_refused(data, http, http, _at_once)


async def test_other_hosts_hear_revocations_by_notification(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    tmp_path: Path,
) -> None:
    url = await fresh_database_url("postgresql")
    here = live_server(url, workers=2, env=ENV)
    elsewhere_tmp = tmp_path / "other-host"
    elsewhere_tmp.mkdir()
    elsewhere = live_server(url, workers=1, env={**ENV, "TMPDIR": str(elsewhere_tmp)})
    async with (
        _shop(url, here) as (data, http),
        httpx.AsyncClient(base_url=elsewhere.base_url, timeout=15) as other,
    ):
        await _revocations_are_refused(data, other, http, _by_notification)
