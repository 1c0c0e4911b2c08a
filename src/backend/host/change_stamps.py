"""Host-wide change stamps: one file per database and kind, mapped into every worker.

A writer stamps the ids it changed as soon as its transaction ends, before it
answers (`mark_changed`, a commit-hook reaction); a reader of a per-worker
cache compares the stamp stored with an entry to the current one on every hit.
Kinds: `products` (the product cache, by product id) and `logins` (the login
cache, by user id).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import random
import struct
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import URL

from backend.host.files import open_private, private_directory

_STAMP = struct.Struct("=q")


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
    def for_database(cls, url: URL, kind: str = "products") -> ChangeStamps:
        """The stamps of one database, shared by every process of this host."""
        key = _key(url, kind)
        stamps = _open_stamps.get(key)
        if stamps is None:
            digest = hashlib.sha256(_key(url).encode()).hexdigest()[:16]
            path = private_directory() / f"{kind}-{digest}.stamps"
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


def _key(url: URL, kind: str = "") -> str:
    database = url.render_as_string(hide_password=True)
    return f"{kind}:{database}" if kind else database


def mark_changed(url: URL, product_ids: Iterable[int]) -> None:
    """Stamp `product_ids` of the database at `url`, if this process caches it."""
    mark_changed_of("products", url, product_ids)


def mark_changed_of(kind: str, url: URL, ids: Iterable[int]) -> None:
    """Stamp `ids` of one kind in the database at `url`, if this process caches it."""
    stamps = _open_stamps.get(_key(url, kind))
    if stamps is not None:
        stamps.mark(ids)
