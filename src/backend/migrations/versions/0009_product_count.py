"""The product count: one row kept exact by triggers on product.

Revision ID: 0009
Revises: 0008

`product_count` holds how many products exist and how many are active. Row
triggers on `product` adjust it in the writing transaction, so every snapshot
sees a count equal to `count(*)`; a TRUNCATE resets it. Inserting or
(de)activating a product then waits for the single counter row (admin writes
only: orders change stock, which fires nothing). The unfiltered catalog list
reads its exact total here instead of counting every active row per page.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRES_FUNCTION = """
CREATE FUNCTION product_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE product_count
        SET total = total + 1, active = active + NEW.is_active::int WHERE id = 1;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE product_count
        SET total = total - 1, active = active - OLD.is_active::int WHERE id = 1;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE product_count
        SET active = active + NEW.is_active::int - OLD.is_active::int WHERE id = 1;
    ELSE  -- TRUNCATE
        UPDATE product_count SET total = 0, active = 0 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$
"""
_POSTGRES_TRIGGERS: tuple[str, ...] = (
    "CREATE TRIGGER product_count_rows AFTER INSERT OR DELETE "
    "OR UPDATE OF is_active ON product FOR EACH ROW "
    "EXECUTE FUNCTION product_count_change()",
    "CREATE TRIGGER product_count_truncate AFTER TRUNCATE ON product "
    "FOR EACH STATEMENT EXECUTE FUNCTION product_count_change()",
)
_SQLITE_TRIGGERS: tuple[str, ...] = (
    "CREATE TRIGGER product_count_insert AFTER INSERT ON product BEGIN "
    "UPDATE product_count SET total = total + 1, active = active + NEW.is_active "
    "WHERE id = 1; END",
    "CREATE TRIGGER product_count_delete AFTER DELETE ON product BEGIN "
    "UPDATE product_count SET total = total - 1, active = active - OLD.is_active "
    "WHERE id = 1; END",
    "CREATE TRIGGER product_count_activity AFTER UPDATE OF is_active ON product "
    "BEGIN UPDATE product_count "
    "SET active = active + NEW.is_active - OLD.is_active WHERE id = 1; END",
)


def upgrade() -> None:
    op.create_table(
        "product_count",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_product_count_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_count")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Nothing may change products between the first count and the triggers.
        op.execute("LOCK TABLE product IN SHARE ROW EXCLUSIVE MODE")
        op.execute(_POSTGRES_FUNCTION)
        triggers = _POSTGRES_TRIGGERS
    else:
        triggers = _SQLITE_TRIGGERS
    op.execute(
        "INSERT INTO product_count (id, active, total) SELECT 1, "
        "COALESCE(SUM(CASE WHEN is_active THEN 1 ELSE 0 END), 0), COUNT(*) "
        "FROM product"
    )
    for trigger in triggers:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER product_count_truncate ON product")
        op.execute("DROP TRIGGER product_count_rows ON product")
        op.execute("DROP FUNCTION product_count_change()")
    else:
        for name in ("insert", "delete", "activity"):
            op.execute(f"DROP TRIGGER product_count_{name}")
    op.drop_table("product_count")
