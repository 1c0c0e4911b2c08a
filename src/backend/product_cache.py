"""A per-process cache of product responses, kept correct across workers and hosts.

`GET /products/{id}` is the hottest read; serving it from memory skips the
database and the serialisation. A cached response is never served after its
product changed, by two mechanisms that cover each other's gaps:

* **This host** (every worker, any database): a small file of change stamps,
  memory-mapped by every worker. A writer stamps the ids it changed as soon as
  its transaction ends, before it answers; a reader compares the stamp stored
  with an entry to the current one on every hit. So a client that changes a
  product and reads it back, from any worker of the host, sees its change.
* **Other hosts** (PostgreSQL): every worker's event bus evicts what it hears
  of. An order placed or cancelled changes stock, and its order event names
  the products; any other change NOTIFYs the ids on `product_changes`, which
  PostgreSQL delivers only on commit. The bound is that delivery, typically a
  millisecond or two after commit. While the bus's listener reconnects nothing
  is cached, and the cache is emptied once it is back.

Changes made behind the service's back (psql, another application) are seen
within `PRODUCT_CACHE_TTL` seconds: each entry lives a random half to all of
it, so that entries stored together do not expire (and hit the database)
together.

A read races a concurrent change safely: it takes a `Ticket` (the stamp and an
eviction counter) before reading the database and stores its result only if
neither moved, so a response read before a commit is never stored after it.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import random
import struct
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quart import Quart, current_app
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from backend import events
from backend.db import get_database
from backend.host_files import open_private
from backend.models import OrderEvent

NOTIFY_CHANNEL = "product_changes"
_CHANGED_KEY = "changed_product_ids"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
_STAMP = struct.Struct("=q")
# An entry lives a random share of PRODUCT_CACHE_TTL, from this one to all of it.
_SHORTEST_LIFETIME = 0.5


class ChangeStamps:
    """Host-wide change stamps: one file, mapped into every worker's memory.

    Ids share 65,536 slots; two ids in one slot only cost each other a miss.
    A stamp is a fresh random number, never an increment, so concurrent
    writers cannot lose an update and a torn read can only look like a change.
    """

    SLOTS = 1 << 16

    def __init__(self, path: Path) -> None:
        size = self.SLOTS * _STAMP.size
        descriptor = open_private(path)
        try:
            if os.fstat(descriptor).st_size < size:
                os.ftruncate(descriptor, size)  # zeros; racing workers agree
            self._map = mmap.mmap(descriptor, size)
        finally:
            os.close(descriptor)

    @classmethod
    def for_database(cls, url: URL) -> ChangeStamps:
        """The stamps of one database, shared by every process of this host."""
        key = _key(url)
        stamps = _open_stamps.get(key)
        if stamps is None:
            digest = hashlib.sha256(key.encode()).hexdigest()[:16]
            name = f"backend-products-{os.geteuid()}-{digest}.stamps"
            path = Path(tempfile.gettempdir()) / name
            stamps = _open_stamps[key] = cls(path)
        return stamps

    def current(self, product_id: int) -> int:
        stamp: int = _STAMP.unpack_from(self._map, self._offset(product_id))[0]
        return stamp

    def mark(self, product_ids: Iterable[int]) -> None:
        for product_id in product_ids:
            _STAMP.pack_into(
                self._map, self._offset(product_id), random.getrandbits(63)
            )

    def _offset(self, product_id: int) -> int:
        return (product_id % self.SLOTS) * _STAMP.size


# The stamp files this process has opened, by database; only a process that
# caches opens one, and only then do its writes need stamping.
_open_stamps: dict[str, ChangeStamps] = {}


def _key(url: URL) -> str:
    return url.render_as_string(hide_password=True)


@dataclass(frozen=True, slots=True)
class ProductResponse:
    """One product's 200 response, as sent to anyone allowed to see it."""

    body: bytes
    etag: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    response: ProductResponse
    stamp: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the cache looked like before a read of the database."""

    stamp: int
    evictions: int


class ProductCache:
    """Product responses by id, in one process; see the module docstring."""

    def __init__(
        self,
        stamps: ChangeStamps,
        *,
        max_entries: int,
        ttl: float,
        enabled: bool = True,
    ) -> None:
        self._stamps = stamps
        self._max_entries = max_entries
        self._ttl = ttl
        self._entries: dict[int, _Entry] = {}
        self._evictions = 0
        # Off while changes elsewhere could go unheard (see `on_deaf`).
        self.enabled = enabled

    def lookup(self, product_id: int) -> ProductResponse | None:
        entry = self._entries.get(product_id)
        if entry is None:
            return None
        if (
            entry.stamp != self._stamps.current(product_id)
            or entry.expires_at <= time.monotonic()
        ):
            self._entries.pop(product_id, None)
            return None
        return entry.response

    def ticket(self, product_id: int) -> Ticket:
        """Take before reading the database; pass to `store` with what was read."""
        return Ticket(self._stamps.current(product_id), self._evictions)

    def store(self, product_id: int, ticket: Ticket, response: ProductResponse) -> None:
        """Keep a response read after `ticket`, unless something changed since."""
        if not self.enabled or ticket.evictions != self._evictions:
            return
        if ticket.stamp != self._stamps.current(product_id):
            return
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest entry
        lifetime = self._ttl * random.uniform(_SHORTEST_LIFETIME, 1.0)
        self._entries[product_id] = _Entry(
            response, ticket.stamp, time.monotonic() + lifetime
        )

    def evict(self, product_ids: Iterable[int]) -> None:
        self._evictions += 1
        for product_id in product_ids:
            self._entries.pop(product_id, None)

    # The PostgreSQL event bus drives these (see `events.BusListener`).
    channel = NOTIFY_CHANNEL

    def on_order_events(self, rows: Sequence[OrderEvent]) -> None:
        """Orders placed, cancelled or expired (on any host) changed stock."""
        self.evict(
            item["product_id"]
            for row in rows
            if row.previous_status is None or row.status in ("cancelled", "expired")
            for item in row.order_snapshot.get("items", ())
        )

    def on_payload(self, payload: str) -> None:
        """A `product_changes` NOTIFY: its payload is comma-separated ids."""
        try:
            ids = [int(part) for part in payload.split(",")]
        except ValueError:
            self.clear()  # not a payload we wrote: be safe
            return
        self.evict(ids)

    def on_listening(self) -> None:
        """(Re)connected: what was read while deaf may be stale, so start clean."""
        self.clear()
        self.enabled = True

    def on_deaf(self) -> None:
        """Other hosts' changes may go unheard: cache nothing until listening."""
        self.enabled = False
        self.clear()

    def clear(self) -> None:
        self._evictions += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


