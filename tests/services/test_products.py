"""The catalog list without HTTP: one statement per page, an exact total."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from unittest import mock

import asyncpg
import pytest
from quart import Quart
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from backend import extensions
from backend.models import PRICE_BUCKET_CENTS, Product
from backend.services import products
from tests.support.factories import make_product


@asynccontextmanager
async def statements(connection: AsyncConnection) -> AsyncIterator[list[str]]:
    """The SQL statements run on `connection` inside the block.

    On PostgreSQL the catalog's reads go to asyncpg directly (`Database.read`),
    past SQLAlchemy's events: asyncpg's own query log sees them, except the
    statements planned per call, which it runs as prepared ones (recorded as
    they are prepared).
    """
    seen: list[str] = []
    if connection.dialect.driver == "asyncpg":
        driver: Any = (await connection.get_raw_connection()).driver_connection
        prepare = asyncpg.Connection.prepare

        def logged(record: Any) -> None:
            seen.append(record.query)

        async def prepared(self: Any, query: str, **options: Any) -> Any:
            if self is driver:
                seen.append(query)
            return await prepare(self, query, **options)

        driver.add_query_logger(logged)
        try:
            with mock.patch.object(asyncpg.Connection, "prepare", prepared):
                yield seen
        finally:
            driver.remove_query_logger(logged)
        return

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sync, "before_cursor_execute", record)


@pytest.mark.parametrize("page", [1, 2, 3, 10**6])
async def test_an_unfiltered_page_and_its_exact_total_take_one_statement(
    app: Quart, connection: AsyncConnection, page: int
) -> None:
    async with extensions.database(app).session() as session:
        total = await _counted(session, include_inactive=False)
        await make_product(session, is_active=False)
        async with statements(connection) as seen:
            result = await products.list_products(
                extensions.database(app), page=page, per_page=2
            )
    assert len(seen) == 1
    assert result.total == total
    assert len(result.items) == (min(2, max(0, total - (page - 1) * 2)))


@pytest.mark.parametrize(("page", "expected_statements"), [(1, 2), (2, 2), (3, 1)])
async def test_a_filtered_page_counts_first_and_skips_the_window_past_the_end(
    app: Quart, connection: AsyncConnection, page: int, expected_statements: int
) -> None:
    async with extensions.database(app).session() as session:
        made = [await make_product(session, price_cents=500) for _ in range(3)]
        await make_product(session, price_cents=500, is_active=False)
        async with statements(connection) as seen:
            result = await products.list_products(
                extensions.database(app),
                min_price_cents=500,
                max_price_cents=500,
                page=page,
                per_page=2,
            )
    assert len(seen) == expected_statements
    assert result.total == 3
    expected = [product.id for product in made][(page - 1) * 2 : page * 2]
    assert [item["id"] for item in result.items] == expected


async def test_list_rows_carry_the_product_columns(app: Quart) -> None:
    async with extensions.database(app).session() as session:
        product = await make_product(session, name="Only", description=None)
        result = await products.list_products(extensions.database(app), q="Only")
    assert result.items == [
        {column.key: getattr(product, column.key) for column in products.LIST_COLUMNS}
    ]
    # Exactly str, as orjson needs (it refuses SQLAlchemy's str subclass).
    assert {type(key) for key in result.items[0]} == {str}


@pytest.mark.parametrize(
    "sort", ["id", "name", "-name", "price_cents", "-price_cents", "created_at"]
)
async def test_each_sort_keeps_its_order_and_breaks_ties_by_id(
    app: Quart, sort: str
) -> None:
    async with extensions.database(app).session() as session:
        for name, price in (("b", 300), ("a", 100), ("b", 100), ("c", 200)):
            await make_product(session, name=f"sortcase {name}", price_cents=price)
        pages = [
            await products.list_products(
                extensions.database(app),
                q="sortcase",
                sort=sort,
                page=page,
                per_page=3,
            )
            for page in (1, 2)
        ]
    rows = [item for page in pages for item in page.items]
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    expected = sorted(rows, key=lambda row: row["id"])
    expected.sort(key=lambda row: row[key], reverse=descending)
    assert [row["id"] for row in rows] == [row["id"] for row in expected]
    assert [page.total for page in pages] == [4, 4]


async def _counted(session: AsyncSession, *, include_inactive: bool) -> int:
    statement = select(func.count()).select_from(Product)
    if not include_inactive:
        statement = statement.where(Product.is_active.is_(True))
    return await session.scalar(statement) or 0


async def test_the_unfiltered_total_is_kept_exact_by_the_triggers(app: Quart) -> None:
    async def check(session: AsyncSession) -> None:
        for include_inactive in (False, True):
            page = await products.list_products(
                extensions.database(app), include_inactive=include_inactive
            )
            expected = await _counted(session, include_inactive=include_inactive)
            assert page.total == expected

    async with extensions.database(app).session() as session:
        await check(session)
        made = [await make_product(session) for _ in range(3)]
        await make_product(session, is_active=False)
        await check(session)
        made[0].is_active = False
        made[1].stock = 0  # not an activity change: the counter is untouched
        await session.flush()
        await check(session)
        made[0].is_active = True
        await session.delete(made[2])
        await session.flush()
        await check(session)


# Prices on and around the edges of price buckets, and far apart.
EDGE_PRICES = (0, 1, 999, 1000, 1001, 1999, 2000, 2500, 7999, 8000, 99_999, 10**8)
RANGES = (
    (None, None),
    (0, None),
    (None, 999),
    (None, 1000),
    (1, 1999),
    (999, 1000),
    (1000, 1999),
    (1000, 2000),
    (1001, 7999),
    (500, 8500),
    (2500, 2500),
    (3000, 2000),  # empty: min above max
    (8000, None),
    (0, 10**8 + 1),
)
PRICE_FILTERS = [bounds for bounds in RANGES if bounds != (None, None)]


async def _counted_range(
    session: AsyncSession, low: int | None, high: int | None, *, include_inactive: bool
) -> int:
    statement = select(func.count()).select_from(Product)
    if low is not None:
        statement = statement.where(Product.price_cents >= low)
    if high is not None:
        statement = statement.where(Product.price_cents <= high)
    if not include_inactive:
        statement = statement.where(Product.is_active.is_(True))
    return await session.scalar(statement) or 0


async def test_price_range_totals_are_kept_exact_by_the_bucket_triggers(
    app: Quart,
) -> None:
    async def check(session: AsyncSession) -> None:
        for low, high in PRICE_FILTERS:
            for include_inactive in (False, True):
                page = await products.list_products(
                    extensions.database(app),
                    min_price_cents=low,
                    max_price_cents=high,
                    include_inactive=include_inactive,
                )
                expected = await _counted_range(
                    session, low, high, include_inactive=include_inactive
                )
                assert page.total == expected, (low, high, include_inactive)

    async with extensions.database(app).session() as session:
        made = [
            await make_product(session, price_cents=price, is_active=n % 3 != 0)
            for n, price in enumerate(EDGE_PRICES * 2)
        ]
        await check(session)
        made[0].price_cents = 1999  # across buckets
        made[1].is_active = not made[1].is_active
        made[2].price_cents, made[2].is_active = 8000, False  # both at once
        made[3].stock = 0  # neither: no bucket moves
        made[4].name = "renamed"
        await session.flush()
        await check(session)
        for product in made[5:9]:
            await session.delete(product)
        await session.flush()
        await check(session)


@pytest.mark.parametrize(
    ("low", "high"),
    [(low, high) for low, high in RANGES if (low, high) != (None, None)],
)
def test_price_range_bounds_split_a_range_into_whole_buckets_and_two_ends(
    low: int | None, high: int | None
) -> None:
    bounds = products.price_range_bounds(low, high)
    width = PRICE_BUCKET_CENTS
    first = 0 if low is None else low
    last = 10**8 if high is None else high
    whole = range(bounds["whole_from"] * width, bounds["whole_to"] * width)
    low_end = range(bounds["low_from"], bounds["low_to"] + 1)
    high_end = range(bounds["high_from"], bounds["high_to"] + 1)
    # Every price of the range is counted once, by exactly one of the parts.
    for price in {*EDGE_PRICES, first, last, first - 1, last + 1}:
        parts = sum(price in part for part in (whole, low_end, high_end))
        assert parts == (1 if first <= price <= last else 0), price
    # And the ends are short: at most a bucket's width each, but for a range
    # inside one bucket or two.
    if bounds["whole_to"] > bounds["whole_from"]:
        assert len(low_end) < width
        assert len(high_end) < width
