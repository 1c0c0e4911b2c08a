"""Commit hooks run at the outermost commit, never on rollback, savepoints honoured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from backend.db import commit_hooks
from backend.models import OrderEvent, Product, User
from tests.support.event_data import record_order


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints of the test's outer transaction."""
    async with AsyncSession(
        connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    ) as session:
        yield session


@pytest.fixture
def products_heard() -> Iterator[list[set[int]]]:
    heard: list[set[int]] = []
    unsubscribe = commit_hooks.on_products_changed(
        lambda _url, ids: heard.append(set(ids))
    )
    yield heard
    unsubscribe()


async def owner(session: AsyncSession) -> User:
    user = User(username="owner", email="owner@example.com", password_hash="x")
    session.add(user)
    await session.flush()
    return user


def note(calls: list[str], name: str) -> commit_hooks.Callback:
    return lambda: calls.append(name)


async def test_after_commit_runs_once_after_the_commit(session: AsyncSession) -> None:
    calls: list[str] = []
    session.add(Product(sku="hook-1", name="Hook", price_cents=1, stock=1))
    commit_hooks.after_commit(session, note(calls, "done"))
    await session.flush()
    assert calls == []
    await session.commit()
    assert calls == ["done"]
    await session.commit()  # a later transaction owes it nothing
    assert calls == ["done"]


async def test_a_rollback_drops_every_callback(session: AsyncSession) -> None:
    calls: list[str] = []
    await session.execute(select(func.count()).select_from(Product))
    commit_hooks.after_commit(session, note(calls, "after"))
    commit_hooks.before_commit(session, note(calls, "before"))
    await session.rollback()
    await session.commit()
    assert calls == []


async def test_a_rolled_back_savepoint_drops_only_its_own_callbacks(
    session: AsyncSession,
) -> None:
    calls: list[str] = []
    commit_hooks.after_commit(session, note(calls, "outer"))
    savepoint = await session.begin_nested()
    commit_hooks.after_commit(session, note(calls, "inner"))
    await savepoint.rollback()
    commit_hooks.after_commit(session, note(calls, "later"))
    await session.commit()
    assert calls == ["outer", "later"]


async def test_released_savepoints_wait_for_the_outermost_commit(
    session: AsyncSession,
) -> None:
    calls: list[str] = []
    await session.execute(select(1))
    outer = await session.begin_nested()
    inner = await session.begin_nested()
    commit_hooks.after_commit(session, note(calls, "kept"))
    await inner.commit()
    assert calls == []  # releasing a savepoint is not a commit
    await outer.commit()
    assert calls == []
    await session.commit()
    assert calls == ["kept"]


async def test_a_callback_released_into_a_savepoint_that_rolls_back_is_dropped(
    session: AsyncSession,
) -> None:
    calls: list[str] = []
    await session.execute(select(1))
    outer = await session.begin_nested()
    inner = await session.begin_nested()
    commit_hooks.after_commit(session, note(calls, "dropped"))
    await inner.commit()
    await outer.rollback()
    await session.commit()
    assert calls == []


async def test_before_commit_runs_inside_the_transaction_it_precedes(
    session: AsyncSession,
) -> None:
    def add_product() -> None:
        session.sync_session.add(
            Product(sku="hook-before", name="Before", price_cents=1, stock=1)
        )

    await session.execute(select(1))
    commit_hooks.before_commit(session, add_product)
    await session.commit()
    total = await session.scalar(
        select(func.count()).select_from(Product).where(Product.sku == "hook-before")
    )
    assert total == 1


async def test_a_failing_callback_neither_fails_the_commit_nor_stops_the_others(
    session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def fail() -> None:
        raise RuntimeError("boom")

    await session.execute(select(1))
    commit_hooks.after_commit(session, fail)
    commit_hooks.after_commit(session, note(calls, "second"))
    await session.commit()
    assert calls == ["second"]
    assert "commit hook" in caplog.text


async def test_order_events_are_written_at_commit_and_reported_after_it(
    session: AsyncSession,
) -> None:
    heard: list[list[OrderEvent]] = []
    user = await owner(session)
    unsubscribe = commit_hooks.on_order_events_committed(heard.append)
    try:
        row = await record_order(session, user.id)
        assert row.id is None
        await session.commit()
    finally:
        unsubscribe()
    assert row.id is not None
    assert heard == [[row]]


async def test_order_events_of_a_rolled_back_transaction_are_never_written(
    session: AsyncSession,
) -> None:
    heard: list[list[OrderEvent]] = []
    user = await owner(session)
    unsubscribe = commit_hooks.on_order_events_committed(heard.append)
    try:
        row = await record_order(session, user.id)
        await session.rollback()
        await session.commit()
    finally:
        unsubscribe()
    assert row.id is None
    assert heard == []
    assert await session.scalar(select(func.count()).select_from(OrderEvent)) == 0


async def test_an_order_event_inside_a_savepoint_is_refused(
    session: AsyncSession,
) -> None:
    user = await owner(session)
    async with session.begin_nested():
        with pytest.raises(RuntimeError, match="whole transaction"):
            await record_order(session, user.id)


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_changed_products_are_reported_when_the_transaction_ends(
    session: AsyncSession, products_heard: list[set[int]], outcome: str
) -> None:
    # A failed commit may have happened on the server: a rollback reports too.
    await session.execute(select(1))
    await commit_hooks.mark_products_changed(session, [3, 1, 3], by_order=True)
    savepoint = await session.begin_nested()
    await savepoint.commit()
    assert products_heard == []
    await getattr(session, outcome)()
    assert products_heard == [{1, 3}]
    await session.commit()
    assert products_heard == [{1, 3}]


async def test_product_reactions_get_the_database_url(session: AsyncSession) -> None:
    urls: list[URL] = []
    unsubscribe = commit_hooks.on_products_changed(lambda url, _ids: urls.append(url))
    try:
        await commit_hooks.mark_products_changed(session, [7], by_order=True)
        await session.commit()
    finally:
        unsubscribe()
    assert urls == [session.get_bind().engine.url]
