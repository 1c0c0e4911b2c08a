"""Authentication: who presents these credentials, and changing them.

Login sessions and refresh tokens live in `services.logins`.

A password is checked without holding a connection (the hash is slow), so the
account may change meanwhile: every write that follows a check is conditional
on the user's `credentials_version` being the one the check read (see
`logins.start_login_session` for the login itself).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.database import release_connection
from backend.errors import NotAuthenticated, PermissionDenied
from backend.models import User
from backend.security.passwords import PasswordHasher
from backend.services import logins, users

INVALID_CREDENTIALS = logins.INVALID_CREDENTIALS


async def authenticate(
    session: AsyncSession, *, hasher: PasswordHasher, login: str, password: str
) -> User:
    """The active user with these credentials; one answer for every failure."""
    user = await users.find_user_by_login(session, login)
    await release_connection(session)  # not held through the hash
    # Unknown users are checked against a dummy hash: timing reveals nothing.
    valid = await hasher.verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        raise NotAuthenticated("Wrong username or password.", code=INVALID_CREDENTIALS)
    if hasher.needs_rehash(user.password_hash):
        # Conditional: a password changed during the hash must not be
        # overwritten by the rehash of the old one.
        await session.execute(
            update(User)
            .where(
                User.id == user.id,
                User.credentials_version == user.credentials_version,
            )
            .values(password_hash=await hasher.hash(password))
        )
    return user


async def change_password(
    session: AsyncSession,
    *,
    hasher: PasswordHasher,
    user: User,
    current_session_id: str,
    current_password: str,
    new_password: str,
) -> None:
    """Set a new password and revoke every other session of the user.

    The credentials version is bumped in the same conditional UPDATE: a login
    that checked the old password creates no session (see
    `logins.start_login_session`), and a concurrent change that checked the
    same old password loses.
    """
    await release_connection(session)  # not held through the hashes
    wrong = PermissionDenied("The current password is wrong.", code=INVALID_CREDENTIALS)
    if not await hasher.verify(user.password_hash, current_password):
        raise wrong
    changed = await session.execute(
        update(User)
        .where(User.id == user.id, User.credentials_version == user.credentials_version)
        .values(
            password_hash=await hasher.hash(new_password),
            credentials_version=User.credentials_version + 1,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise wrong
    await logins.revoke_login_sessions(
        session, user_id=user.id, keep=current_session_id
    )
