"""Recording order events in the transaction of the change they describe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import OrderEvent

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
# Any fixed 64-bit key; it names the "order events are being written" lock.
EVENT_WRITER_LOCK = 0x6F726465  # "orde"
# NOTIFY channel; the payload is only the event id (payloads are not replayed).
NOTIFY_CHANNEL = "order_events"
# Where a session keeps the events it wrote until commit (see backend.events).
PENDING_KEY = "pending_order_events"
MAX_EVENT_ID = 2**63 - 1
_TAKE_WRITER_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


async def record_order_event(
    session: AsyncSession,
    *,
    order_id: int,
    user_id: int,
    status: str,
    previous_status: str | None,
    snapshot: dict[str, Any],
) -> OrderEvent:
    """Append an event; call it last in the transaction, just before commit.

    On PostgreSQL a transaction-scoped advisory lock is taken before the insert
    and held until commit, so event ids become visible in commit order and a
    subscriber's cursor can never skip an id that commits later. SQLite's
    writers are already serialised by `BEGIN IMMEDIATE`. The NOTIFY is queued
    in the transaction, so PostgreSQL delivers it at commit and never otherwise.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        await session.execute(_TAKE_WRITER_LOCK, {"key": EVENT_WRITER_LOCK})
    event = OrderEvent(
        type=ORDER_CREATED if previous_status is None else ORDER_STATUS_CHANGED,
        order_id=order_id,
        user_id=user_id,
        status=status,
        previous_status=previous_status,
        order_snapshot=snapshot,
    )
    session.add(event)
    await session.flush()
    if postgres:
        await session.execute(
            _NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": str(event.id)}
        )
    session.info.setdefault(PENDING_KEY, []).append(event)
    return event


async def list_order_events(
    session: AsyncSession, *, viewer_id: int | None, since: int, limit: int
) -> Sequence[OrderEvent]:
    """Events after `since` in id order; only `viewer_id`'s unless it is None."""
    # A cursor past any 64-bit id is valid input that simply matches nothing.
    stmt = select(OrderEvent).where(OrderEvent.id > min(since, MAX_EVENT_ID))
    if viewer_id is not None:
        stmt = stmt.where(OrderEvent.user_id == viewer_id)
    return (await session.scalars(stmt.order_by(OrderEvent.id).limit(limit))).all()


async def latest_event_id(session: AsyncSession) -> int:
    """The highest committed event id, 0 when there is none."""
    stmt = select(OrderEvent.id).order_by(OrderEvent.id.desc()).limit(1)
    return (await session.scalar(stmt)) or 0
