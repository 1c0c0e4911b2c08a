"""A fresh PostgreSQL database with the benchmark data set, made fast.

Rows go in with COPY; every user shares one precomputed Argon2id hash (hashing
a thousand passwords would take longer than the benchmark), and every user gets
a live login session with a pre-issued access token, as a factory would.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type

from backend.cli import upgrade_schema
from backend.config import Settings
from backend.security.tokens import TokenService

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "Bench-Password-1"
PRODUCTS = 10_000
USERS = 1_000
ADMINS = 4


@dataclass
class Dataset:
    """What the scenarios need to know about the seeded rows."""

    products: int
    usernames: list[str]
    user_tokens: list[str]
    admin_tokens: list[str]
    initial_stock: dict[int, int] = field(repr=False)


def sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


async def create_database(name: str) -> str:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _product_rows(now: datetime) -> list[tuple[object, ...]]:
    rng = random.Random(6)
    return [
        (
            i,
            f"SKU-{i:05d}",
            f"Product {i} {rng.choice('ABCDEFGH')}",
            f"Description of product {i}.",
            rng.randint(100, 100_000),
            rng.randint(5_000, 10_000),
            True,
            now,
            now,
        )
        for i in range(1, PRODUCTS + 1)
    ]


def _password_hash(settings: Settings) -> str:
    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )
    return hasher.hash(PASSWORD)


async def seed(dsn: str, settings: Settings) -> Dataset:
    """Products, users (the last `ADMINS` are admins) and one session each."""
    now = datetime.now(UTC)
    products = _product_rows(now)
    password_hash = await asyncio.to_thread(_password_hash, settings)
    total = USERS + ADMINS
    names = [f"bench{i}" for i in range(1, total + 1)]
    users = [
        (
            i,
            name,
            f"{name}@example.com",
            password_hash,
            None,
            None,
            True,
            i > USERS,
            0,
            now,
            now,
        )
        for i, name in enumerate(names, start=1)
    ]
    sessions = [
        (str(uuid.uuid4()), i, now, now + timedelta(days=1), None)
        for i in range(1, total + 1)
    ]
    connection = await asyncpg.connect(dsn)
    try:
        await _copy_all(connection, products, users, sessions)
    finally:
        await connection.close()
    tokens = TokenService(settings)
    issued = [
        tokens.issue_access(user_id=user_id, session_id=sid, token_version=0)
        for sid, user_id, *_ in sessions
    ]
    return Dataset(
        products=PRODUCTS,
        usernames=names[:USERS],
        user_tokens=issued[:USERS],
        admin_tokens=issued[USERS:],
        initial_stock={row[0]: row[5] for row in products},  # type: ignore[misc]
    )


async def _copy_all(
    connection: asyncpg.Connection,
    products: Sequence[tuple[object, ...]],
    users: Sequence[tuple[object, ...]],
    sessions: Sequence[tuple[object, ...]],
) -> None:
    await connection.copy_records_to_table(
        "product",
        records=products,
        columns=[
            "id",
            "sku",
            "name",
            "description",
            "price_cents",
            "stock",
            "is_active",
            "created_at",
            "updated_at",
        ],
    )
    await connection.copy_records_to_table(
        "user_account",
        records=users,
        columns=[
            "id",
            "username",
            "email",
            "password_hash",
            "first_name",
            "last_name",
            "is_active",
            "is_admin",
            "token_version",
            "created_at",
            "updated_at",
        ],
    )
    await connection.copy_records_to_table(
        "auth_session",
        records=sessions,
        columns=["id", "user_id", "created_at", "expires_at", "revoked_at"],
    )
    for table in ("product", "user_account"):
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT max(id) FROM {table}))"
        )
    # VACUUM too, as autovacuum would soon after a bulk load: it sets the
    # visibility map, so index-only scans (the list's counts) skip the heap.
    await connection.execute("VACUUM ANALYZE")


async def vacuum(dsn: str) -> None:
    """VACUUM ANALYZE, as autovacuum would after a burst of writes."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def migrate(dsn: str) -> None:
    upgrade_schema(sqlalchemy_url(dsn))


async def check_stock_invariant(dsn: str, initial: dict[int, int]) -> int:
    """How many products break: stock + units in live orders == initial stock."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT p.id, p.stock + COALESCE(SUM(i.quantity) FILTER ("
            "  WHERE o.status NOT IN ('cancelled', 'expired')), 0) AS accounted "
            "FROM product p LEFT JOIN order_item i ON i.product_id = p.id "
            "LEFT JOIN customer_order o ON o.id = i.order_id GROUP BY p.id"
        )
    finally:
        await connection.close()
    return sum(1 for row in rows if row["accounted"] != initial[row["id"]])


# --- read-order: one delivered order per user, for authenticated reads ------


async def seed_orders(dsn: str, data: Dataset) -> list[int]:
    """One delivered order of 1-3 products per user; its id, by user.

    `order_ids[i]` is the order of the user of `data.user_tokens[i]` (user
    `i + 1`). The orders are live (delivered, so nothing expires them), and the
    units they hold are added to `data.initial_stock`, so the stock invariant
    of `place-order` still reads "stock + units in live orders == initial".
    """
    rng = random.Random(21)
    now = datetime.now(UTC)
    orders: list[tuple[object, ...]] = []
    items: list[tuple[object, ...]] = []
    connection = await asyncpg.connect(dsn)
    try:
        catalog = {
            row["id"]: (row["sku"], row["name"], row["price_cents"])
            for row in await connection.fetch(
                "SELECT id, sku, name, price_cents FROM product"
            )
        }
        for user_id in range(1, len(data.user_tokens) + 1):
            order_id = user_id
            total = 0
            chosen = rng.sample(range(1, data.products + 1), rng.randint(1, 3))
            for product_id in chosen:
                sku, name, price = catalog[product_id]
                quantity = rng.randint(1, 3)
                total += price * quantity
                data.initial_stock[product_id] += quantity
                items.append(
                    (order_id, product_id, sku, name, quantity, price, price * quantity)
                )
            orders.append(
                (order_id, user_id, "delivered", total, "USD", None, now, now)
            )
        await connection.copy_records_to_table(
            "customer_order",
            records=orders,
            columns=[
                "id",
                "user_id",
                "status",
                "total_cents",
                "currency",
                "expires_at",
                "created_at",
                "updated_at",
            ],
        )
        await connection.copy_records_to_table(
            "order_item",
            records=items,
            columns=[
                "order_id",
                "product_id",
                "sku",
                "name",
                "quantity",
                "unit_price_cents",
                "line_total_cents",
            ],
        )
        for table in ("customer_order", "order_item"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE customer_order, order_item")
    finally:
        await connection.close()
    return [row[0] for row in orders]  # type: ignore[misc]
