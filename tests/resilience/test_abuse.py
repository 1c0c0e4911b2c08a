"""Abuse: password guessing is throttled; oversized headers are refused cleanly."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.resilience.conftest import HAS_LOGIN, Shop
from tests.support.factories import DEFAULT_PASSWORD
from tests.support.server import LiveServer

pytestmark = [pytest.mark.resilience, pytest.mark.e2e]
needs_login = pytest.mark.skipif(
    not HAS_LOGIN, reason="POST /api/v1/auth/login is not implemented yet (issue 3)"
)

LIMIT = 5


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
async def login_server(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> tuple[LiveServer, str]:
    """Two workers sharing one budget through Redis (one worker without Redis)."""
    username = f"victim_{uuid.uuid4().hex[:8]}"
    await shop.user(username=username)
    env = {"RATE_LIMIT_LOGIN": f"{LIMIT}/minute", "TRUSTED_PROXY_HOPS": "1"}
    workers = 1
    if _redis_reachable():
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
        workers = 2
    return live_server(shop.url, workers=workers, env=env), username


def _address() -> str:
    """A client address of its own, so no other test shares its budget."""
    return (
        f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    )


async def _login(
    http: httpx.AsyncClient, username: str, password: str, address: str
) -> httpx.Response:
    return await http.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


def _assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


@needs_login
async def test_guessing_from_one_address_is_throttled(
    login_server: tuple[LiveServer, str],
) -> None:
    server, username = login_server
    address = _address()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        guesses = [
            await _login(http, username, f"Wrong-{n}-pass", address)
            for n in range(LIMIT + 3)
        ]
        right = await _login(http, username, DEFAULT_PASSWORD, address)
    assert [r.status_code for r in guesses[:LIMIT]] == [401] * LIMIT
    for response in [*guesses[LIMIT:], right]:
        _assert_throttled(response)


@needs_login
async def test_guessing_from_many_addresses_is_throttled_per_account(
    login_server: tuple[LiveServer, str],
) -> None:
    server, username = login_server
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        guesses = await asyncio.gather(
            *(
                _login(http, username.upper(), f"Wrong-{n}-pass", _address())
                for n in range(LIMIT * 3)
            )
        )
        right = await _login(http, username, DEFAULT_PASSWORD, _address())
    statuses = sorted(r.status_code for r in guesses)
    assert statuses == [401] * LIMIT + [429] * (LIMIT * 2)
    _assert_throttled(right)


async def _get_with_authorization(base_url: str, path: str, size: int) -> int:
    """The status for a `size`-byte Authorization header; 0 if the server hung up."""
    bearer = "Bearer " + "a" * (size - len("Bearer "))
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        try:
            response = await http.get(path, headers={"Authorization": bearer})
        except httpx.RemoteProtocolError:
            return 0  # the server hung up on the oversized head: also a refusal
    # 431 comes from Hypercorn itself (h11's 16 KiB head limit), before the app.
    if response.status_code >= 400 and response.status_code != 431:
        assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code


async def test_oversized_authorization_header_is_refused_cleanly(
    shop: Shop, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(shop.url)
    for size in (4097, 16 * 1024, 64 * 1024):
        for path in ("/api/v1/auth/me", "/api/v1/orders", "/health"):
            status = await _get_with_authorization(server.base_url, path, size)
            assert status < 500, (path, size, status)
            if path.startswith("/api/"):
                assert status == 0 or 400 <= status < 500, (path, size, status)
        async with httpx.AsyncClient(base_url=server.base_url) as fresh:
            assert (await fresh.get("/health")).status_code == 200
            assert (await fresh.get("/ready")).status_code == 200
