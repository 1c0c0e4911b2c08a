"""Recording order events in the transaction of the change they describe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, Text, bindparam, event, func, insert, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from backend.errors import Gone
from backend.models import OrderEvent, RetentionMark
from backend.models.base import utcnow

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
# Any fixed 64-bit key; it names the "order events are being written" lock.
EVENT_WRITER_LOCK = 0x6F726465  # "orde"
# NOTIFY channel; the payload is only the event id (payloads are not replayed).
NOTIFY_CHANNEL = "order_events"
# Where a session keeps its events until commit writes them (and, after the
# commit, until backend.events publishes them to local subscribers).
PENDING_KEY = "pending_order_events"
MAX_EVENT_ID = 2**63 - 1
_EVENTS = cast(Table, OrderEvent.__table__)
_WRITTEN_COLUMNS = (
    "type",
    "order_id",
    "user_id",
    "status",
    "previous_status",
    "order_snapshot",
    "occurred_at",
)


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
    if session.in_nested_transaction():
        raise RuntimeError("order events belong to the whole transaction")
    event = OrderEvent(
        type=ORDER_CREATED if previous_status is None else ORDER_STATUS_CHANGED,
        order_id=order_id,
        user_id=user_id,
        status=status,
        previous_status=previous_status,
        order_snapshot=snapshot,
    )
    session.info.setdefault(PENDING_KEY, []).append(event)
    return event


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if not session.in_nested_transaction():
        write_pending_events(session)


def write_pending_events(session: Session) -> None:
    """Insert the transaction's events; the commit follows at once.

    On PostgreSQL the statement first takes a transaction-scoped advisory lock,
    held until commit, so event ids become visible in commit order and a
    subscriber's cursor can never skip an id that commits later. Writing at
    commit keeps that lock to one statement and the COMMIT: every order
    serialises on it, so it must be short. The NOTIFY rides in the same
    statement; PostgreSQL delivers it at commit and never otherwise. SQLite's
    writers are already serialised by `BEGIN IMMEDIATE`.
    """
    unwritten = [row for row in session.info.get(PENDING_KEY, ()) if row.id is None]
    if not unwritten:
        return
    session.flush()  # the rest of the transaction first, outside the lock
    postgres = session.get_bind().dialect.name == "postgresql"
    for pending in unwritten:
        pending.occurred_at = utcnow()
        values = {name: getattr(pending, name) for name in _WRITTEN_COLUMNS}
        statement = _INSERT_EVENT_LOCKED if postgres else _INSERT_EVENT
        pending.id = session.execute(statement, values).scalar_one()


def _locked_insert() -> Select[tuple[int, Any]]:
    """Lock, insert and notify, in that order, in one round trip.

    The inserted row is projected from the lock's row, so the id's `nextval`
    runs only once the lock is held (`EXPLAIN VERBOSE` shows it).
    """
    lock = select(func.pg_advisory_xact_lock(EVENT_WRITER_LOCK)).cte("writer_lock")
    row = select(
        *(bindparam(name, type_=_EVENTS.c[name].type) for name in _WRITTEN_COLUMNS)
    ).select_from(lock)
    written = (
        insert(_EVENTS)
        .from_select(list(_WRITTEN_COLUMNS), row)
        .returning(_EVENTS.c.id)
        .cte("written")
    )
    return select(
        written.c.id, func.pg_notify(NOTIFY_CHANNEL, sa_cast(written.c.id, Text))
    )


# Built once; each commit only binds its event's values.
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)
_INSERT_EVENT_LOCKED = _locked_insert()


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
    mark = await session.get(RetentionMark, _EVENTS.name)
    if mark is not None and since < mark.deleted_through:
        raise Gone(
            "Events after this cursor were deleted by retention; resynchronise"
            " from GET /api/v1/orders and continue from the newest event id.",
            code="cursor_expired",
        )
