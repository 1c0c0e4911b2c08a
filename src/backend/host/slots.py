"""A counting lock shared by every process of this user on this host."""

from __future__ import annotations

import fcntl
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from backend.host.files import open_private, private_directory


class HostSlots:
    """At most `len(paths)` holders at once, across threads and processes.

    Slot i is an exclusive `flock` on file i. The kernel drops it when its
    holder dies, so a crashed worker never keeps a slot. `flock` cannot wait
    with a timeout, so a taker polls; that suits holds much longer than
    `POLL_SECONDS` (an Argon2 hash takes tens of milliseconds), and only a
    taker that finds every slot busy sleeps at all.
    """

    POLL_SECONDS = 0.005

    def __init__(self, paths: Sequence[Path]) -> None:
        if not paths:
            raise ValueError("at least one slot is needed")
        self._paths = list(paths)
        # Checked now, so a file that fails the host-file policy stops the
        # start instead of failing a login (each thread opens its own later).
        for path in self._paths:
            os.close(open_private(path))
        # A flock belongs to an open file, so each thread opens its own: two
        # threads of one process then exclude each other like two processes.
        self._local = threading.local()
        self._opened: list[int] = []
        self._opened_lock = threading.Lock()

    @classmethod
    def named(cls, name: str, count: int) -> HostSlots:
        directory = private_directory()
        return cls([directory / f"{name}-{i}.lock" for i in range(count)])

    @contextmanager
    def hold(self, deadline: float) -> Iterator[None]:
        """Hold a slot; `TimeoutError` if none is free by `deadline` (monotonic)."""
        descriptor = self._take(deadline)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)

    def _take(self, deadline: float) -> int:
        descriptors = self._descriptors()
        first = random.randrange(len(descriptors))  # spread takers over slots
        order = descriptors[first:] + descriptors[:first]
        while True:
            for descriptor in order:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                return descriptor
            if time.monotonic() >= deadline:
                raise TimeoutError("every host slot stayed busy")
            time.sleep(self.POLL_SECONDS)

    def close(self) -> None:
        """Close every thread's files; call once no thread holds or takes a slot."""
        with self._opened_lock:
            for descriptor in self._opened:
                os.close(descriptor)
            self._opened.clear()

    def _descriptors(self) -> list[int]:
        descriptors: list[int] | None = getattr(self._local, "descriptors", None)
        if descriptors is None:
            descriptors = self._local.descriptors = [
                open_private(path) for path in self._paths
            ]
            with self._opened_lock:
                self._opened.extend(descriptors)
        return descriptors
