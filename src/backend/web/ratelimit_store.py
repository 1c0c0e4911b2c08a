"""Host-wide rate-limit counters: one SQLite file shared by a server's workers.

Each hit is a single atomic upsert, so concurrent workers never lose a count.
Windows are fixed and keyed by wall-clock time, the one clock every process
on the host shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import sqlite3
import tempfile
import time
from pathlib import Path

import aiosqlite

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
        return cls(Path(tempfile.gettempdir()) / f"backend-ratelimit-{digest}.sqlite3")

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
    with path.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as database:
            exists = database.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'counter'"
            ).fetchone()
            if exists is None:
                database.execute("PRAGMA journal_mode=WAL")
                database.execute(_SCHEMA)
                database.commit()
