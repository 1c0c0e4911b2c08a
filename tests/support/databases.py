"""Fresh, migrated test databases on SQLite files and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
import weakref
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.cli import upgrade_schema

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def statements_run(*engines: AsyncEngine | None) -> list[str]:
    """The SQL the `engines` run from now on, appended as it runs.

    On PostgreSQL `Database.read` runs its selects on asyncpg directly, past
    SQLAlchemy's events: asyncpg's query log, on each connection checked out,
    sees those (and not SQLAlchemy's prepared statements, counted above).
    """
    assert engines, "no engine given"
    statements: list[str] = []
    logging: weakref.WeakSet[Any] = weakref.WeakSet()

    def log_driver_queries(dbapi_connection: Any, *_: object) -> None:
        driver = dbapi_connection.driver_connection
        if driver not in logging:
            logging.add(driver)
            driver.add_query_logger(lambda record: statements.append(record.query))

    for engine in engines:
        assert engine is not None, "the database is not connected"
        event.listen(
            engine.sync_engine,
            "before_cursor_execute",
            lambda *args: statements.append(args[2]),
        )
        if engine.dialect.driver == "asyncpg":
            event.listen(engine.sync_engine, "checkout", log_driver_queries)
    return statements


def admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL)


def postgres_required() -> bool:
    return os.environ.get("REQUIRE_POSTGRES") == "1"


def _asyncpg_dsn(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


async def postgres_unavailable_reason() -> str | None:
    """None when the test server answers, else why it does not."""
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(admin_url()), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL at {admin_url()} is unreachable: {error!r}"
    await connection.close()
    return None


async def create_postgres_database() -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url()))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(admin_url()).set(database=name)
    return url.render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url()))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / f'test_{uuid.uuid4().hex[:12]}.sqlite3'}"


async def migrate(url: str) -> None:
    """`alembic upgrade head`; Alembic runs its own event loop, so in a thread."""
    await asyncio.to_thread(upgrade_schema, url)
