"""Users and their login sessions (refresh-token families)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false, func, true
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, TimestampMixin, utcnow


class User(TimestampMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Stored lower-case, so a plain unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str | None] = mapped_column(String(50))
    last_name: Mapped[str | None] = mapped_column(String(50))
    # True once the user redeemed a verification token sent to `email`.
    email_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Bumped to invalidate every token of the user at once.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Bumped whenever the password, or the right to log in, changes: a login
    # creates its session only if this is still the value its password was
    # checked against (see services.logins.start_login_session).
    credentials_version: Mapped[int] = mapped_column(default=0, server_default="0")
    mfa_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (
        Index("uq_user_account_username_lower", func.lower(username), unique=True),
    )


class AuthSession(Base):
    """One login: every refresh and access token descended from it shares its id."""

    __tablename__ = "auth_session"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RefreshToken(Base):
    """One issued refresh token; `used_at` is set exactly once, atomically."""

    __tablename__ = "refresh_token"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_session.id", ondelete="CASCADE"), index=True
    )
    parent_jti: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
