"""Buses that read the durable event table: the rows, in id order, by cursor.

A wake-up only says "read now": the rows themselves are read from
`order_event` by `id > cursor`, so a missed or duplicated wake-up costs
latency, never an event, and a periodic catch-up read covers any lost one.

TableBus
├── PostgresBus   every worker (and host) LISTENs on one connection; a NOTIFY
│                 carrying the event id wakes it; catch-up about once a second
└── SQLiteBus     commits in this process wake it; a short poll picks up the
                  commits of the other workers sharing the file. SQLite runs
                  one writer at a time (`BEGIN IMMEDIATE`), so ids already
                  follow commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy import bindparam, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from backend.config import Settings
from backend.db.database import Database
from backend.db.failures import DATABASE_UNAVAILABLE
from backend.db.order_event_writes import NOTIFY_CHANNEL
from backend.events.bus import EventBus
from backend.models import OrderEvent
from backend.services.order_events import EventRow, latest_event_id

LISTENER_APPLICATION_NAME = "backend-events"
READER_TASK_NAME = "order-events-reader"
CATCH_UP_SECONDS = 1.0
# At most one read per this many seconds when woken: at a few hundred orders a
# second one read then carries the burst of events behind the first instead of
# one read (and one pooled connection) per event, in every process; an event
# after a quiet spell is read at once.
COALESCE_SECONDS = 0.02
SQLITE_POLL_SECONDS = 0.1
READ_BATCH = 500
# Every column of the events after a cursor, as Core rows on a read connection:
# the bus reads on every commit it hears of, and a session and ORM objects
# cost more than the read itself.
_EVENTS_AFTER = (
    select(*OrderEvent.__table__.columns)
    .where(OrderEvent.id > bindparam("cursor"))
    .order_by(OrderEvent.id)
    .limit(READ_BATCH)
)
_FAILURES = (*DATABASE_UNAVAILABLE, OSError, asyncpg.PostgresError, sa_exc.DBAPIError)
logger = logging.getLogger(__name__)


class TableBus(EventBus):
    """Reads the events committed after its cursor when woken, or every tick."""

    catch_up_seconds = CATCH_UP_SECONDS

    def __init__(self, database: Database, settings: Settings) -> None:
        super().__init__()
        self._database = database
        self._settings = settings
        self._wake = asyncio.Event()
        self._cursor: int | None = None
        self._last_read = 0.0  # the loop's clock
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        # Events committed from here on are delivered (earlier ones: `since`).
        with contextlib.suppress(*_FAILURES):
            await self._init_cursor()
        self._task = asyncio.create_task(self._run(), name=READER_TASK_NAME)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await super().stop()

    async def _run(self) -> None:
        while True:
            try:
                await self._ensure_listening()
                await self._catch_up()
            except _FAILURES as error:
                logger.warning("order events: database error: %r", error)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
            # cancel that arrives as the wake-up does, and `stop` then waits
            # for this loop forever (the worker never exits on SIGTERM).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.catch_up_seconds):
                    await self._wake.wait()
                # Woken, not timed out: wait out the rest of the interval.
                since = asyncio.get_running_loop().time() - self._last_read
                await asyncio.sleep(max(0.0, COALESCE_SECONDS - since))
            self._wake.clear()

    async def _ensure_listening(self) -> None:
        """(Re)open the notification channel, for backends that have one."""

    async def _catch_up(self) -> None:
        """Fan out every committed event after the cursor, in id order."""
        if self._cursor is None:
            await self._init_cursor()
        assert self._cursor is not None
        self._last_read = asyncio.get_running_loop().time()
        while True:
            async with self._database.read_connection() as connection:
                found = await connection.execute(
                    _EVENTS_AFTER, {"cursor": self._cursor}
                )
                rows = cast(Sequence[EventRow], found.all())  # rows of its columns
            if rows:
                self.broker.publish(rows)
                self._told(rows)
                self._cursor = rows[-1].id
            if len(rows) < READ_BATCH:
                return

    def _told(self, rows: Sequence[EventRow]) -> None:
        """Pass committed events on to the bus's other listeners (if any)."""

    async def _init_cursor(self) -> None:
        async with self._database.session(readonly=True) as session:
            self._cursor = await latest_event_id(session)


class SQLiteBus(TableBus):
    """Woken by this process's commits; polls for the other workers' commits."""

    catch_up_seconds = SQLITE_POLL_SECONDS

    async def start(self) -> None:
        self.hear_local_commits()
        await super().start()

    async def stop(self) -> None:
        self.stop_hearing_local_commits()
        await super().stop()

    def on_commit(self, rows: list[OrderEvent]) -> None:
        self.wake()  # read them from the table, in order with everyone else's


class BusListener(Protocol):
    """Something else kept current by the bus (e.g. the product cache): the
    committed order events, and another NOTIFY channel on the bus's connection."""

    channel: str

    def on_order_events(self, rows: Sequence[EventRow]) -> None:
        """Committed events, in id order, as they reach this process."""

    def on_payload(self, payload: str) -> None:
        """A NOTIFY on `channel`."""

    def on_listening(self) -> None:
        """The connection is (again) listening: from now on nothing is missed."""

    def on_deaf(self) -> None:
        """The connection is lost: notifications may be missed until `on_listening`."""


def _payloads_to(bus_listener: BusListener) -> Callable[..., None]:
    def deliver(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        bus_listener.on_payload(payload)

    return deliver


class PostgresBus(TableBus):
    """LISTEN/NOTIFY wake-ups over the durable event table."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        listeners: Sequence[BusListener] = (),
    ) -> None:
        super().__init__(database, settings)
        self._dsn = (
            make_url(settings.database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self._listener: Any = None
        self._deaf = False
        self._bus_listeners = tuple(listeners)

    async def stop(self) -> None:
        await super().stop()
        await self._close_listener()

    def _told(self, rows: Sequence[EventRow]) -> None:
        for bus_listener in self._bus_listeners:
            bus_listener.on_order_events(rows)

    async def _ensure_listening(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        await self._close_listener()
        listener = await asyncpg.connect(
            self._dsn,
            timeout=self._settings.db_connect_timeout,
            server_settings={"application_name": LISTENER_APPLICATION_NAME},
        )
        try:
            # Losing the connection wakes the loop, so it reconnects at once.
            listener.add_termination_listener(self._lost)
            await listener.add_listener(NOTIFY_CHANNEL, lambda *_: self.wake())
            for bus_listener in self._bus_listeners:
                await listener.add_listener(
                    bus_listener.channel, _payloads_to(bus_listener)
                )
        except BaseException:  # a failure, or stopped: nobody else will close it
            listener.terminate()
            raise
        self._listener = listener
        self._deaf = False
        for bus_listener in self._bus_listeners:
            bus_listener.on_listening()

    def _lost(self, connection: Any) -> None:
        # The callback can run after the loop already replaced this connection
        # (it saw it closed first): only the current connection's loss counts.
        if connection is self._listener:
            self._deafen()
        self.wake()

    def _deafen(self) -> None:
        """Tell the channel listeners, once per connection, that it is gone."""
        if self._listener is not None and not self._deaf:
            self._deaf = True
            for bus_listener in self._bus_listeners:
                bus_listener.on_deaf()

    async def _close_listener(self) -> None:
        self._deafen()
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            with contextlib.suppress(*_FAILURES, TimeoutError):
                async with asyncio.timeout(2):
                    await listener.close()
