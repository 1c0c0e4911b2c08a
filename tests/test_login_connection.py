"""A login holds no database connection (nor SQLite's write lock) while it hashes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from backend.app import create_app
from backend.db import get_database
from tests.conftest import make_settings
from tests.support.factories import (
    DEFAULT_PASSWORD,
    bearer_for,
    make_product,
    make_user,
)

# Argon2 at a time cost that makes one hash take a good fraction of a second.
SLOW_HASHING = {"argon2_time_cost": 40}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_writes_go_ahead_while_a_login_hashes(
    backend: str, fresh_database_url: Callable[[str], Awaitable[str]]
) -> None:
    settings = make_settings(await fresh_database_url(backend), **SLOW_HASHING)
    app = create_app(settings)
    async with app.test_app():
        database = get_database(app)
        async with database.session() as session:
            member = await make_user(session, app)
            admin = await make_user(session, app, is_admin=True)
            product = await make_product(session)
        headers = await bearer_for(app, admin)
        client = app.test_client()
        login = asyncio.create_task(
            client.post(
                "/api/v1/auth/login",
                json={"username": member.username, "password": DEFAULT_PASSWORD},
            )
        )
        await asyncio.sleep(0.1)  # the login has read its user and is hashing
        assert database.engine is not None
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        patched = await client.patch(
            f"/api/v1/products/{product.id}", json={"stock": 5}, headers=headers
        )
        assert patched.status_code == 200
        assert not login.done(), "the write waited for the login's hash"
        assert (await login).status_code == 200
