"""Engines per database kind: PostgreSQL through the fair pool, SQLite in WAL mode."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from backend.config import Settings
from backend.db.pool import FairAsyncQueuePool

SQLITE_WRITE_OPTION = "sqlite_write"
# A pooled connection idle at least this long is pinged before it is handed out.
IDLE_PING_SECONDS = 5.0
# How long a SQLite writer waits for its turn at the write lock, in arrival order.
# Contention is not an outage: a storm of writers queues, each transaction short.
SQLITE_WRITE_WAIT_SECONDS = 120.0
_IDLE_SINCE = "idle_since"


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine tuned for the database behind `settings.database_url`."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings)
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        # Waiters get connections in arrival order (see backend.db.pool): no
        # request starves behind newcomers, so the p99 stays near the p50.
        poolclass=FairAsyncQueuePool,
        connect_args={
            "timeout": settings.db_connect_timeout,
            "server_settings": {
                "application_name": "backend",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "idle_in_transaction_session_timeout": str(
                    settings.db_idle_in_transaction_timeout_ms
                ),
            },
        },
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a connection before use only if it sat idle in the pool for a while.

    `pool_pre_ping` checks every checkout, which on asyncpg is three round trips
    (BEGIN, a ping, ROLLBACK): more than the query of a typical request. A busy
    connection was just proven alive by its last use; one idle long enough for a
    database restart or a dropped NAT entry to go unnoticed is pinged first. A
    connection that fails mid-use anyway makes SQLAlchemy invalidate the pool.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any
    ) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            # The pool discards this connection and checks out another.
            raise DisconnectionError("idle connection is dead") from error


def create_sqlite_read_engine(settings: Settings) -> AsyncEngine:
    """The readers' engine of a SQLite file, beside `create_engine`'s writers."""
    return _sqlite_engine(settings, writer=False)


def is_sqlite_file(engine: AsyncEngine) -> bool:
    database = engine.url.database
    return engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")


def _sqlite_engine(settings: Settings, *, writer: bool = True) -> AsyncEngine:
    """A file database gets two engines: readers, and writers taking turns.

    SQLite has one write lock. Writers that all race for it through the busy
    handler are served in no order (it polls, and whoever polls at the right
    moment wins), so under a storm one of them can wait past any busy timeout
    and fail. Instead the writer engine has one connection per process, handed
    out first come, first served by the fair pool: writers queue in the event
    loop, and the busy timeout only covers other processes. Readers (WAL) never
    wait for writers and have their own pool.
    """
    url = make_url(settings.database_url)
    options: dict[str, Any] = {}
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        if writer:
            options = {
                "poolclass": FairAsyncQueuePool,
                "pool_size": 1,
                "max_overflow": 0,
                "pool_timeout": SQLITE_WRITE_WAIT_SECONDS,
            }
    engine = create_async_engine(url, connect_args={"timeout": 30}, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that
        # upgrades from read to write later fails with SQLITE_BUSY instead of
        # waiting, and two such upgrades deadlock. Reads stay deferred.
        if connection.get_execution_options().get(SQLITE_WRITE_OPTION, True):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine
