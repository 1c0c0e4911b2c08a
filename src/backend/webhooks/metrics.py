"""Webhook metrics: deliveries by result, age of the oldest undelivered event.

The instruments live in `backend.metrics`; the age is read from the database,
so `lifecycle.py` refreshes it just before each scrape.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import metrics
from backend.db.database import Database
from backend.models import Job, OrderEvent, WebhookEndpoint
from backend.models.base import utcnow

DELIVERY_KIND = "webhook_delivery"


def count_delivery(succeeded: bool) -> None:
    metrics.webhook_delivered("succeeded" if succeeded else "failed")


async def refresh_oldest_undelivered_age(database: Database) -> None:
    async with database.session(readonly=True) as session:
        metrics.set_oldest_undelivered_age(await oldest_undelivered_age(session))


async def oldest_undelivered_age(session: AsyncSession) -> float:
    """Seconds since the oldest event still owed to an enabled endpoint (0: none).

    Owed: a delivery job not finished yet, or an event the dispatcher has not
    reached for some endpoint (committed after that endpoint's cursor).
    """
    oldest: list[datetime] = []
    pending_job = await session.scalar(
        select(func.min(Job.created_at)).where(
            Job.kind == DELIVERY_KIND, Job.state.in_(("queued", "running"))
        )
    )
    if pending_job is not None:
        oldest.append(pending_job)
    cursor = await session.scalar(
        select(func.min(WebhookEndpoint.event_cursor)).where(WebhookEndpoint.enabled)
    )
    if cursor is not None:
        undispatched = await session.scalar(
            select(OrderEvent.occurred_at)
            .where(OrderEvent.id > cursor)
            .order_by(OrderEvent.id)
            .limit(1)
        )
        if undispatched is not None:
            oldest.append(undispatched)
    if not oldest:
        return 0.0
    return max(0.0, (utcnow() - min(oldest)).total_seconds())
