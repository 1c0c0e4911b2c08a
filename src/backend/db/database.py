"""`Database`: the engine and session factories of one app, and short sessions.

A request gets its session from `backend.db.request_scope`; websocket handlers
and background tasks open their own short sessions with `Database.session()`
instead; a session is never shared between tasks. A read that is one prebuilt
Core statement and needs no unit of work may run on `Database.read_connection()`
instead of a session, or for the hottest reads through `Database.read`.
Nothing here knows Quart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from backend.config import Settings
from backend.db.driver_reads import AnySelect, DriverReads
from backend.db.engines import (
    SQLITE_WRITE_OPTION,
    create_engine,
    create_sqlite_read_engine,
    is_sqlite_file,
)


class Database:
    """The engine and session factories of one app (see `request_scope.init_app`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._read_sessions: async_sessionmaker[AsyncSession] | None = None
        self._read_engine: AsyncEngine | None = None
        self._read_bind: AsyncEngine | AsyncConnection | None = None
        self._driver_reads: DriverReads | None = None

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
        if isinstance(bind, AsyncEngine) and is_sqlite_file(bind):
            # Readers off the writers' single connection (see engines._sqlite_engine).
            self._read_engine = create_sqlite_read_engine(self.settings)
            readonly = _read_only(self._read_engine, sqlite=True)
        self._read_bind = readonly
        asyncpg = bind.dialect.driver == "asyncpg"
        self._driver_reads = DriverReads(bind) if asyncpg else None
        self._read_sessions = async_sessionmaker(
            readonly, expire_on_commit=False, **extra
        )

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine this database runs statements on (SQLite reads apart)."""
        return tuple(e for e in (self.engine, self._read_engine) if e is not None)

    async def dispose(self) -> None:
        if self._read_engine is not None:
            await self._read_engine.dispose()
            self._read_engine = None
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    def new_session(self, *, readonly: bool = False) -> AsyncSession:
        factory = self._read_sessions if readonly else self._sessions
        if factory is None:
            raise RuntimeError("the database is not connected; is the app serving?")
        return factory()

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection where read-only sessions run, for Core reads.

        For reads that need no unit of work: a session costs more CPU than
        the statement it runs (its transaction bookkeeping, the ORM execute
        path, commit and close). `read` runs here on SQLite; the event bus
        reads its Core rows here. On PostgreSQL this connection is in
        autocommit; on SQLite it reads in a deferred transaction, rolled back
        on return.
        """
        bind = self._read_bind
        if bind is None:
            raise RuntimeError("the database is not connected; is the app serving?")
        if isinstance(bind, AsyncConnection):  # tests: the one bound connection
            yield bind
            return
        async with bind.connect() as connection:
            yield connection

    async def read(
        self, statement: AnySelect, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The rows of one prebuilt select, as dicts keyed by column name.

        The hottest reads (a product, a catalog page, an order, a login check)
        come here: on PostgreSQL asyncpg runs the statement itself
        (`driver_reads`), in autocommit like every read connection; elsewhere
        (and for the rare statement whose results only SQLAlchemy can
        convert) on `read_connection`. Pass a statement built once, with bind
        parameters, never per call.
        """
        reads = self._driver_reads
        if reads is not None and (compiled := reads.compiled(statement)) is not None:
            return await reads.fetch(compiled, params)
        async with self.read_connection() as connection:
            result = await connection.execute(statement, params)
            # Plain str: SQLAlchemy's names are a str subclass orjson refuses.
            keys = list(map(str, result.keys()))
            return [dict(zip(keys, row, strict=True)) for row in result]

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
