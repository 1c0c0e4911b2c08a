"""Users: registration, lookup, the per-role allow-list of writable fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.db.commit_hooks import mark_logins_changed
from backend.db.database import release_connection
from backend.errors import Conflict, NotFound, PermissionDenied
from backend.mail import queue_email, welcome_email
from backend.models import User
from backend.security.passwords import PasswordHasher
from backend.services import accounts, logins
from backend.services.pagination import PageResult, paginate
from backend.services.search import LIKE_ESCAPE, contains_pattern

# What each role may write through PATCH/PUT /users/{id}; nothing else is ever set.
USER_WRITABLE = frozenset({"email", "first_name", "last_name"})
ADMIN_WRITABLE = USER_WRITABLE | {"is_active", "is_admin"}


def _conflict_for(error: IntegrityError) -> Conflict:
    """The unique constraint, not a prior lookup, decides who was first."""
    message = str(error.orig).lower()
    if "email" in message:
        return Conflict("That email address is already registered.", code="email_taken")
    return Conflict("That username is taken.", code="username_taken")


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise _conflict_for(error) from error


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
    await release_connection(session)  # not held through the hash
    user = User(
        username=username,
        email=email.lower(),
        password_hash=await hasher.hash(password),
        first_name=first_name,
        last_name=last_name,
        is_admin=is_admin,
    )
    session.add(user)
    await _flush_unique(session)
    return user


async def register_user(
    session: AsyncSession, *, hasher: PasswordHasher, settings: Settings, **fields: Any
) -> User:
    """Create a user; the welcome and verification emails go if, and once, this
    commits."""
    user = await create_user(session, hasher=hasher, **fields)
    await queue_email(session, welcome_email(to=user.email, username=user.username))
    await accounts.send_verification(session, settings=settings, user=user)
    return user


async def find_user_by_login(session: AsyncSession, login: str) -> User | None:
    """The user whose username or email matches `login`, case-insensitively."""
    needle = login.lower()
    return await session.scalar(
        select(User).where(
            (func.lower(User.username) == needle) | (User.email == needle)
        )
    )


async def find_user_id_by_login(session: AsyncSession, login: str) -> int | None:
    """The id of the user `find_user_by_login` would find, without loading it."""
    needle = login.lower()
    return await session.scalar(
        select(User.id).where(
            (func.lower(User.username) == needle) | (User.email == needle)
        )
    )


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


async def get_visible_user(session: AsyncSession, *, actor: User, user_id: int) -> User:
    """The user `user_id` as `actor` may see it: only themselves unless admin."""
    if actor.id == user_id:
        return actor
    if not actor.is_admin:
        raise PermissionDenied("You may only access your own account.")
    return await get_user(session, user_id)


async def list_users(
    session: AsyncSession,
    *,
    q: str | None,
    is_active: bool | None,
    page: int,
    per_page: int,
) -> PageResult[User]:
    statement: Select[Any] = select(User).order_by(User.id)
    if q:
        pattern = contains_pattern(q.lower())
        statement = statement.where(
            or_(
                func.lower(User.username).like(pattern, escape=LIKE_ESCAPE),
                User.email.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    if is_active is not None:
        statement = statement.where(User.is_active.is_(is_active))
    return await paginate(session, statement, page=page, per_page=per_page)


async def update_user(
    session: AsyncSession,
    *,
    actor: User,
    user_id: int,
    changes: dict[str, Any],
    settings: Settings,
) -> User:
    """Apply `changes` if every field is in the actor's allow-list, else 403.

    A new email is unverified until the verification sent to it is redeemed.
    """
    user = await get_visible_user(session, actor=actor, user_id=user_id)
    allowed = ADMIN_WRITABLE if actor.is_admin else USER_WRITABLE
    refused = sorted(set(changes) - allowed)
    if refused:
        raise PermissionDenied(f"You may not change {', '.join(refused)}.")
    previous_email, previous_role = user.email, user.is_admin
    for field in sorted(allowed & set(changes)):
        setattr(user, field, changes[field])
    await _flush_unique(session)
    if user.is_admin != previous_role:
        # What this user may see changed: no worker may go on serving the
        # old role from its login cache.
        await mark_logins_changed(session, [user.id])
    if user.email != previous_email:
        user.email_verified = False
        await accounts.send_verification(session, settings=settings, user=user)
    if changes.get("is_active") is False:
        await _end_every_session(session, user)
    return user


async def deactivate_user(session: AsyncSession, *, actor: User, user_id: int) -> None:
    """Soft delete: the account stays, its tokens and logins stop working."""
    user = await get_visible_user(session, actor=actor, user_id=user_id)
    user.is_active = False
    await _end_every_session(session, user)


async def _end_every_session(session: AsyncSession, user: User) -> None:
    user.token_version += 1
    # A login whose password check overlapped this gets no session either.
    user.credentials_version += 1
    await session.flush()
    await logins.revoke_login_sessions(session, user_id=user.id)


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
