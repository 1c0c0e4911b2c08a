"""Host-wide rate-limit counters: one SQLite file shared by a server's workers.

The file, its lock and SQLite's WAL files live in the private host directory
and go through the host-file policy (`host.files`): another local user could
otherwise reset or inflate the counters (switching login throttling off, or
locking an account out) and read every typed login name and address.

Each hit is a single atomic upsert, so concurrent workers never lose a count.
Windows are fixed and keyed by wall-clock time, the one clock every process
on the host shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import sqlite3
import time
from pathlib import Path

import aiosqlite

from backend.host.files import (
    check_if_present,
    open_private,
    private_directory,
    private_file,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counter (
    key TEXT PRIMARY KEY, reset_at REAL NOT NULL, count INTEGER NOT NULL
)
"""
# SET expressions see the row as it was, so both CASEs test the old window.
_HIT = """
INSERT INTO counter (key, reset_at, count) VALUES (:key, :now + :period, 1)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN reset_at <= :now THEN 1 ELSE count + 1 END,
    reset_at = CASE WHEN reset_at <= :now THEN :now + :period ELSE reset_at END
RETURNING count, reset_at
"""
_PURGE_EVERY = 1000


class HostCounter:
    """Fixed-window counters in `path`, safe across processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: aiosqlite.Connection | None = None
        self._connecting = asyncio.Lock()
        self._hits = 0

    @classmethod
    def for_database(cls, database_url: str) -> HostCounter:
        """One file per deployment: the workers of one server share it."""
        digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
        return cls(private_directory() / f"ratelimit-{digest}.sqlite3")

    async def open(self) -> None:
        """Check the files and connect now (at startup), not at the first hit."""
        await self._connect()

    async def hit(self, key: str, period: int) -> tuple[int, float]:
        connection = await self._connect()
        now = time.time()
        async with connection.execute(
            _HIT, {"key": key, "now": now, "period": period}
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None  # an upsert with RETURNING always returns its row
        self._hits += 1
        if self._hits % _PURGE_EVERY == 0:
            await connection.execute("DELETE FROM counter WHERE reset_at <= ?", (now,))
        return int(row[0]), max(float(row[1]) - now, 0.0)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _connect(self) -> aiosqlite.Connection:
        async with self._connecting:  # the first hits may arrive together
            if self._connection is None:
                await asyncio.to_thread(_prepare_file, self.path)
                # Autocommit: every statement is its own atomic transaction.
                connection = await aiosqlite.connect(self.path, isolation_level=None)
                await connection.execute("PRAGMA busy_timeout=5000")
                self._connection = connection
            return self._connection


def _prepare_file(path: Path) -> None:
    """Create the table (in WAL mode) once, whoever of the workers comes first.

    Schema changes and the journal-mode switch are not covered by SQLite's
    busy timeout (it answers "locked" at once), so they run under an OS file
    lock and only when the table is missing; later connections do no DDL.
    """
    # SQLite opens these by name and gives the WAL files the database's mode.
    private_file(path)
    for sibling in ("-wal", "-shm"):
        check_if_present(path.with_name(path.name + sibling))
    lock = open_private(path.with_suffix(".lock"))
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as database:
            exists = database.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'counter'"
            ).fetchone()
            if exists is None:
                database.execute("PRAGMA journal_mode=WAL")
                database.execute(_SCHEMA)
                database.commit()
    finally:
        os.close(lock)  # and with it the flock
