"""A login holds no database connection (nor SQLite's write lock) while it hashes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from backend import extensions
from backend.app import create_app
from backend.security.passwords import PasswordHasher
from tests.conftest import make_settings
from tests.support.factories import (
    DEFAULT_PASSWORD,
    bearer_for,
    make_product,
    make_user,
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_writes_go_ahead_while_a_login_hashes(
    backend: str,
    fresh_database_url: Callable[[str], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(make_settings(await fresh_database_url(backend)))
    # The login's hash starts, then waits for the test: "while it hashes" is a
    # state the test holds the login in, not a moment it hopes to sleep into.
    hashing, finish_hash = asyncio.Event(), asyncio.Event()
    verify = PasswordHasher.verify

    async def held_verify(
        self: PasswordHasher, password_hash: str | None, password: str
    ) -> bool:
        hashing.set()
        await finish_hash.wait()
        return await verify(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", held_verify)
    async with app.test_app():
        database = extensions.database(app)
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
        try:
            await asyncio.wait_for(hashing.wait(), timeout=30)
            assert database.engine is not None
            # Background pollers (event bus, job runner) borrow a connection
            # for a moment now and then: the pool must reach zero, which it
            # never would if the hashing login held one.
            await _pool_idle(database.engine)
            patched = await asyncio.wait_for(
                client.patch(
                    f"/api/v1/products/{product.id}",
                    json={"stock": 5},
                    headers=headers,
                ),
                timeout=30,
            )
            assert patched.status_code == 200
        finally:
            finish_hash.set()
            response = await login
        assert response.status_code == 200


async def _pool_idle(engine: Any) -> None:
    for _ in range(1000):  # about 10 s
        if engine.pool.checkedout() == 0:
            return
        await asyncio.sleep(0.01)
    pytest.fail("the pool never went idle while the login hashed")
