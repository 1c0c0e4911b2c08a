"""Engine, sessions, and the one-session-per-request scope.

A request gets its session lazily from `get_session()`. `after_request` commits
it when the response is 2xx and rolls it back otherwise; teardown always closes
it. Websocket handlers and background tasks open their own short sessions with
`Database.session()` instead; a session is never shared between tasks.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from quart import Quart, Response, current_app, g, request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from backend.config import Settings
from backend.db.pool import FairAsyncQueuePool

SQLITE_WRITE_OPTION = "sqlite_write"
# A pooled connection idle at least this long is pinged before it is handed out.
IDLE_PING_SECONDS = 5.0
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


def _sqlite_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.database_url)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})

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


class Database:
    """The engine and session factory of one app; lives on `app.extensions`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._read_sessions: async_sessionmaker[AsyncSession] | None = None

    def init_app(self, app: Quart) -> None:
        app.extensions["database"] = self
        app.before_serving(self.connect)
        app.after_serving(self.dispose)
        app.after_request(_finish_request_session)
        app.teardown_appcontext(_close_request_session)

    async def connect(self) -> None:
        if self._sessions is None:  # tests may have bound a connection already
            self.bind(create_engine(self.settings))

    def bind(self, bind: AsyncEngine | AsyncConnection) -> None:
        """Point sessions at an engine, or (in tests) at one open connection."""
        if isinstance(bind, AsyncEngine):
            self.engine = bind
        extra: dict[str, Any] = {}
        if isinstance(bind, AsyncConnection):
            extra["join_transaction_mode"] = "create_savepoint"
        self._sessions = async_sessionmaker(bind, expire_on_commit=False, **extra)
        readonly = _read_only(bind, sqlite=self.settings.is_sqlite)
        self._read_sessions = async_sessionmaker(
            readonly, expire_on_commit=False, **extra
        )

    async def dispose(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    def new_session(self, *, readonly: bool = False) -> AsyncSession:
        factory = self._read_sessions if readonly else self._sessions
        if factory is None:
            raise RuntimeError("the database is not connected; is the app serving?")
        return factory()

    @asynccontextmanager
    async def session(self, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
        """A short unit of work outside a request: commit on success, else roll back."""
        async with self.new_session(readonly=readonly) as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()


def _read_only(
    bind: AsyncEngine | AsyncConnection, *, sqlite: bool
) -> AsyncEngine | AsyncConnection:
    """Where read-only sessions run: no write lock on SQLite, no BEGIN on PostgreSQL.

    A PostgreSQL read in a transaction costs BEGIN and COMMIT round trips on
    top of its SELECTs; under READ COMMITTED every statement takes its own
    snapshot either way, so autocommit reads see exactly the same data.
    """
    if not isinstance(bind, AsyncEngine):  # tests: one connection, one transaction
        return bind
    if sqlite:
        return bind.execution_options(**{SQLITE_WRITE_OPTION: False})
    return bind.execution_options(isolation_level="AUTOCOMMIT")


async def release_connection(session: AsyncSession) -> None:
    """End the session's transaction before a slow wait, returning its connection.

    A request that holds a pooled connection (and on SQLite the database's
    write lock) through a password hash makes everyone else wait behind a
    login storm. Call it only before the request has written anything: what it
    read stays loaded (sessions do not expire on commit), and its next
    statement begins a new transaction.
    """
    if session.in_transaction():
        await session.commit()


def get_database(app: Quart | None = None) -> Database:
    database: Database = (app or current_app).extensions["database"]
    return database


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session() -> AsyncSession:
    """The current request's session, created on first use."""
    session: AsyncSession | None = g.get("db_session")
    if session is None:
        session = get_database().new_session(readonly=request.method in _SAFE_METHODS)
        g.db_session = session
    return session


async def _finish_request_session(response: Response) -> Response:
    session: AsyncSession | None = g.get("db_session")
    if session is not None:
        if 200 <= response.status_code < 300:
            await session.commit()
        else:
            await session.rollback()
    return response


async def _close_request_session(_exc: BaseException | None) -> None:
    session: AsyncSession | None = g.pop("db_session", None)
    if session is not None:
        await session.close()
