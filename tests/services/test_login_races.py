"""A login that checked the old password, or the active account, gets no session
that survives a password change or a deactivation committed while it ran.

The windows are held open, not slept into: the login is stopped inside its
password hash (before its session exists) or just after the INSERT of its
session (before its commit), the change runs, then the login goes on.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, text

from backend import extensions
from backend.app import create_app
from backend.models import AuthSession
from backend.security.passwords import PasswordHasher
from backend.services import logins
from tests.conftest import BACKENDS, make_settings
from tests.support.factories import DEFAULT_PASSWORD, bearer_for, make_user

NEW_PASSWORD = "Brand-New-Pass-7"
CHANGES = ["change-password", "deactivate"]
FreshDatabase = Callable[[str], Awaitable[str]]


class Gate:
    """Stops the next call that passes it until `release()`."""

    def __init__(self) -> None:
        self.armed = False
        self.reached = asyncio.Event()
        self._open = asyncio.Event()

    async def stop_here(self) -> None:
        if self.armed:
            self.armed = False
            self.reached.set()
            await self._open.wait()

    def release(self) -> None:
        self._open.set()


@asynccontextmanager
async def racing_app(backend: str, fresh: FreshDatabase) -> AsyncIterator[Quart]:
    app = create_app(make_settings(await fresh(backend), rate_limit_login="0"))
    async with app.test_app():
        yield app


def gate_in_hash(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate, verify = Gate(), PasswordHasher.verify

    async def held(self: PasswordHasher, password_hash: str | None, pw: str) -> bool:
        await gate.stop_here()
        return await verify(self, password_hash, pw)

    monkeypatch.setattr(PasswordHasher, "verify", held)
    return gate


def gate_after_insert(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate, issue = Gate(), logins._issue

    async def held(*args: Any, **kwargs: Any) -> logins.IssuedTokens:
        await gate.stop_here()  # the session row is written, not yet committed
        return await issue(*args, **kwargs)

    monkeypatch.setattr(logins, "_issue", held)
    return gate


class Scene:
    """A member, an admin, and the change each race makes to the member."""

    def __init__(self, app: Quart) -> None:
        self.app = app
        self.client = app.test_client()

    async def setup(self) -> Scene:
        async with extensions.database(self.app).session() as session:
            self.member = await make_user(session, self.app)
            self.admin = await make_user(session, self.app, is_admin=True)
        self.member_headers = await bearer_for(self.app, self.member)
        self.admin_headers = await bearer_for(self.app, self.admin)
        return self

    async def login(self) -> Any:
        return await self.client.post(
            "/api/v1/auth/login",
            json={"username": self.member.username, "password": DEFAULT_PASSWORD},
        )

    async def change(self, kind: str) -> None:
        if kind == "change-password":
            response = await self.client.post(
                "/api/v1/auth/change-password",
                json={
                    "current_password": DEFAULT_PASSWORD,
                    "new_password": NEW_PASSWORD,
                    "new_password_confirm": NEW_PASSWORD,
                },
                headers=self.member_headers,
            )
        else:
            response = await self.client.delete(
                f"/api/v1/users/{self.member.id}", headers=self.admin_headers
            )
        assert response.status_code == 204, await response.get_json()

    async def reactivate(self) -> None:
        response = await self.client.patch(
            f"/api/v1/users/{self.member.id}",
            json={"is_active": True},
            headers=self.admin_headers,
        )
        assert response.status_code == 200

    async def assert_login_left_nothing(self, login: Any, kind: str) -> None:
        """Whatever the racing login answered, nothing it got works now."""
        if kind == "deactivate":
            await self.reactivate()  # a revoked session must not come back
        if login.status_code == 200:
            tokens = await login.get_json()
            me = await self.client.get(
                "/api/v1/auth/me",
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            assert me.status_code == 401
            refreshed = await self.client.post(
                "/api/v1/auth/refresh",
                json={"refresh_token": tokens["refresh_token"]},
            )
            assert refreshed.status_code == 401
        else:
            assert login.status_code == 401
            assert (await login.get_json())["code"] == "invalid_credentials"
        async with extensions.database(self.app).session() as session:
            live = list(
                await session.scalars(
                    select(AuthSession.id).where(
                        AuthSession.user_id == self.member.id,
                        AuthSession.revoked_at.is_(None),
                    )
                )
            )
        # Only the session that changed the password is kept.
        assert len(live) == (1 if kind == "change-password" else 0)


async def wait_for_lock_wait(app: Quart, backend: str) -> None:
    """Until the change is blocked behind the login's lock (PostgreSQL), or a beat."""
    if backend != "postgresql":
        await asyncio.sleep(0.3)  # SQLite: the change waits for the write lock
        return
    engine = extensions.database(app).engine
    assert engine is not None
    for _ in range(300):
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the change never waited for the login's lock")


@pytest.mark.parametrize("kind", CHANGES)
@pytest.mark.parametrize("backend", BACKENDS)
async def test_change_committed_while_the_login_hashes(
    backend: str,
    kind: str,
    fresh_database_url: FreshDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = gate_in_hash(monkeypatch)
    async with racing_app(backend, fresh_database_url) as app:
        scene = await Scene(app).setup()
        gate.armed = True
        login = asyncio.create_task(scene.login())
        try:
            await asyncio.wait_for(gate.reached.wait(), 30)
            await scene.change(kind)  # commits while the login's hash runs
        finally:
            gate.release()
        response = await login
        assert response.status_code == 401  # the INSERT found no current user
        await scene.assert_login_left_nothing(response, kind)


@pytest.mark.parametrize("kind", CHANGES)
@pytest.mark.parametrize("backend", BACKENDS)
async def test_change_racing_a_login_whose_session_is_written(
    backend: str,
    kind: str,
    fresh_database_url: FreshDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = gate_after_insert(monkeypatch)
    async with racing_app(backend, fresh_database_url) as app:
        scene = await Scene(app).setup()
        gate.armed = True
        login = asyncio.create_task(scene.login())
        change: asyncio.Task[None] | None = None
        try:
            await asyncio.wait_for(gate.reached.wait(), 30)
            change = asyncio.create_task(scene.change(kind))
            await wait_for_lock_wait(app, backend)
        finally:
            gate.release()
        response = await login
        assert change is not None
        await change
        assert response.status_code == 200  # it committed first ...
        await scene.assert_login_left_nothing(response, kind)  # ... and was revoked


@pytest.mark.parametrize("kind", CHANGES)
@pytest.mark.parametrize("backend", BACKENDS)
async def test_many_unsteered_races_leave_no_working_session(
    backend: str, kind: str, fresh_database_url: FreshDatabase
) -> None:
    rng = random.Random(17)
    async with racing_app(backend, fresh_database_url) as app:
        for _ in range(8):
            scene = await Scene(app).setup()

            async def late(delay: float, work: Awaitable[Any]) -> Any:
                await asyncio.sleep(delay)
                return await work

            login, _ = await asyncio.gather(
                late(rng.uniform(0, 0.05), scene.login()),
                late(rng.uniform(0, 0.05), scene.change(kind)),
            )
            await scene.assert_login_left_nothing(login, kind)
