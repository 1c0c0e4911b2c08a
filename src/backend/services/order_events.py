"""Recording order events in the transaction of the change they describe."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import commit_hooks
from backend.errors import Gone
from backend.models import OrderEvent, RetentionMark
from backend.schemas.order_event import OrderEventOut


class EventRow(Protocol):
    """A committed order event as its readers see it: an `OrderEvent`, or a
    Core row of its columns (the bus reads those: no session, no ORM objects)."""

    @property
    def id(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def order_id(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def previous_status(self) -> str | None: ...
    @property
    def order_snapshot(self) -> dict[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...


ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
MAX_EVENT_ID = 2**63 - 1


async def record_order_event(
    session: AsyncSession,
    *,
    order_id: int,
    user_id: int,
    status: str,
    previous_status: str | None,
    snapshot: dict[str, Any],
) -> OrderEvent:
    """Add an event to this transaction; the commit writes it, last of all.

    Call it outside any savepoint: the event stands or falls with the whole
    transaction. Its id is known once the transaction has committed.
    """
    event = OrderEvent(
        type=ORDER_CREATED if previous_status is None else ORDER_STATUS_CHANGED,
        order_id=order_id,
        user_id=user_id,
        status=status,
        previous_status=previous_status,
        order_snapshot=snapshot,
    )
    commit_hooks.add_pending_event(session, event)
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


async def check_cursor(session: AsyncSession, since: int) -> None:
    """Refuse (410 `cursor_expired`) a cursor followed by events already deleted.

    Retention deletes the oldest events and raises the table's mark to the
    highest id it deleted: a cursor below the mark would silently skip them.
    One primary-key read, once per subscription or page.
    """
    mark = await session.get(RetentionMark, OrderEvent.__tablename__)
    if mark is not None and since < mark.deleted_through:
        raise Gone(
            "Events after this cursor were deleted by retention; resynchronise"
            " from GET /api/v1/orders and continue from the newest event id.",
            code="cursor_expired",
        )


def encode_event(row: object) -> str:
    """An event as every consumer gets it (socket, stream, webhook body):
    JSON through the schema the AsyncAPI document describes. `row` is an
    `OrderEvent` or any row with its columns (a Core select's)."""
    return orjson.dumps(OrderEventOut.model_validate(row).model_dump()).decode()
