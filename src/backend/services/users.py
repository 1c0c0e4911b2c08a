"""Users: creation and lookup."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import Conflict, NotFound
from backend.models import User
from backend.security.passwords import PasswordHasher


def _conflict_for(error: IntegrityError) -> Conflict:
    """The unique constraint, not a prior lookup, decides who was first."""
    message = str(error.orig).lower()
    if "email" in message:
        return Conflict("That email address is already registered.", code="email_taken")
    return Conflict("That username is taken.", code="username_taken")


async def create_user(
    session: AsyncSession,
    *,
    hasher: PasswordHasher,
    username: str,
    email: str,
    password: str,
    first_name: str | None = None,
    last_name: str | None = None,
    is_admin: bool = False,
) -> User:
    """Insert a user; a taken username or email is a 409, even under a race."""
    user = User(
        username=username,
        email=email.lower(),
        password_hash=await hasher.hash(password),
        first_name=first_name,
        last_name=last_name,
        is_admin=is_admin,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as error:
        raise _conflict_for(error) from error
    return user


async def find_user_by_login(session: AsyncSession, login: str) -> User | None:
    """The user whose username or email matches `login`, case-insensitively."""
    needle = login.lower()
    return await session.scalar(
        select(User).where(
            (func.lower(User.username) == needle) | (User.email == needle)
        )
    )


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


async def create_admin(
    session: AsyncSession,
    *,
    hasher: PasswordHasher,
    username: str,
    email: str,
    password: str,
) -> User:
    """An administrator account (the CLI's `create-admin`)."""
    return await create_user(
        session,
        hasher=hasher,
        username=username,
        email=email,
        password=password,
        is_admin=True,
    )