async def products_changed(
    session: AsyncSession, product_ids: Iterable[int], *, by_order: bool = False
) -> None:
    """Record that this transaction changes these products; call before commit.

    On every database they are stamped on this host once the transaction ends.
    Other hosts hear of it on PostgreSQL: from the transaction's order event
    when `by_order` (placing or cancelling an order), else from a NOTIFY of the
    ids in the transaction (sent on commit only).
    """
    ids = sorted(set(product_ids))
    if not ids:
        return
    session.info.setdefault(_CHANGED_KEY, set()).update(ids)
    if not by_order and session.get_bind().dialect.name == "postgresql":
        payload = ",".join(map(str, ids))
        await session.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": payload})


@event.listens_for(Session, "after_commit")
def _stamp_committed(session: Session) -> None:
    _stamp(session)


@event.listens_for(Session, "after_soft_rollback")
def _stamp_rolled_back(session: Session, previous: Any) -> None:
    # A commit that failed may still have happened on the server: stamping a
    # change that did not happen costs a cache miss, missing one a stale read.
    if previous.parent is None:
        _stamp(session)


def _stamp(session: Session) -> None:
    changed: set[int] | None = session.info.pop(_CHANGED_KEY, None)
    if not changed:
        return
    stamps = _open_stamps.get(_key(session.get_bind().engine.url))
    if stamps is not None:
        stamps.mark(changed)


def init_app(app: Quart) -> None:
    """Cache while serving, if configured and the app has a real engine."""

    async def start() -> None:
        settings = app.extensions["settings"]
        engine = get_database(app).engine
        # No engine: tests bound one connection whose transaction never commits.
        if engine is None or settings.product_cache_size == 0:
            return
        # On PostgreSQL other hosts may write too: cache only while their
        # notifications can be heard, from the bus listener's first connection.
        cache = ProductCache(
            ChangeStamps.for_database(engine.url),
            max_entries=settings.product_cache_size,
            ttl=settings.product_cache_ttl,
            enabled=settings.is_sqlite,
        )
        if not settings.is_sqlite:
            events.listen(app, cache)
        app.extensions["product_cache"] = cache

    app.before_serving(start)


def get_product_cache() -> ProductCache | None:
    cache: ProductCache | None = current_app.extensions.get("product_cache")
    return cache
