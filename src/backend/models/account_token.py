"""Single-use account tokens: password reset and email verification."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow

ACCOUNT_TOKEN_PURPOSES = ("password_reset", "email_verification")


class AccountToken(Base):
    """One emailed token. Only its SHA-256 is kept: the database cannot leak it.

    `used_at` is set once, atomically, when the token is redeemed or when a
    newer token of the same purpose supersedes it. `email` is the address it
    was sent to, and `token_version` the user's at issue: a token is void once
    either no longer matches the user (an email change; a deactivation or a
    reset, which bump the version).
    """

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    token_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_account_token_user_id_purpose", "user_id", "purpose"),)
