"""Expiring unpaid orders: a periodic job gives their stock back.

Every `EXPIRY_PERIOD` seconds one job (one per period across every process
and host, see backend.jobs.periodic) moves each pending order whose
`expires_at` has passed to `expired`, restores its stock and records the
`order.status_changed` event, one order per transaction. The move is a
conditional update (still pending, already due), so of a payment, a cancel
and any number of expiry runs racing for one order exactly one wins, and the
stock is restored at most once; a run that repeats (at least once) finds
nothing left to do.

Periodic rather than one job per order at its `expires_at`: one indexed scan
every few seconds costs the same for ten pending orders or a million, adds
nothing to placing an order (the hottest write), needs no clean-up of jobs for
orders paid in time, and a changed `ORDER_PENDING_TTL` or a backlog after an
outage is handled by the same query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from backend.db.database import Database
from backend.jobs import JobContext, job_kind, periodic
from backend.jobs.cleanup import NoPayload
from backend.models import Order
from backend.models.base import utcnow
from backend.services.order_events import record_order_event
from backend.services.orders import order_view, restore_stock

# The contract allows an order to expire at most 30 s late; a run every 10 s
# (plus the poll and the run itself) stays well inside that.
EXPIRY_PERIOD = 10.0
BATCH_SIZE = 200


async def expire_order(session: AsyncSession, order_id: int, *, now: datetime) -> bool:
    """Expire the order if it is still pending and due; whether this call did."""
    moved = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == "pending", Order.expires_at <= now)
        .values(status="expired", expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], moved).rowcount != 1:
        return False  # paid, cancelled or expired by someone else meanwhile
    order = await session.scalar(
        select(Order)
        .options(selectinload(Order.items))
        .where(Order.id == order_id)
        .execution_options(populate_existing=True)
    )
    assert order is not None  # the update above just matched it
    await restore_stock(session, order.items)
    await record_order_event(
        session,
        order_id=order.id,
        user_id=order.user_id,
        status="expired",
        previous_status="pending",
        snapshot=order_view(order),
    )
    return True


async def expire_due_orders(database: Database, *, now: datetime | None = None) -> int:
    """Expire every order due by `now`; how many this call expired."""
    now = now or utcnow()
    expired = 0
    while True:
        async with database.session(readonly=True) as session:
            due = (
                await session.scalars(
                    select(Order.id)
                    .where(Order.status == "pending", Order.expires_at <= now)
                    .order_by(Order.expires_at, Order.id)
                    .limit(BATCH_SIZE)
                )
            ).all()
        for order_id in due:
            async with database.session() as session:
                expired += await expire_order(session, order_id, now=now)
        if len(due) < BATCH_SIZE:
            return expired


@job_kind("expire_orders", NoPayload, max_attempts=3)
async def expire_orders(context: JobContext, _payload: NoPayload) -> None:
    """Expire pending orders past their `expires_at` (idempotent: see above)."""
    await expire_due_orders(context.database)


periodic.every("expire_orders", "expire_orders", lambda _settings: EXPIRY_PERIOD)
