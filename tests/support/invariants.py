"""The invariants every fault scenario must leave intact, read from the database.

- stock: for each product, stock + units in orders neither cancelled nor
  expired = initial stock (both gave their units back);
- every order has at least one item;
- one event row per committed change: each order's events form one unbroken
  chain `None -> pending -> ... -> current status` (so no change lost, none
  doubled, none for a change that was rolled back);
- PostgreSQL only: no session of the database is `idle in transaction`, and at
  rest no connection of the app is checked out of its pool (every backend of
  the app is `idle`, which is what a pooled connection looks like).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

APP_NAME = "backend"  # the application_name db.create_engine gives the app's pool

_STOCK = text(
    "SELECT p.id, p.stock, COALESCE(SUM(i.quantity) FILTER ("
    "  WHERE o.status NOT IN ('cancelled', 'expired')), 0) "
    "FROM product p LEFT JOIN order_item i ON i.product_id = p.id "
    "LEFT JOIN customer_order o ON o.id = i.order_id GROUP BY p.id, p.stock"
)
_EMPTY_ORDERS = text(
    "SELECT o.id FROM customer_order o WHERE NOT EXISTS "
    "(SELECT 1 FROM order_item i WHERE i.order_id = o.id)"
)
_ORDERS = text("SELECT id, status FROM customer_order")
_EVENTS = text(
    "SELECT order_id, type, previous_status, status FROM order_event ORDER BY id"
)
_BACKENDS = text(
    "SELECT pid, application_name, state, left(query, 80) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND (state LIKE 'idle in transaction%' "
    "     OR (application_name = :app AND state <> 'idle'))"
)


async def _stock_problems(db: AsyncConnection, initial: Mapping[int, int]) -> list[str]:
    problems = []
    for product_id, stock, ordered in (await db.execute(_STOCK)).all():
        expected = initial.get(product_id)
        if expected is not None and stock + ordered != expected:
            problems.append(
                f"product {product_id}: stock {stock} + ordered {ordered} "
                f"!= initial {expected}"
            )
        if stock < 0:
            problems.append(f"product {product_id}: negative stock {stock}")
    return problems


async def _order_problems(db: AsyncConnection) -> list[str]:
    problems = [
        f"order {order_id} has no items"
        for (order_id,) in (await db.execute(_EMPTY_ORDERS)).all()
    ]
    chains: dict[int, list[tuple[str, str | None, str]]] = defaultdict(list)
    for order_id, type_, previous, status in (await db.execute(_EVENTS)).all():
        chains[order_id].append((type_, previous, status))
    for order_id, status in (await db.execute(_ORDERS)).all():
        problems += _chain_problems(order_id, status, chains.get(order_id, []))
    return problems


def _chain_problems(
    order_id: int, status: str, chain: list[tuple[str, str | None, str]]
) -> list[str]:
    if not chain:
        return [f"order {order_id} has no events"]
    first_type, first_previous, _ = chain[0]
    if first_type != "order.created" or first_previous is not None:
        return [f"order {order_id}: first event is {chain[0]}, not order.created"]
    for (_, _, before), (type_, previous, after) in itertools.pairwise(chain):
        if type_ != "order.status_changed" or previous != before:
            return [
                f"order {order_id}: event {(type_, previous, after)} after {before}"
            ]
    if chain[-1][2] != status:
        return [f"order {order_id}: status {status}, last event says {chain[-1][2]}"]
    return []


async def _session_problems(db: AsyncConnection) -> list[str]:
    rows = (await db.execute(_BACKENDS, {"app": APP_NAME})).all()
    return [
        f"backend pid {pid} ({app}) is {state!r}: {q}" for pid, app, state, q in rows
    ]


async def invariant_problems(
    database_url: str, initial_stock: Mapping[int, int] | None = None
) -> list[str]:
    """Every invariant that does not hold right now, as readable sentences."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as db:
            problems = await _stock_problems(db, initial_stock or {})
            problems += await _order_problems(db)
            if db.dialect.name == "postgresql":
                problems += await _session_problems(db)
            await db.rollback()
    finally:
        await engine.dispose()
    return problems


async def assert_invariants(
    database_url: str,
    initial_stock: Mapping[int, int] | None = None,
    *,
    settle: float = 10.0,
) -> None:
    """Fail unless every invariant holds within `settle` seconds of rest.

    Requests the client gave up on may still be finishing on the server (a
    cancelled request is not a cancelled handler), so give them time to end.
    """
    deadline = asyncio.get_running_loop().time() + settle
    while True:
        problems = await invariant_problems(database_url, initial_stock)
        if not problems or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.25)
    assert not problems, "invariants broken:\n" + "\n".join(problems)


async def app_backend_count(database_url: str) -> int:
    """How many PostgreSQL connections the app's pools hold (idle or not)."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as db:
            count = await db.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = :app"
                ),
                {"app": APP_NAME},
            )
    finally:
        await engine.dispose()
    return int(count or 0)


async def count_rows(database_url: str, table: str) -> int:
    """Rows in `table` (a name from the models, never user input)."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as db:
            count = await db.scalar(text(f"SELECT count(*) FROM {table}"))
    finally:
        await engine.dispose()
    return int(count or 0)
