"""What the per-process caches share as listeners of the PostgreSQL event bus.

Each cache (`web.product_cache`, `web.login_cache`) is kept exact across hosts
by a NOTIFY channel whose payload is the comma-separated ids whose entries
changed, and caches nothing while the bus's listener is reconnecting, since
other hosts' changes may then go unheard (`events.BusListener`).
"""

from __future__ import annotations

from collections.abc import Iterable


class NotifiedEviction:
    """`on_payload`, `on_listening` and `on_deaf` for a cache of entries by id."""

    enabled: bool

    def evict(self, ids: Iterable[int]) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def on_payload(self, payload: str) -> None:
        """A NOTIFY of this cache's channel: the ids that changed."""
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
        """Changes elsewhere may go unheard: cache nothing until listening."""
        self.enabled = False
        self.clear()
