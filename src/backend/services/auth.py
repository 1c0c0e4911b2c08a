"""Authentication: who a token belongs to, checked against live state."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import NotAuthenticated
from backend.models import AuthSession, User
from backend.models.base import utcnow
from backend.security.tokens import AccessClaims


async def load_token_user(session: AsyncSession, claims: AccessClaims) -> User:
    """The active user behind verified claims whose session is live, in one query."""
    live_session = exists().where(
        AuthSession.id == claims.session_id,
        AuthSession.user_id == User.id,
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > utcnow(),
    )
    user = await session.scalar(
        select(User).where(
            User.id == claims.user_id,
            User.is_active.is_(True),
            User.token_version == claims.token_version,
            live_session,
        )
    )
    if user is None:
        raise NotAuthenticated("The token has been revoked.")
    return user
