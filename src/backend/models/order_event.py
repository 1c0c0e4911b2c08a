"""The durable order-event log: the source of truth for every subscriber."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigIntId, JsonDocument, utcnow


class OrderEvent(Base):
    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(16))
    previous_status: Mapped[str | None] = mapped_column(String(16))
    order_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_order_event_user_id_id", "user_id", "id"),)
