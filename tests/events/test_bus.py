"""The event buses: PostgreSQL LISTEN/NOTIFY across connections, and in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import asyncpg
import orjson
import pytest
from sqlalchemy import text

from backend.config import Settings
from backend.db.commit_hooks import PRODUCT_CHANGES_CHANNEL as PRODUCT_CHANNEL
from backend.db.commit_hooks import mark_products_changed
from backend.db.database import Database
from backend.events import Broker, InMemoryBus, PostgresBus, Subscriber
from backend.events.bus import Frame
from backend.events.table import LISTENER_APPLICATION_NAME, READER_TASK_NAME
from backend.services.order_events import EventRow
from tests.conftest import make_settings
from tests.support.databases import _asyncpg_dsn
from tests.support.event_data import owner, record_order

MakeUrl = Callable[[str], Awaitable[str]]


async def commit_event(database: Database, user_id: int, *, commit: bool = True) -> int:
    """An order and its event in one transaction, committed or rolled back."""
    async with database.new_session() as session:
        event = await record_order(session, user_id)
        await (session.commit() if commit else session.rollback())
        return event.id


async def received_ids(subscriber: Subscriber, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        frame = await asyncio.wait_for(subscriber.queue.get(), 5)
        assert orjson.loads(frame.text)["id"] == frame.id
        assert frame.sse.startswith(f"id: {frame.id}\nevent: order.".encode())
        ids.append(frame.id)
    return ids


async def listener_pids(settings: Settings) -> list[int]:
    connection = await asyncpg.connect(_asyncpg_dsn(settings.database_url))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
            " AND datname = current_database()",
            LISTENER_APPLICATION_NAME,
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def test_postgres_bus_delivers_committed_events_in_id_order(
    pg_database: Database,
) -> None:
    user_id = await owner(pg_database)
    bus = PostgresBus(pg_database, pg_database.settings)
    await bus.start()
    subscriber = Subscriber(user_id=user_id, is_admin=False, queue_size=100)
    try:
        await wait_listening(pg_database.settings)
        bus.broker.add(subscriber)
        committed = [await commit_event(pg_database, user_id) for _ in range(3)]
        await commit_event(pg_database, user_id, commit=False)
        committed.append(await commit_event(pg_database, user_id))
        assert await received_ids(subscriber, 4) == committed
        await asyncio.sleep(1.2)  # a catch-up tick finds nothing more
        assert subscriber.queue.empty()
    finally:
        await bus.stop()
    assert subscriber.close_code == 1001


async def test_postgres_bus_reconnects_after_listener_is_killed(
    pg_database: Database,
) -> None:
    settings = pg_database.settings
    user_id = await owner(pg_database)
    bus = PostgresBus(pg_database, settings)
    await bus.start()
    subscriber = Subscriber(user_id=0, is_admin=True, queue_size=100)
    bus.broker.add(subscriber)
    try:
        (old_pid,) = await wait_listening(settings)
        admin = await asyncpg.connect(_asyncpg_dsn(settings.database_url))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", old_pid)
        finally:
            await admin.close()
        # Committed while the listener is down: only the catch-up read sees it.
        during = await commit_event(pg_database, user_id)
        (new_pid,) = await wait_listening(settings, not_pid=old_pid)
        after = await commit_event(pg_database, user_id)
        assert await received_ids(subscriber, 2) == [during, after]
        assert new_pid != old_pid
    finally:
        await bus.stop()


class HeardChannel:
    """A `BusListener` that records what the bus tells it."""

    channel = PRODUCT_CHANNEL

    def __init__(self) -> None:
        self.payloads: asyncio.Queue[str] = asyncio.Queue()
        self.states: list[str] = []
        self.events: list[int] = []

    def on_order_events(self, rows: Sequence[EventRow]) -> None:
        self.events.extend(row.id for row in rows)

    def on_payload(self, payload: str) -> None:
        self.payloads.put_nowait(payload)

    def on_listening(self) -> None:
        self.states.append("listening")

    def on_deaf(self) -> None:
        self.states.append("deaf")


async def test_postgres_bus_hears_other_channels_and_says_when_it_was_deaf(
    pg_database: Database,
) -> None:
    settings = pg_database.settings
    heard = HeardChannel()
    bus = PostgresBus(pg_database, settings, [heard])
    await bus.start()
    try:
        (old_pid,) = await wait_listening(settings)
        # The connection shows before its LISTENs have run: a NOTIFY sent in
        # between is not heard (nor meant to be: `on_listening` comes after).
        for _ in range(100):
            if heard.states:
                break
            await asyncio.sleep(0.05)
        async with pg_database.session() as session:
            await mark_products_changed(session, [3, 1, 3])
        async with pg_database.new_session() as session:
            await mark_products_changed(session, [99])
            await session.rollback()  # never sent
        assert await asyncio.wait_for(heard.payloads.get(), 5) == "1,3"
        event_id = await commit_event(pg_database, await owner(pg_database))
        for _ in range(100):
            if heard.events:
                break
            await asyncio.sleep(0.05)
        assert heard.events == [event_id]
        admin = await asyncpg.connect(_asyncpg_dsn(settings.database_url))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", old_pid)
        finally:
            await admin.close()
        await wait_listening(settings, not_pid=old_pid)
        for _ in range(100):
            if heard.states[-1:] == ["listening"] and len(heard.states) >= 3:
                break
            await asyncio.sleep(0.05)
        assert heard.states[:3] == ["listening", "deaf", "listening"]
        assert heard.payloads.empty()
    finally:
        await bus.stop()
    assert heard.states[-1] == "deaf"


async def wait_listening(settings: Settings, *, not_pid: int = 0) -> list[int]:
    for _ in range(100):
        pids = [pid for pid in await listener_pids(settings) if pid != not_pid]
        if pids:
            return pids
        await asyncio.sleep(0.05)
    raise AssertionError("no listener connection")


async def test_postgres_bus_stop_leaves_no_task_or_listener(
    pg_database: Database,
) -> None:
    bus = PostgresBus(pg_database, pg_database.settings)
    await bus.start()
    await wait_listening(pg_database.settings)
    await bus.stop()
    names = {task.get_name() for task in asyncio.all_tasks()}
    assert READER_TASK_NAME not in names
    assert await listener_pids(pg_database.settings) == []


async def test_postgres_bus_stopped_while_connecting_leaks_no_listener(
    pg_database: Database,
) -> None:
    # Stopped at every moment of its start-up, including between opening the
    # listener connection and subscribing it, the bus closes what it opened.
    for step in range(40):
        bus = PostgresBus(pg_database, pg_database.settings)
        await bus.start()
        await asyncio.sleep(step * 0.0005)
        await bus.stop()
        assert await no_listener_left(pg_database.settings), f"stopped at {step}"


async def no_listener_left(settings: Settings) -> bool:
    """Whether the listener's backend is gone, within a second.

    A connection stopped mid-handshake is terminated, not closed: the server
    notices the closed socket and its backend leaves `pg_stat_activity` a
    moment later. A leaked connection would stay.
    """
    for _ in range(20):
        if not await listener_pids(settings):
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
async def memory_bus(
    fresh_database_url: MakeUrl,
) -> AsyncIterator[tuple[Database, InMemoryBus, int]]:
    """A started in-memory bus over a fresh SQLite database, and an order owner."""
    database = Database(make_settings(await fresh_database_url("sqlite")))
    await database.connect()
    bus = InMemoryBus()
    await bus.start()
    try:
        yield database, bus, await owner(database)
    finally:
        await bus.stop()
        await database.dispose()


async def test_in_memory_bus_publishes_only_committed_events(
    memory_bus: tuple[Database, InMemoryBus, int],
) -> None:
    database, bus, user_id = memory_bus
    subscriber = Subscriber(user_id=user_id, is_admin=False, queue_size=10)
    bus.broker.add(subscriber)
    await commit_event(database, user_id, commit=False)
    kept = await commit_event(database, user_id)
    assert await received_ids(subscriber, 1) == [kept]
    assert subscriber.queue.empty()


async def test_events_cannot_be_recorded_in_a_savepoint(
    memory_bus: tuple[Database, InMemoryBus, int],
) -> None:
    database, bus, user_id = memory_bus
    subscriber = Subscriber(user_id=user_id, is_admin=True, queue_size=10)
    bus.broker.add(subscriber)
    async with database.session() as session, session.begin_nested():
        with pytest.raises(RuntimeError, match="whole transaction"):
            await record_order(session, user_id)
    async with database.session() as session:
        count = await session.scalar(text("SELECT count(*) FROM order_event"))
    assert count == 0
    assert subscriber.queue.empty()


def test_a_full_queue_closes_the_subscriber_with_1013() -> None:
    subscriber = Subscriber(user_id=1, is_admin=False, queue_size=2)
    for event_id in (1, 2, 3):
        subscriber.offer(Frame(event_id, "{}", b""))
    assert subscriber.close_code == 1013
    assert subscriber.queue.qsize() == 2


def test_broker_admits_at_most_the_per_user_limit() -> None:
    broker = Broker()
    first, second, third = (
        Subscriber(user_id=7, is_admin=False, queue_size=1) for _ in range(3)
    )
    assert broker.admit(first, per_user_limit=2)
    assert broker.admit(second, per_user_limit=2)
    assert not broker.admit(third, per_user_limit=2)
    broker.discard(first)
    broker.discard(first)  # a second discard changes nothing
    assert broker.admit(third, per_user_limit=2)
    assert not broker.admit(first, per_user_limit=2)
