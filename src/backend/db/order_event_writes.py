"""The statement that writes a transaction's order events at commit.

On PostgreSQL it first takes a transaction-scoped advisory lock, held until
commit, so event ids become visible in commit order and a subscriber's cursor
can never skip an id that commits later. Writing at commit keeps that lock to
one statement and the COMMIT: every order serialises on it, so it must be
short. The NOTIFY rides in the same statement; PostgreSQL delivers it at commit
and never otherwise. SQLite's writers are already serialised by
`BEGIN IMMEDIATE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, Text, bindparam, func, insert, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm import Session

from backend.models import OrderEvent
from backend.models.base import utcnow

# Any fixed 64-bit key; it names the "order events are being written" lock.
EVENT_WRITER_LOCK = 0x6F726465  # "orde"
# NOTIFY channel; the payload is only the event id (payloads are not replayed).
NOTIFY_CHANNEL = "order_events"
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


def insert_order_events(session: Session, rows: Sequence[OrderEvent]) -> None:
    """Insert `rows` (not yet written) and set their ids; the commit follows at once."""
    session.flush()  # the rest of the transaction first, outside the lock
    postgres = session.get_bind().dialect.name == "postgresql"
    for pending in rows:
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
