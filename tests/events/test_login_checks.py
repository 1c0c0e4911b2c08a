"""Websocket re-checks: many sockets' logins, one query per window."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import update

from backend import extensions
from backend.app import create_app
from backend.events.login_checks import LoginChecker
from backend.models import AuthSession
from backend.security.tokens import TokenService
from backend.services.logins import LiveLogin
from tests.conftest import make_settings
from tests.support.databases import statements_run
from tests.support.factories import issue_access_token, make_user

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


async def test_many_checks_share_one_query_and_revocation_shows(
    fresh_database_url: FreshDatabase,
) -> None:
    # No job runner: its retention clean-up reads auth_session too.
    settings = make_settings(await fresh_database_url("sqlite"), job_concurrency=0)
    app = create_app(settings)
    async with app.test_app():
        database = extensions.database(app)
        tokens: TokenService = app.extensions["tokens"]
        logins = []
        async with database.session() as session:
            for _ in range(30):
                user = await make_user(session, app)
                claims = tokens.decode_access(
                    await issue_access_token(session, app, user)
                )
                logins.append(LiveLogin(claims.session_id, user.id, 0, False))
        async with database.session() as session:
            await session.execute(
                update(AuthSession)
                .where(AuthSession.id == logins[0].session_id)
                .values(revoked_at=AuthSession.created_at)
            )
        statements = statements_run(*database.engines)
        checker = LoginChecker(database, window=0.05)
        answers = await asyncio.gather(*(checker.is_live(login) for login in logins))
    assert answers == [False] + [True] * 29
    assert len([s for s in statements if "auth_session" in s]) == 1
