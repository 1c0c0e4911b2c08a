"""Webhook endpoints (where order events are POSTed) and their delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigIntId, JsonDocument, TimestampMixin, utcnow

DELIVERY_STATUSES = ("succeeded", "failed")


class WebhookEndpoint(TimestampMixin, Base):
    """A receiver of order events.

    The signing secrets are stored sealed (`backend.security.sealing`,
    under a key derived from `SECRET_KEY`): they must be usable for HMAC, so
    they cannot be hashed. `event_cursor` is the last event id the dispatcher
    has turned into delivery jobs for this endpoint; it starts at the latest
    event when the endpoint is created (or re-enabled), so earlier events are
    not sent.
    """

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JsonDocument)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    event_cursor: Mapped[int] = mapped_column(BigIntId, default=0)
    # Start of the current run of failed attempts (None after a success).
    failing_since: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One attempt to deliver one event to one endpoint."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    # No foreign key: events are pruned after EVENT_RETENTION, the log is not.
    event_id: Mapped[int] = mapped_column(BigIntId)
    attempt: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_webhook_delivery_endpoint_id_id", "endpoint_id", "id"),)
