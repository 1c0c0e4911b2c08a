"""Recording order events in the transaction of the change they describe."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import OrderEvent

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
# Any fixed 64-bit key; it names the "order events are being written" lock.
EVENT_WRITER_LOCK = 0x6F726465  # "orde"
_TAKE_WRITER_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


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
    writers are already serialised by `BEGIN IMMEDIATE`.
    """
    if session.get_bind().dialect.name == "postgresql":
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
    return event
