"""Fan-out of committed order events to the subscribers of this process."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from backend.db import commit_hooks
from backend.models import OrderEvent
from backend.services.order_events import EventRow, encode_event

CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN_LATER = 1013


class Frame(NamedTuple):
    """One event as every transport sends it, encoded once for all subscribers."""

    id: int
    text: str  # a websocket text frame: the event's JSON
    sse: bytes  # a Server-Sent Events message: id, event type, data


def encode_frame(row: EventRow) -> Frame:
    text = encode_event(row)
    sse = f"id: {row.id}\nevent: {row.type}\ndata: {text}\n\n".encode()
    return Frame(row.id, text, sse)


class Subscriber:
    """One connection's view of the stream: a bounded queue and a close signal.

    The close code is a websocket one; a Server-Sent Events stream just ends.
    """

    def __init__(self, *, user_id: int, is_admin: bool, queue_size: int) -> None:
        self.user_id = user_id
        self.is_admin = is_admin
        self.queue: asyncio.Queue[Frame] = asyncio.Queue(queue_size)
        self.close_code: int | None = None
        self.closing = asyncio.Event()

    def offer(self, frame: Frame) -> None:
        """Queue without waiting: a full queue means the client fell behind."""
        if self.close_code is not None:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(CLOSE_TRY_AGAIN_LATER)

    def close(self, code: int) -> None:
        """Ask the connection to close with `code`; the first reason wins."""
        if self.close_code is None:
            self.close_code = code
            self.closing.set()


class Broker:
    """The subscribers of one process, indexed so fan-out skips invisible ones."""

    def __init__(self) -> None:
        self._by_user: defaultdict[int, set[Subscriber]] = defaultdict(set)
        self._admins: set[Subscriber] = set()
        self._open_per_user: Counter[int] = Counter()

    def admit(self, subscriber: Subscriber, *, per_user_limit: int) -> bool:
        """Add `subscriber` unless its user already holds `per_user_limit`
        connections (websockets and event streams alike)."""
        if not self.has_room(subscriber.user_id, per_user_limit=per_user_limit):
            return False
        self.add(subscriber)
        return True

    def has_room(self, user_id: int, *, per_user_limit: int) -> bool:
        return self._open_per_user[user_id] < per_user_limit

    def add(self, subscriber: Subscriber) -> None:
        self._open_per_user[subscriber.user_id] += 1
        if subscriber.is_admin:
            self._admins.add(subscriber)
        else:
            self._by_user[subscriber.user_id].add(subscriber)

    def discard(self, subscriber: Subscriber) -> None:
        if subscriber in self._admins or subscriber in self._by_user.get(
            subscriber.user_id, ()
        ):
            self._open_per_user[subscriber.user_id] -= 1
            if not self._open_per_user[subscriber.user_id]:
                del self._open_per_user[subscriber.user_id]
        self._admins.discard(subscriber)
        owners = self._by_user.get(subscriber.user_id)
        if owners is not None:
            owners.discard(subscriber)
            if not owners:
                del self._by_user[subscriber.user_id]

    def __len__(self) -> int:
        return len(self._admins) + sum(len(s) for s in self._by_user.values())

    def publish(self, rows: Iterable[EventRow]) -> None:
        """Deliver events in the given (id) order; each is encoded once."""
        for row in rows:
            targets = self._admins | self._by_user.get(row.user_id, set())
            if targets:
                frame = encode_frame(row)
                for subscriber in targets:
                    subscriber.offer(frame)

    def close_all(self, code: int) -> None:
        for subscriber in [
            *self._admins,
            *(s for g in self._by_user.values() for s in g),
        ]:
            subscriber.close(code)


class EventBus:
    """Start, stop and a broker; backends differ only in how events arrive."""

    def __init__(self) -> None:
        self.broker = Broker()
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        """Begin delivering events committed from now on."""

    async def stop(self) -> None:
        """Close every subscriber with 1001 and stop delivering."""
        self.broker.close_all(CLOSE_GOING_AWAY)

    def on_commit(self, rows: list[OrderEvent]) -> None:
        """This process committed `rows` (heard only while `hear_local_commits`)."""

    def hear_local_commits(self) -> None:
        """Have `on_commit` called for every commit of this process, until `stop`."""
        self._unsubscribe = commit_hooks.on_order_events_committed(self.on_commit)

    def stop_hearing_local_commits(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


class InMemoryBus(EventBus):
    """One process, nothing else: events come straight from the committing session.

    Used when tests bind every session to one connection whose transaction
    never truly commits, so there is no table state another reader could see.
    """

    async def start(self) -> None:
        self.hear_local_commits()

    async def stop(self) -> None:
        self.stop_hearing_local_commits()
        await super().stop()

    def on_commit(self, rows: list[OrderEvent]) -> None:
        self.broker.publish(rows)
