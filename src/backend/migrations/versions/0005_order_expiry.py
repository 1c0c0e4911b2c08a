"""Orders expire: status `expired`, `expires_at`, and the indexes of the cap and expiry.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime, utcnow

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Orders pending at the upgrade get the default ORDER_PENDING_TTL from then on,
# rather than all expiring at once on the first run of the expiry job.
DEFAULT_PENDING_TTL = timedelta(seconds=1800)
_WITH_EXPIRED = (
    "status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'expired')"
)
_WITHOUT_EXPIRED = "status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')"


def _order_table(check: str, *, expires: bool) -> sa.Table:
    """The table as it stands, so SQLite's batch copy need not reflect it."""
    columns: list[sa.Column[Any]] = (
        [sa.Column("expires_at", UTCDateTime(), nullable=True)] if expires else []
    )
    indexes = (
        [
            sa.Index("ix_customer_order_expires_at", "expires_at"),
            sa.Index("ix_customer_order_user_id_status", "user_id", "status"),
        ]
        if expires
        else []
    )
    return sa.Table(
        "customer_order",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        *columns,
        sa.CheckConstraint(check, name="ck_customer_order_status_known"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_customer_order_user_id_user_account",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_order"),
        sa.Index("ix_customer_order_user_id_id", "user_id", "id"),
        sa.Index("ix_customer_order_status_id", "status", "id"),
        *indexes,
    )


_ORDERS = sa.table(
    "customer_order",
    sa.column("status", sa.String),
    sa.column("expires_at", UTCDateTime()),
)


def upgrade() -> None:
    before = _order_table(_WITHOUT_EXPIRED, expires=False)
    with op.batch_alter_table("customer_order", copy_from=before) as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch.drop_constraint(op.f("ck_customer_order_status_known"), type_="check")
        batch.create_check_constraint(
            op.f("ck_customer_order_status_known"), _WITH_EXPIRED
        )
        batch.create_index("ix_customer_order_expires_at", ["expires_at"])
        batch.create_index("ix_customer_order_user_id_status", ["user_id", "status"])
    op.execute(
        _ORDERS.update()
        .where(_ORDERS.c.status == "pending")
        .values(expires_at=utcnow() + DEFAULT_PENDING_TTL)
    )


def downgrade() -> None:
    # The old schema has no `expired`; an expired order gave its stock back,
    # which is what a cancelled one did.
    op.execute(
        _ORDERS.update().where(_ORDERS.c.status == "expired").values(status="cancelled")
    )
    after = _order_table(_WITH_EXPIRED, expires=True)
    with op.batch_alter_table("customer_order", copy_from=after) as batch:
        batch.drop_index("ix_customer_order_user_id_status")
        batch.drop_index("ix_customer_order_expires_at")
        batch.drop_constraint(op.f("ck_customer_order_status_known"), type_="check")
        batch.create_check_constraint(
            op.f("ck_customer_order_status_known"), _WITHOUT_EXPIRED
        )
        batch.drop_column("expires_at")
