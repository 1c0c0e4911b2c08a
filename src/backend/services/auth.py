"""Authentication: who presents these credentials, and changing them.

Login sessions and refresh tokens live in `services.logins`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.database import release_connection
from backend.errors import NotAuthenticated, PermissionDenied
from backend.models import User
from backend.security.passwords import PasswordHasher
from backend.services import logins, users

INVALID_CREDENTIALS = "invalid_credentials"


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
        user.password_hash = await hasher.hash(password)
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
    """Set a new password and revoke every other session of the user."""
    await release_connection(session)  # not held through the hashes
    if not await hasher.verify(user.password_hash, current_password):
        raise PermissionDenied(
            "The current password is wrong.", code=INVALID_CREDENTIALS
        )
    user.password_hash = await hasher.hash(new_password)
    await session.flush()
    await logins.revoke_login_sessions(
        session, user_id=user.id, keep=current_session_id
    )
