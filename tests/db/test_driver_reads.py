"""`Database.read`: prebuilt selects, on PostgreSQL run by asyncpg itself.

The rows must be what SQLAlchemy returns for the same statement, on both
databases; on PostgreSQL a failed or cancelled read must leave the pool
usable, and failures must be classified as SQLAlchemy's own are (503 for an
outage, not 500).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    cast,
    column,
    func,
    literal,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import extensions
from backend.db.database import Database
from backend.db.driver_reads import PLAN_PER_CALL, compile_read
from backend.db.failures import is_database_unavailable
from backend.models import Product
from backend.models.base import JsonDocument
from backend.services import products
from tests.support.factories import make_product

_BY_SKU_PREFIX = select(*products.LIST_COLUMNS).where(
    Product.sku.startswith(bindparam("prefix")), Product.price_cents >= literal(0)
)
# A JSON document in and out (JSONB on PostgreSQL, as order snapshots are).
_DOCUMENT = select(bindparam("doc", type_=JsonDocument).label("doc"))
_ONE = select(bindparam("n", type_=Integer).label("one"))
_SLEEP = select(func.pg_sleep(bindparam("seconds", type_=Integer)).label("slept"))
_NAMED = table("pg_prepared_statements", column("statement"))


def _prepared_as_itself(label: str) -> Any:
    """How many of its connection's named (prepared) statements are this one."""
    pattern = f"%{label}%pg_prepared_statements%"
    return (
        select(func.count().label(label))
        .select_from(_NAMED)
        .where(_NAMED.c.statement.like(bindparam("text", pattern)))
    )


def _shapes() -> list[products._ListShape]:
    return [
        products._ListShape(q, low, high, stock, inactive, sort)
        for q, low, high, stock, inactive, sort in (
            (False, False, False, None, False, "id"),
            (False, False, False, None, True, "-created_at"),
            (True, True, True, True, False, "name"),
            (False, True, False, False, True, "-price_cents"),
        )
    ]


async def test_rows_are_those_sqlalchemy_returns(
    app: Quart, connection: AsyncConnection
) -> None:
    database = extensions.database(app)
    async with database.session() as session:
        for n in range(3):
            await make_product(session, sku=f"DRV-{n}", description=None, stock=n)
    params: dict[str, Any] = {
        "pattern": "%DRV%",
        "min_price_cents": 0,
        "max_price_cents": 10**6,
        "limit": 10,
        "offset": 0,
    }
    statements: list[tuple[Any, dict[str, Any]]] = [
        (_BY_SKU_PREFIX, {"prefix": "DRV-"}),
        (_DOCUMENT, {"doc": {"a": [1, "two", None], "b": {"c": 1.5}}}),
    ]
    for shape in _shapes():
        plan = products._list_plan(shape)
        statements.append((plan.statement, params))
        if plan.count is not None:
            statements.append((plan.count, params))
    for statement, bound in statements:
        expected = (await connection.execute(statement, bound)).mappings().all()
        rows = await database.read(statement, bound)
        assert rows == [dict(row) for row in expected]
        assert all(type(key) is str for row in rows for key in row)
    made = await database.read(_BY_SKU_PREFIX, {"prefix": "DRV-"})
    assert [row["sku"] for row in made] == ["DRV-0", "DRV-1", "DRV-2"]
    assert all(row["created_at"].utcoffset().total_seconds() == 0 for row in made)


def test_a_statement_compiles_to_positional_sql_with_its_defaults() -> None:
    dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
    read = compile_read(products._PRODUCT_BY_ID, dialect)
    assert "$1" in read.sql
    assert read.keys[:3] == ("id", "sku", "name")
    assert read.arguments({"product_id": 7}) == [7]
    with pytest.raises(ValueError, match="product_id"):
        read.arguments({})
    expanding = select(Product.id).where(
        Product.id.in_(bindparam("ids", expanding=True))
    )
    with pytest.raises(ValueError, match="expands"):
        compile_read(expanding, dialect)


async def test_a_refused_statement_keeps_its_sqlstate_and_the_pool_serves_on(
    pg_database: Database,
) -> None:
    number = select(cast(bindparam("text", type_=String), Integer).label("x"))
    for _ in range(pg_database.settings.db_pool_size + 2):
        with pytest.raises(DBAPIError) as raised:
            await pg_database.read(number, {"text": "not a number"})
        assert getattr(raised.value.orig, "sqlstate", None) == "22P02"
        assert not is_database_unavailable(raised.value)
    assert await pg_database.read(number, {"text": "7"}) == [{"x": 7}]


async def test_a_result_only_sqlalchemy_can_convert_is_read_through_it(
    app: Quart, connection: AsyncConnection
) -> None:
    # Integer division is NUMERIC, whose asyncpg processing needs the row's oid.
    half = select((literal(1) / bindparam("d", type_=Integer)).label("x"))
    expected = (await connection.execute(half, {"d": 2})).mappings().all()
    assert await extensions.database(app).read(half, {"d": 2}) == [
        dict(row) for row in expected
    ]


async def test_a_read_cancelled_mid_way_does_not_return_its_connection_busy(
    pg_database: Database,
) -> None:
    pool_size = pg_database.settings.db_pool_size
    for _ in range(pool_size + 2):
        task = asyncio.create_task(pg_database.read(_SLEEP, {"seconds": 5}))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    # Every pooled connection answers: none is still busy with a cancelled sleep.
    reads = [pg_database.read(_ONE, {"n": 1}) for _ in range(pool_size)]
    assert await asyncio.gather(*reads) == [[{"one": 1}]] * pool_size


async def test_a_statement_planned_per_call_is_never_prepared_by_name(
    pg_database: Database,
) -> None:
    # More calls than connections: some connection runs each statement twice.
    calls = pg_database.settings.db_pool_size + 2
    cached = _prepared_as_itself("cached_read")
    named = [await pg_database.read(cached, {}) for _ in range(calls)]
    assert max(row["cached_read"] for (row,) in named) == 1  # the control
    per_call = _prepared_as_itself("per_call_read").execution_options(
        **{PLAN_PER_CALL: True}
    )
    unnamed = [await pg_database.read(per_call, {}) for _ in range(calls)]
    assert unnamed == [[{"per_call_read": 0}]] * calls
