"""Durable background jobs, and the retention watermark of pruned tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigIntId, JsonDocument, TimestampMixin

JOB_STATES = ("queued", "running", "succeeded", "dead")


class Job(TimestampMixin, Base):
    """One unit of work, written in the transaction of the change that causes it.

    `locked_by` and `locked_until` are the lease of the process running it; a
    `running` job whose lease has passed is claimed again (its process died).
    """

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    run_at: Mapped[datetime]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    # Enqueueing a key that exists is a no-op: periodic jobs use one per period.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Jobs sharing a key run at most their kind's `concurrency_limit` at once
    # per process (webhooks: one key per endpoint); None is unlimited.
    concurrency_key: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        # The claim's scan, in its order: due queued jobs, and running ones
        # whose lease ran out, oldest first.
        Index("ix_job_state_run_at_id", "state", "run_at", "id"),
        Index("ix_job_kind_state", "kind", "state"),
    )


class RetentionMark(Base):
    """The highest id a retention clean-up has deleted from a table.

    A cursor at or below it may have missed rows that no longer exist, which
    is how an expired event cursor (410 `cursor_expired`) is told apart.
    """

    __tablename__ = "retention_mark"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    deleted_through: Mapped[int] = mapped_column(BigIntId)
