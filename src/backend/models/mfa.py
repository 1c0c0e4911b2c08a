"""Second factors: a user's TOTP secret and single-use recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigIntId, utcnow


class TotpCredential(Base):
    """The TOTP secret of one user, enrolled or still waiting for confirmation.

    `mfa_enabled` on the user says whether it was confirmed. `last_step` is the
    newest 30-second step whose code was accepted: a code is accepted only for
    a later step, by a conditional UPDATE, so it works once even under a race.
    """

    __tablename__ = "totp_credential"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    # Sealed under a key derived from SECRET_KEY (backend.security.sealing).
    secret_ciphertext: Mapped[str] = mapped_column(String(255))
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(Base):
    """One unused recovery code, stored as its SHA-256 (it has 80 random bits)."""

    __tablename__ = "mfa_recovery_code"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
