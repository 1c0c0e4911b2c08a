"""Orders, their lines, and the idempotency keys that guard their creation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, JsonDocument, TimestampMixin, utcnow

# The one list of order statuses: the schemas' Literal and the CHECK come from it.
OrderStatusName = Literal[
    "pending", "paid", "shipped", "delivered", "cancelled", "expired"
]
ORDER_STATUSES: tuple[OrderStatusName, ...] = get_args(OrderStatusName)


class Order(TimestampMixin, Base):
    __tablename__ = "customer_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    total_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # When a pending order expires; null in every other status, so the expiry
    # job's index holds only pending orders' times.
    expires_at: Mapped[datetime | None] = mapped_column(index=True)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderItem.id"
    )

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{name}'" for name in ORDER_STATUSES) + ")",
            name="status_known",
        ),
        Index("ix_customer_order_user_id_id", "user_id", "id"),
        # Counting a user's pending orders (the ORDER_MAX_PENDING cap).
        Index("ix_customer_order_user_id_status", "user_id", "status"),
        Index("ix_customer_order_status_id", "status", "id"),
    )


class OrderItem(Base):
    __tablename__ = "order_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    # Captured at order time: later catalog edits do not rewrite history.
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    line_total_cents: Mapped[int] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="items", lazy="raise")

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class IdempotencyKey(Base):
    """A remembered successful `POST /orders`, written in the order's transaction."""

    __tablename__ = "idempotency_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE")
    )
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (UniqueConstraint("user_id", "key"),)
