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

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from quart import Quart

from backend import events, extensions
from backend.db import commit_hooks
from backend.host.change_stamps import ChangeStamps, mark_changed
from backend.services.order_events import EventRow
from backend.web.notified_eviction import NotifiedEviction

NOTIFY_CHANNEL = commit_hooks.PRODUCT_CHANGES_CHANNEL
# An entry lives a random share of PRODUCT_CACHE_TTL, from this one to all of it.
_SHORTEST_LIFETIME = 0.5


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


class ProductCache(NotifiedEviction):
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

    def on_order_events(self, rows: Sequence[EventRow]) -> None:
        """Orders placed, cancelled or expired (on any host) changed stock."""
        self.evict(
            item["product_id"]
            for row in rows
            if row.previous_status is None or row.status in ("cancelled", "expired")
            for item in row.order_snapshot.get("items", ())
        )

    def clear(self) -> None:
        self._evictions += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Quart) -> None:
    """Cache while serving, if configured and the app has a real engine."""

    async def start() -> None:
        settings = extensions.settings(app)
        engine = extensions.database(app).engine
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
        app.extensions[extensions.PRODUCT_CACHE] = cache
        # This process's writes stamp the host's file as their transactions end.
        unsubscribe.append(commit_hooks.on_products_changed(mark_changed))

    async def stop() -> None:
        while unsubscribe:
            unsubscribe.pop()()

    unsubscribe: list[Callable[[], None]] = []
    app.before_serving(start)
    app.after_serving(stop)
