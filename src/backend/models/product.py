"""The catalog."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, String, Text, func, true
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, TimestampMixin


class Product(TimestampMixin, Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    price_cents: Mapped[int]
    stock: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("price_cents >= 0", name="price_non_negative"),
        Index("uq_product_sku_lower", func.lower(sku), unique=True),
        # The list's filters and sorts, each ending in id for the tie-break.
        Index("ix_product_active_price", "is_active", "price_cents", "id"),
        Index("ix_product_active_name", "is_active", "name", "id"),
        Index("ix_product_active_created", "is_active", "created_at", "id"),
    )


class ProductCount(Base):
    """How many products exist, and how many are active: one row, id 1.

    Kept by database triggers on `product` (migration 0009), in the writer's
    own transaction, so it is exactly what `count(*)` would say in any
    snapshot. The catalog list without filters reads its total here instead
    of counting every row on every page (docs/performance.md, "read-list").
    """

    __tablename__ = "product_count"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    active: Mapped[int]
    total: Mapped[int]

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


# The width of a price bucket, in cents (migration 0011's triggers divide by it).
PRICE_BUCKET_CENTS = 1_000


class ProductPriceBucket(Base):
    """How many products, and active ones, are priced within one bucket.

    Bucket `b` holds the prices `b * PRICE_BUCKET_CENTS` to `(b + 1) *
    PRICE_BUCKET_CENTS - 1`. Kept by triggers on `product` (migration 0011),
    in the writer's own transaction, like `ProductCount`: the catalog list
    filtered by a price range sums the buckets that lie wholly inside it and
    counts only the products of the two partial buckets at its ends.
    """

    __tablename__ = "product_price_bucket"

    bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    active: Mapped[int]
    total: Mapped[int]
