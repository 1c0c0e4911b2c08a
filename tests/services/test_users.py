"""Users and auth services, without HTTP."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher as Argon2Hasher
from quart import Quart
from sqlalchemy import select

from backend import extensions
from backend.errors import Conflict, NotAuthenticated, PermissionDenied
from backend.models import AuthSession, Job, User
from backend.services import auth, logins, users
from tests.support.factories import DEFAULT_PASSWORD, make_user


async def test_create_user_turns_the_unique_constraint_into_409(app: Quart) -> None:
    hasher = extensions.hasher(app)
    async with extensions.database(app).session() as session:
        first = await make_user(session, app)
    for username, email, code in (
        (first.username.upper(), "fresh@example.com", "username_taken"),
        ("fresh_name", first.email.upper(), "email_taken"),
    ):
        with pytest.raises(Conflict) as raised:
            async with extensions.database(app).session() as session:
                await users.create_user(
                    session,
                    hasher=hasher,
                    username=username,
                    email=email,
                    password=DEFAULT_PASSWORD,
                )
        assert raised.value.code == code


async def test_register_user_queues_the_welcome_email_in_its_transaction(
    app: Quart,
) -> None:
    async with extensions.database(app).session() as session:
        user = await users.register_user(
            session,
            hasher=extensions.hasher(app),
            username="welcomed",
            email="Welcomed@Example.com",
            password=DEFAULT_PASSWORD,
        )
        queued = (await session.scalars(select(Job))).all()
    assert user.email == "welcomed@example.com"
    assert [(job.kind, job.payload["to"]) for job in queued] == [
        ("send_email", "welcomed@example.com")
    ]


async def test_update_user_applies_only_the_role_allow_list(app: Quart) -> None:
    async with extensions.database(app).session() as session:
        alice = await make_user(session, app)
        admin = await make_user(session, app, is_admin=True)
        with pytest.raises(PermissionDenied):
            await users.update_user(
                session, actor=alice, user_id=alice.id, changes={"is_admin": True}
            )
        await users.update_user(
            session, actor=admin, user_id=alice.id, changes={"is_admin": True}
        )
        assert alice.is_admin


async def test_deactivation_bumps_the_token_version_and_revokes_sessions(
    app: Quart,
) -> None:
    tokens = app.extensions["tokens"]
    async with extensions.database(app).session() as session:
        alice = await make_user(session, app)
        await logins.start_login_session(session, tokens=tokens, user=alice)
        await users.deactivate_user(session, actor=alice, user_id=alice.id)
        live = await session.scalars(
            select(AuthSession).where(
                AuthSession.user_id == alice.id, AuthSession.revoked_at.is_(None)
            )
        )
        assert (alice.is_active, alice.token_version, live.all()) == (False, 1, [])


async def test_authenticate_rehashes_when_parameters_change(app: Quart) -> None:
    old = Argon2Hasher(time_cost=3, memory_cost=19 * 1024, parallelism=1)
    async with extensions.database(app).session() as session:
        alice = await make_user(session, app)
        alice.password_hash = old.hash(DEFAULT_PASSWORD)
        await session.flush()
        user = await auth.authenticate(
            session,
            hasher=extensions.hasher(app),
            login=alice.email.upper(),
            password=DEFAULT_PASSWORD,
        )
        assert "t=2" in user.password_hash
        assert not extensions.hasher(app).needs_rehash(user.password_hash)


async def test_a_refresh_token_is_claimed_once(app: Quart) -> None:
    tokens = app.extensions["tokens"]
    async with extensions.database(app).session() as session:
        alice = await make_user(session, app)
        issued = await logins.start_login_session(session, tokens=tokens, user=alice)
    async with extensions.database(app).session() as session:
        await logins.rotate_refresh_token(
            session, tokens=tokens, token=issued.refresh_token
        )
    with pytest.raises(NotAuthenticated):
        async with extensions.database(app).session() as session:
            await logins.rotate_refresh_token(
                session, tokens=tokens, token=issued.refresh_token
            )
    async with extensions.database(app).session() as session:
        revoked = await session.scalar(
            select(AuthSession.revoked_at).where(AuthSession.user_id == alice.id)
        )
    assert revoked is not None


async def test_users_are_found_by_username_or_email_in_any_case(app: Quart) -> None:
    async with extensions.database(app).session() as session:
        alice = await make_user(session, app, username="Alice.B")
        for login in ("alice.b", "ALICE.B", alice.email.upper()):
            found = await users.find_user_by_login(session, login)
            assert isinstance(found, User)
            assert found.id == alice.id
        assert await users.find_user_by_login(session, "nobody") is None
