"""Password reset and email verification: `email_verified` and `account_token`.

Existing users start unverified: nobody has proven they own their address,
and with `REQUIRE_VERIFIED_EMAIL` off (the default) nothing changes for them;
an operator who turns it on asks them to verify (`/auth/verify-email/resend`).

Revision ID: 0006
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN with a constant default needs no table rebuild, on SQLite either.
    op.add_column(
        "user_account",
        sa.Column(
            "email_verified", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
    )
    op.create_table(
        "account_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_account_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_token_token_hash")),
    )
    op.create_index(
        "ix_account_token_user_id_purpose", "account_token", ["user_id", "purpose"]
    )
    op.create_index(
        op.f("ix_account_token_expires_at"), "account_token", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_table("account_token")
    # SQLite (3.35+) drops a column with no index or constraint in place.
    op.drop_column("user_account", "email_verified")
