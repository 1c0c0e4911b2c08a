"""The claim's index also orders by id, so a claim reads its few rows in order.

With (state, run_at) alone, PostgreSQL sorted every due job on each claim to
apply `ORDER BY run_at, id` (3.4 ms at 10,000 queued jobs); with the id in
the index it reads the first rows of an index range and stops.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_job_state_run_at_id", "job", ["state", "run_at", "id"])
    op.drop_index("ix_job_state_run_at", table_name="job")


def downgrade() -> None:
    op.create_index("ix_job_state_run_at", "job", ["state", "run_at"])
    op.drop_index("ix_job_state_run_at_id", table_name="job")
