"""Prebuilt Core selects run by asyncpg itself: the hottest reads, on PostgreSQL.

SQLAlchemy's execution path around a one-row select (its compiled-cache
lookup, a `Connection` object, the asyncpg adapter's cursor, result rows)
costs more CPU than asyncpg's own fetch: measured in a loop, a checkout and a
read of a product took about 310 µs through `AsyncConnection.execute` and
140 µs here (docs/performance.md, "Reads on the driver"). A statement is
compiled here once, by the engine's own dialect, to its SQL with positional
parameters; each read checks a connection out of the engine's pool (pool
events, idle pings and metrics as for any other checkout), binds the values
through the statement's bind processors, fetches with asyncpg and applies the
columns' result processors: the rows are the values SQLAlchemy would return.

asyncpg prepares each statement once per connection, and PostgreSQL may then
settle on one generic plan for every later call. For a statement whose best
plan depends on its values (a price range matching half the catalog or a
handful of products) that plan is right for some calls and several times
slower for others, and which one a connection gets depends on its first few
calls. Such a statement carries the `PLAN_PER_CALL` execution option: it runs
as the protocol's unnamed statement, planned for the values of each call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

Processor = Callable[[Any], Any] | None
# A select of any columns.
AnySelect = Select[*tuple[Any, ...]]
_REQUIRED = object()
# The execution option of a statement to plan for each call's values (above).
PLAN_PER_CALL = "plan_per_call"


@dataclass(frozen=True, slots=True)
class CompiledRead:
    """A select as asyncpg runs it: SQL, parameters in order, column names."""

    sql: str
    parameters: tuple[tuple[str, Any, Processor], ...]  # name, default, processor
    keys: tuple[str, ...]
    processors: tuple[Processor, ...]
    plan_per_call: bool = False

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, default, process in self.parameters:
            value = params.get(name, default)
            if value is _REQUIRED:
                raise ValueError(f"no value for the parameter {name!r}")
            values.append(process(value) if process is not None else value)
        return values

    def row(self, record: Any) -> dict[str, Any]:
        return {
            key: process(value) if process is not None else value
            for key, value, process in zip(
                self.keys, record, self.processors, strict=True
            )
        }


def compile_read(statement: AnySelect, dialect: Dialect) -> CompiledRead:
    """`statement` compiled by `dialect` (a positional one: asyncpg's `$n`)."""
    compiled = statement.compile(dialect=dialect)
    if compiled.positiontup is None:
        raise ValueError(f"{dialect.name} does not take positional parameters")
    parameters = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding:
            raise ValueError(f"{name!r} expands per call; run it through SQLAlchemy")
        default = _REQUIRED if bind.required else bind.effective_value
        parameters.append((name, default, _bind_processor(bind.type, dialect)))
    columns = statement.selected_columns
    try:
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in columns
        )
    except (TypeError, KeyError) as error:  # e.g. asyncpg's NUMERIC needs its oid
        raise ValueError(
            "a column's processing depends on the row's type code; run it "
            "through SQLAlchemy"
        ) from error
    return CompiledRead(
        sql=compiled.string,
        parameters=tuple(parameters),
        # Plain str: SQLAlchemy's names are a str subclass that orjson refuses.
        keys=tuple(map(str, columns.keys())),
        processors=processors,
        plan_per_call=bool(statement.get_execution_options().get(PLAN_PER_CALL)),
    )


def _bind_processor(type_: Any, dialect: Dialect) -> Processor:
    process: Processor = type_.dialect_impl(dialect).bind_processor(dialect)
    return process


class DriverReads:
    """Runs prebuilt selects on asyncpg connections from `bind`'s pool.

    `bind` is the engine, or (in tests) one open connection whose transaction
    the reads then share. Statements are compiled on first use and kept by
    identity: pass statements built once (module level), not per call.
    """

    def __init__(self, bind: AsyncEngine | AsyncConnection) -> None:
        self._bind = bind
        self._dialect = bind.dialect
        self._compiled: dict[int, tuple[AnySelect, CompiledRead | None]] = {}

    def compiled(self, statement: AnySelect) -> CompiledRead | None:
        """The statement as asyncpg runs it; None if only SQLAlchemy can run it."""
        # Keyed by identity, holding the statement so its id is never reused.
        found = self._compiled.get(id(statement))
        if found is None:
            try:
                read: CompiledRead | None = compile_read(statement, self._dialect)
            except ValueError:
                read = None
            found = self._compiled[id(statement)] = (statement, read)
        return found[1]

    async def fetch(
        self, read: CompiledRead, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        arguments = read.arguments(params)
        if isinstance(self._bind, AsyncConnection):
            raw = await self._bind.get_raw_connection()
            records = await _fetch(raw.driver_connection, read, arguments)
            return [read.row(record) for record in records]
        # Checked out (`raw_connection`) and in inside a greenlet: the pool's
        # events (the idle ping, a reset) run SQLAlchemy's async-adapted calls.
        pooled = await self._checkout(self._bind)
        driver: Any = pooled.driver_connection
        try:
            records = await _fetch(driver, read, arguments)
        except BaseException as error:
            # Only a statement the server refused leaves the connection idle
            # and usable; a lost connection, or a read cancelled mid-way (its
            # answer still coming), must not go back to the pool.
            usable = _refused(error) and not driver.is_closed()
            await greenlet_spawn(pooled.close if usable else pooled.invalidate)
            raise
        await greenlet_spawn(pooled.close)
        return [read.row(record) for record in records]

    async def _checkout(self, engine: AsyncEngine) -> PoolProxiedConnection:
        """A pooled connection; a failure raised as `Engine.connect` raises it."""
        dbapi_error = self._dialect.loaded_dbapi.Error
        try:
            return await engine.raw_connection()
        except dbapi_error as error:
            raise DBAPIError.instance(
                None,
                None,
                error,
                dbapi_error,
                hide_parameters=True,
                connection_invalidated=self._dialect.is_disconnect(error, None, None),
                dialect=self._dialect,
            ) from error


def _refused(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and isinstance(
        error.orig, asyncpg.PostgresError
    )


async def _fetch(driver: Any, read: CompiledRead, arguments: list[Any]) -> list[Any]:
    """asyncpg's fetch, its failures raised as SQLAlchemy's (as its own reads
    raise them): a refusal keeps its SQLSTATE, anything else is a lost
    connection (`backend.db.failures` tells an outage from a bug by these)."""
    try:
        if read.plan_per_call:
            # The empty name is the unnamed statement: planned at each bind.
            unnamed = await driver.prepare(read.sql, name="")
            records: list[Any] = await unnamed.fetch(*arguments)
        else:
            records = await driver.fetch(read.sql, *arguments)
    except asyncpg.PostgresError as error:
        raise DBAPIError(read.sql, None, error, hide_parameters=True) from error
    except (asyncpg.InterfaceError, asyncpg.InternalClientError, OSError) as error:
        raise OperationalError(
            read.sql, None, error, hide_parameters=True, connection_invalidated=True
        ) from error
    return records
