"""Login and registration limits: 429 problem+json with Retry-After."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import extensions
from backend.app import create_app
from tests.api.helpers import PASSWORD, new_account, problem
from tests.conftest import make_settings
from tests.support.factories import make_user

REDIS_URL = "redis://127.0.0.1:6379/15"
LimitedApp = Callable[..., AbstractAsyncContextManager[Quart]]


@pytest.fixture
def limited_app(database_url: str, connection: AsyncConnection) -> LimitedApp:
    """A factory of apps with small limits, sharing the test's transaction."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Quart]:
        limits = {"rate_limit_login": "3/minute", "rate_limit_register": "2/minute"}
        settings = make_settings(database_url, **{**limits, **overrides})
        app = create_app(settings)
        extensions.database(app).bind(connection)
        async with app.test_app():
            yield app

    return start


def peer(address: str) -> dict[str, Any]:
    return {"scope_base": {"client": (address, 40000)}}


async def login_from(client: Client, address: str, name: str, password: str) -> Any:
    return await client.post(
        "/api/v1/auth/login",
        json={"username": name, "password": password},
        **peer(address),
    )


async def assert_limited(response: Any) -> None:
    await problem(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_login_is_limited_per_address_even_with_the_right_password(
    limited_app: LimitedApp,
) -> None:
    async with limited_app() as app:
        async with extensions.database(app).session() as session:
            user = await make_user(session, app, password=PASSWORD)
        client = app.test_client()
        for _ in range(3):
            wrong = await login_from(client, "10.0.0.1", "nobody", "Wrong-Pass-1")
            assert wrong.status_code == 401
        await assert_limited(
            await login_from(client, "10.0.0.1", user.username, PASSWORD)
        )
        # Another address still has its own budget.
        fine = await login_from(client, "10.0.0.2", user.username, PASSWORD)
        assert fine.status_code == 200


async def test_login_is_limited_per_account_across_addresses(
    limited_app: LimitedApp,
) -> None:
    async with limited_app() as app:
        async with extensions.database(app).session() as session:
            user = await make_user(session, app, password=PASSWORD)
        client = app.test_client()
        for n in range(3):
            typed = user.username.upper() if n % 2 else user.username
            answer = await login_from(client, f"10.1.0.{n}", typed, "Wrong-Pass-1")
            assert answer.status_code == 401
        await assert_limited(
            await login_from(client, "10.1.0.9", user.username, PASSWORD)
        )


async def test_forwarded_for_is_trusted_only_with_proxy_hops(
    limited_app: LimitedApp,
) -> None:
    for hops, expect_limited in ((0, True), (1, False)):
        async with limited_app(trusted_proxy_hops=hops) as app:
            client = app.test_client()
            statuses = []
            for n in range(4):
                response = await client.post(
                    "/api/v1/auth/login",
                    json={"username": f"ghost{n}", "password": "x"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                    **peer("10.9.9.9"),
                )
                statuses.append(response.status_code)
            assert (statuses[-1] == 429) is expect_limited, statuses


async def test_registration_budget_is_shared_by_register_and_create_user(
    limited_app: LimitedApp,
) -> None:
    async with limited_app() as app:
        client = app.test_client()
        first = await client.post(
            "/api/v1/auth/register", json=new_account(), **peer("10.2.0.1")
        )
        second = await client.post(
            "/api/v1/users", json=new_account(), **peer("10.2.0.1")
        )
        assert (first.status_code, second.status_code) == (201, 201)
        for path in ("/api/v1/auth/register", "/api/v1/users"):
            again = await client.post(path, json=new_account(), **peer("10.2.0.1"))
            await assert_limited(again)
        other = await client.post(
            "/api/v1/users", json=new_account(), **peer("10.2.0.2")
        )
        assert other.status_code == 201


async def test_a_zero_limit_disables_limiting(limited_app: LimitedApp) -> None:
    async with limited_app(rate_limit_login="0") as app:
        client = app.test_client()
        for _ in range(5):
            answer = await login_from(client, "10.3.0.1", "nobody", "Wrong-Pass-1")
            assert answer.status_code == 401


@pytest.fixture
async def redis_url() -> str:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    finally:
        await client.aclose()
    return REDIS_URL


async def test_redis_counters_are_shared_between_app_instances(
    limited_app: LimitedApp, redis_url: str
) -> None:
    # A unique address per run: Redis keeps counters between test runs.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    async with (
        limited_app(redis_url=redis_url) as one,
        limited_app(redis_url=redis_url) as two,
    ):
        clients = [one.test_client(), two.test_client()]
        for n in range(3):
            name = f"ghost-{uuid.uuid4().hex}"
            answer = await login_from(clients[n % 2], address, name, "Wrong-Pass-1")
            assert answer.status_code == 401
        for client in clients:
            await assert_limited(await login_from(client, address, "x", "y"))
