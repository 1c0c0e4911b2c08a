"""Durable jobs, and the retention watermark behind expired event cursors.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import BigIntId, JsonDocument, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", BigIntId, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", JsonDocument, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", UTCDateTime(), nullable=False),
        sa.Column("locked_by", sa.String(100), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_job_dedupe_key")),
    )
    op.create_index("ix_job_state_run_at", "job", ["state", "run_at"])
    op.create_index("ix_job_kind_state", "job", ["kind", "state"])
    op.create_table(
        "retention_mark",
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("deleted_through", BigIntId, nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_retention_mark")),
    )


def downgrade() -> None:
    op.drop_table("retention_mark")
    op.drop_table("job")
