"""Recording events: in the change's transaction, and ids visible in commit order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from quart import Quart

from backend import extensions
from backend.db.commit_hooks import write_pending_events
from backend.db.database import Database
from backend.services.order_events import latest_event_id, list_order_events
from tests.support.event_data import owner, record_order
from tests.support.factories import make_user

MakeUrl = Callable[[str], Awaitable[str]]


async def visible_after(database: Database, cursor: int) -> list[int]:
    async with database.session(readonly=True) as session:
        rows = await list_order_events(session, viewer_id=None, since=cursor, limit=10)
    return [row.id for row in rows]


async def test_overlapping_writers_become_visible_in_id_order(
    pg_database: Database,
) -> None:
    user_id = await owner(pg_database)
    first = pg_database.new_session()
    second = pg_database.new_session()
    try:
        # `first` does its commit's first step (allocating its event id) and
        # stops there, its transaction open.
        early = await record_order(first, user_id)
        await first.run_sync(write_pending_events)
        # `second` would take a higher id and commit first; the advisory lock
        # makes it wait for `first` to commit instead.
        late = await record_order(second, user_id)
        late_commit = asyncio.create_task(second.commit())
        await asyncio.sleep(0.5)
        assert not late_commit.done(), "the second writer must wait for the first"
        assert await visible_after(pg_database, 0) == []
        await first.commit()
        # `second` may commit the moment the lock is free, even before this
        # read: either way `early` is visible, and first.
        visible = await visible_after(pg_database, 0)
        assert visible[0] == early.id
        assert len(visible) <= 2
        await asyncio.wait_for(late_commit, 5)
        # A reader whose cursor already passed `early` misses nothing.
        assert await visible_after(pg_database, early.id) == [late.id]
        assert late.id > early.id
    finally:
        await first.close()
        await second.close()


async def record_then_fail(database: Database, user_id: int) -> None:
    async with database.session() as session:
        await record_order(session, user_id)
        raise RuntimeError("rolled back")


async def test_event_lives_and_dies_with_its_transaction(app: Quart) -> None:
    async with extensions.database(app).session() as session:
        user = await make_user(session, app)
        before = await latest_event_id(session)
    with pytest.raises(RuntimeError):
        await record_then_fail(extensions.database(app), user.id)
    async with extensions.database(app).session() as session:
        assert await latest_event_id(session) == before
        event = await record_order(session, user.id)
    async with extensions.database(app).session() as session:
        assert await latest_event_id(session) == event.id
        assert event.type == "order.created"


async def test_listing_shows_a_user_only_their_events(app: Quart) -> None:
    async with extensions.database(app).session() as session:
        alice = await make_user(session, app)
        bob = await make_user(session, app)
        mine = await record_order(session, alice.id)
        theirs = await record_order(session, bob.id)
    async with extensions.database(app).session() as session:
        own = await list_order_events(
            session, viewer_id=alice.id, since=mine.id - 1, limit=10
        )
        every = await list_order_events(
            session, viewer_id=None, since=mine.id - 1, limit=10
        )
    assert [row.id for row in own] == [mine.id]
    assert [row.id for row in every] == [mine.id, theirs.id]
