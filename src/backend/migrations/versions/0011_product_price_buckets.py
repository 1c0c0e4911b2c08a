"""Product counts per price bucket, kept exact by triggers on product.

Revision ID: 0011
Revises: 0010

`product_price_bucket` holds, for each bucket of 1,000 cents that has ever
held a product (bucket b: prices b * 1000 to b * 1000 + 999), how many
products are priced in it and how many of those are active. Row triggers on
`product` adjust it in the writing transaction, as `product_count`'s do
(0009), so every snapshot sees the buckets agree with `count(*)`. A catalog
page filtered by a price range sums the buckets wholly inside the range and
counts only the products of the partial buckets at its two ends, instead of
every product in the range. Orders change stock, which fires nothing; moving
a product's price or activity waits only for its buckets' rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: models.product.PRICE_BUCKET_CENTS must stay equal to it.
_WIDTH = 1000

_POSTGRES_FUNCTION = f"""
CREATE FUNCTION product_price_bucket_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM product_price_bucket;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE product_price_bucket
        SET total = total - 1, active = active - OLD.is_active::int
        WHERE bucket = OLD.price_cents / {_WIDTH};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO product_price_bucket AS counted (bucket, active, total)
        VALUES (NEW.price_cents / {_WIDTH}, NEW.is_active::int, 1)
        ON CONFLICT (bucket) DO UPDATE
        SET total = counted.total + 1, active = counted.active + EXCLUDED.active;
    END IF;
    RETURN NULL;
END
$$
"""
_POSTGRES_TRIGGERS: tuple[str, ...] = (
    "CREATE TRIGGER product_price_bucket_rows AFTER INSERT OR DELETE ON product "
    "FOR EACH ROW EXECUTE FUNCTION product_price_bucket_change()",
    # Only when the price or the activity really changed: an admin's edit of
    # a name sets no bucket row.
    "CREATE TRIGGER product_price_bucket_moves "
    "AFTER UPDATE OF price_cents, is_active ON product FOR EACH ROW "
    "WHEN (OLD.price_cents IS DISTINCT FROM NEW.price_cents "
    "OR OLD.is_active IS DISTINCT FROM NEW.is_active) "
    "EXECUTE FUNCTION product_price_bucket_change()",
    "CREATE TRIGGER product_price_bucket_truncate AFTER TRUNCATE ON product "
    "FOR EACH STATEMENT EXECUTE FUNCTION product_price_bucket_change()",
)
_SQLITE_ADD_NEW = (
    "INSERT INTO product_price_bucket (bucket, active, total) "
    f"VALUES (NEW.price_cents / {_WIDTH}, NEW.is_active, 1) "
    "ON CONFLICT (bucket) DO UPDATE "
    "SET total = total + 1, active = active + excluded.active;"
)
_SQLITE_REMOVE_OLD = (
    "UPDATE product_price_bucket "
    "SET total = total - 1, active = active - OLD.is_active "
    f"WHERE bucket = OLD.price_cents / {_WIDTH};"
)
_SQLITE_TRIGGERS: tuple[str, ...] = (
    "CREATE TRIGGER product_price_bucket_insert AFTER INSERT ON product "
    f"BEGIN {_SQLITE_ADD_NEW} END",
    "CREATE TRIGGER product_price_bucket_delete AFTER DELETE ON product "
    f"BEGIN {_SQLITE_REMOVE_OLD} END",
    "CREATE TRIGGER product_price_bucket_moves "
    "AFTER UPDATE OF price_cents, is_active ON product "
    "WHEN OLD.price_cents IS NOT NEW.price_cents "
    "OR OLD.is_active IS NOT NEW.is_active "
    f"BEGIN {_SQLITE_REMOVE_OLD} {_SQLITE_ADD_NEW} END",
)


def upgrade() -> None:
    op.create_table(
        "product_price_bucket",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_product_price_bucket")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Nothing may change products between the first count and the triggers.
        op.execute("LOCK TABLE product IN SHARE ROW EXCLUSIVE MODE")
        op.execute(_POSTGRES_FUNCTION)
        triggers = _POSTGRES_TRIGGERS
    else:
        triggers = _SQLITE_TRIGGERS
    op.execute(
        "INSERT INTO product_price_bucket (bucket, active, total) "
        f"SELECT price_cents / {_WIDTH}, "
        "SUM(CASE WHEN is_active THEN 1 ELSE 0 END), COUNT(*) "
        f"FROM product GROUP BY price_cents / {_WIDTH}"
    )
    for trigger in triggers:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("truncate", "moves", "rows"):
            op.execute(f"DROP TRIGGER product_price_bucket_{name} ON product")
        op.execute("DROP FUNCTION product_price_bucket_change()")
    else:
        for name in ("insert", "delete", "moves"):
            op.execute(f"DROP TRIGGER product_price_bucket_{name}")
    op.drop_table("product_price_bucket")
