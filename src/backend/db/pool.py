"""A connection pool that serves waiting requests first come, first served.

SQLAlchemy's asyncio pool queues waiters on an `asyncio.Queue`. A returned
connection wakes the oldest waiter, but before that waiter runs, a request that
has just arrived can take the connection without waiting at all; the woken
waiter finds the queue empty and queues again *at the back*. Under load some
requests lose that race over and over: throughput is fine, the p99 is seconds.

`FairAsyncQueue` hands a returned connection straight to the oldest waiter, and
a newcomer never takes a connection while anyone is waiting: admission to the
database is in arrival order, and a wait is bounded by the pool's turnover.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

from backend import metrics

T = TypeVar("T")


class FairAsyncQueue(QueueCommon[T]):
    """The pool's idle connections, plus a FIFO of requests waiting for one."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque[T] = deque()
        self._waiters: deque[asyncio.Future[T]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)  # handed over: nobody can barge in
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool only ever returns without blocking

    def get_nowait(self) -> T:
        # Items sit here only while nobody waits, so taking one is always fair.
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if self._items or not block:
            return self.get_nowait()
        item: T = await_(self.wait_for_item(timeout))
        return item

    async def wait_for_item(self, patience: float | None) -> T:
        """Queue at the back and wait for a hand-over; Empty after `patience` s."""
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        metrics.pool_waiters(1)
        try:
            async with asyncio.timeout(patience):
                return await waiter
        except BaseException as error:
            # Cancelled or timed out just after a hand-over: pass the
            # connection on, not leak it.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            if isinstance(error, TimeoutError):
                raise Empty() from None
            raise
        finally:
            metrics.pool_waiters(-1)
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    """`AsyncAdaptedQueuePool` with first-come-first-served waiting."""

    _queue_class: Any = FairAsyncQueue
