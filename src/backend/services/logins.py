"""Login sessions and refresh-token rotation (a login session is an `AuthSession`
row, never a database session).

A login opens an `AuthSession`; every token descended from it carries its id.
Each refresh token is a `RefreshToken` row claimed exactly once by a
conditional UPDATE; presenting a claimed one again revokes the whole session.

A login checks the password without holding a connection (the hash is slow),
so the account may change meanwhile. The session is therefore created by an
INSERT ... SELECT that finds the user only if it is still active and its
`credentials_version` and `token_version` are those the password was checked
against; on PostgreSQL the SELECT takes a share lock on the user row, so a
password change or deactivation either commits first (and the INSERT finds
nothing) or waits for the login to commit (and then revokes its session). On
SQLite every writer holds the database's write lock (BEGIN IMMEDIATE), which
serialises the two the same way.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, cast

from sqlalchemy import String, Table, bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.commit_hooks import mark_logins_changed
from backend.db.database import Database
from backend.errors import NotAuthenticated
from backend.models import AuthSession, RefreshToken, User
from backend.models.base import UTCDateTime, utcnow
from backend.security.tokens import AccessClaims, TokenService

# The one answer to a refused login, whichever check refused it.
INVALID_CREDENTIALS = "invalid_credentials"
_IN_CHUNK = 500  # ids per IN (...) list: well under every driver's parameter limit


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


_SESSIONS = cast(Table, AuthSession.__table__)
_REFRESH_TOKENS = cast(Table, RefreshToken.__table__)
# Built once: every login or authenticated request runs them with new values only.
_INSERT_SESSION_IF_CURRENT = insert(_SESSIONS).from_select(
    ["id", "user_id", "created_at", "expires_at"],
    select(
        bindparam("id", type_=String()),
        User.id,
        bindparam("created_at", type_=UTCDateTime()),
        bindparam("expires_at", type_=UTCDateTime()),
    )
    .where(
        User.id == bindparam("user_id"),
        User.is_active.is_(True),
        User.credentials_version == bindparam("credentials_version"),
        User.token_version == bindparam("token_version"),
    )
    # FOR SHARE on PostgreSQL (SQLite has no row locks and renders nothing):
    # conflicts with the UPDATE of a password change or a deactivation.
    .with_for_update(read=True),
)
_INSERT_REFRESH_TOKEN = insert(_REFRESH_TOKENS)
_TOKEN_USER = select(User).where(
    User.id == bindparam("user_id"),
    User.is_active.is_(True),
    User.token_version == bindparam("token_version"),
    exists().where(
        AuthSession.id == bindparam("session_id"),
        AuthSession.user_id == User.id,
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
    ),
)


async def load_token_user(session: AsyncSession, claims: AccessClaims) -> User:
    """The active user behind verified claims whose session is live, in one query."""
    user = await session.scalar(
        _TOKEN_USER,
        {
            "user_id": claims.user_id,
            "token_version": claims.token_version,
            "session_id": claims.session_id,
            "now": utcnow(),
        },
    )
    if user is None:
        raise NotAuthenticated("The token has been revoked.")
    return user


# The same check as `_TOKEN_USER`, answering only what a viewer is: who, which
# role, and until when its login session lasts (for the login cache).
_TOKEN_LOGIN = (
    select(User.is_admin, AuthSession.expires_at)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.is_active.is_(True),
        User.token_version == bindparam("token_version"),
        AuthSession.id == bindparam("session_id"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
    )
)


class TokenLogin(NamedTuple):
    """A live login as verified claims present it, and when its session ends."""

    login: LiveLogin
    session_expires_at: datetime


async def check_token_login(database: Database, claims: AccessClaims) -> TokenLogin:
    """The live login behind verified claims, without loading the user; or 401.

    One prebuilt read (`Database.read`), no session: the views that need
    only this read without sessions too.
    """
    rows = await database.read(
        _TOKEN_LOGIN,
        {
            "user_id": claims.user_id,
            "token_version": claims.token_version,
            "session_id": claims.session_id,
            "now": utcnow(),
        },
    )
    if not rows:
        raise NotAuthenticated("The token has been revoked.")
    (row,) = rows
    login = LiveLogin(
        claims.session_id, claims.user_id, claims.token_version, row["is_admin"]
    )
    return TokenLogin(login, row["expires_at"])


class LiveLogin(NamedTuple):
    """What a socket was admitted with, to be checked against current state.

    `is_admin` is the role its visibility was decided by: a socket whose
    user's role changed is no longer live, so a demoted admin stops receiving
    other users' events at the next re-check.
    """

    session_id: str
    user_id: int
    token_version: int
    is_admin: bool


async def live_logins(
    session: AsyncSession, logins: Iterable[LiveLogin]
) -> set[LiveLogin]:
    """Those of `logins` whose session is live and whose user is active, current."""
    wanted = set(logins)
    session_ids = sorted({login.session_id for login in wanted})
    live: set[LiveLogin] = set()
    for start in range(0, len(session_ids), _IN_CHUNK):
        rows = await session.execute(
            select(AuthSession.id, User.id, User.token_version, User.is_admin)
            .join(User, AuthSession.user_id == User.id)
            .where(
                AuthSession.id.in_(session_ids[start : start + _IN_CHUNK]),
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > utcnow(),
                User.is_active.is_(True),
            )
        )
        live.update(LiveLogin(*row) for row in rows)
    return wanted & live


async def _issue(
    session: AsyncSession,
    *,
    tokens: TokenService,
    user: User,
    session_id: str,
    parent_jti: str | None = None,
) -> IssuedTokens:
    jti = str(uuid.uuid4())
    now = utcnow()
    await session.execute(
        _INSERT_REFRESH_TOKEN,
        {
            "jti": jti,
            "session_id": session_id,
            "parent_jti": parent_jti,
            "created_at": now,
            "expires_at": now + timedelta(seconds=tokens.refresh_ttl),
        },
    )
    return IssuedTokens(
        access_token=tokens.issue_access(
            user_id=user.id, session_id=session_id, token_version=user.token_version
        ),
        refresh_token=tokens.issue_refresh(
            user_id=user.id,
            session_id=session_id,
            jti=jti,
            token_version=user.token_version,
        ),
        expires_in=tokens.access_ttl,
    )


async def start_login_session(
    session: AsyncSession, *, tokens: TokenService, user: User
) -> IssuedTokens:
    """Open a login session for `user` and issue its first token pair.

    `user` is as it was when its password was checked: if it has been
    deactivated or its credentials changed since, no session is created.
    """
    session_id = str(uuid.uuid4())
    now = utcnow()
    created = await session.execute(
        _INSERT_SESSION_IF_CURRENT,
        {
            "id": session_id,
            "user_id": user.id,
            "credentials_version": user.credentials_version,
            "token_version": user.token_version,
            "created_at": now,
            "expires_at": now + timedelta(seconds=tokens.refresh_ttl),
        },
    )
    if created.rowcount != 1:  # type: ignore[attr-defined]
        raise NotAuthenticated("Wrong username or password.", code=INVALID_CREDENTIALS)
    return await _issue(session, tokens=tokens, user=user, session_id=session_id)


async def rotate_refresh_token(
    session: AsyncSession, *, tokens: TokenService, token: str
) -> tuple[User, IssuedTokens]:
    """Use up `token` and issue the next pair of its session."""
    claims = tokens.decode_refresh(token)
    now = utcnow()
    claimed = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.jti == claims.jti,
            RefreshToken.session_id == claims.session_id,
            RefreshToken.used_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await _revoke_on_reuse(session, claims.jti, claims.session_id)
        raise NotAuthenticated("The refresh token is invalid or used up.")
    found = await session.execute(
        select(User, AuthSession)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id == claims.session_id,
            User.id == claims.user_id,
            User.is_active.is_(True),
            User.token_version == claims.token_version,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
    )
    row = found.one_or_none()
    if row is None:
        raise NotAuthenticated("The session has ended.")
    user, login = row
    login.expires_at = now + timedelta(seconds=tokens.refresh_ttl)
    issued = await _issue(
        session, tokens=tokens, user=user, session_id=login.id, parent_jti=claims.jti
    )
    return user, issued


async def _revoke_on_reuse(session: AsyncSession, jti: str, session_id: str) -> None:
    used = await session.scalar(
        select(RefreshToken.jti).where(
            RefreshToken.jti == jti,
            RefreshToken.session_id == session_id,
            RefreshToken.used_at.is_not(None),
        )
    )
    if used is None:
        return
    await revoke_login_sessions(session, login_session_ids=[session_id])
    # The request ends in 401 and its transaction is rolled back; the
    # revocation of a stolen token's session must survive that, so it is
    # committed here, the one place a service commits.
    await session.commit()


async def revoke_login_sessions(
    session: AsyncSession,
    *,
    login_session_ids: list[str] | None = None,
    user_id: int | None = None,
    keep: str | None = None,
) -> None:
    """Revoke the given sessions, or every session of `user_id` except `keep`.

    The users whose sessions end are marked, so that every worker's and host's
    login cache forgets them (see `web.login_cache`).
    """
    statement = update(AuthSession).where(AuthSession.revoked_at.is_(None))
    if login_session_ids is not None:
        statement = statement.where(AuthSession.id.in_(login_session_ids))
    if user_id is not None:
        statement = statement.where(AuthSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    revoked = await session.execute(
        statement.values(revoked_at=utcnow()).returning(AuthSession.user_id)
    )
    user_ids = set(revoked.scalars())
    if user_id is not None:
        user_ids.add(user_id)
    await mark_logins_changed(session, user_ids)


async def logout(
    session: AsyncSession,
    *,
    tokens: TokenService,
    claims: AccessClaims,
    refresh_token: str | None,
) -> None:
    """End the current session (and the refresh token's, if it is the user's).

    Fails closed: a refresh token that is unknown, stale or not a token at all
    is ignored, and the access token's own session ends all the same.
    """
    ended = [claims.session_id]
    if refresh_token is not None:
        # Nothing more to end then; the caller's own session ends all the same.
        with contextlib.suppress(NotAuthenticated):
            ended.append(tokens.decode_refresh(refresh_token).session_id)
    await revoke_login_sessions(
        session, login_session_ids=ended, user_id=claims.user_id
    )
