"""The fair pool queue: waiters are served in arrival order, nobody barges in."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.util.queue import Empty

from backend.db.pool import FairAsyncQueue


async def test_returned_items_go_to_waiters_in_arrival_order() -> None:
    queue: FairAsyncQueue[str] = FairAsyncQueue(maxsize=2)
    waiters = [asyncio.create_task(queue.wait_for_item(5)) for _ in range(3)]
    await asyncio.sleep(0)

    for item in ("a", "b", "c"):
        queue.put_nowait(item)

    assert await asyncio.gather(*waiters) == ["a", "b", "c"]


async def test_a_newcomer_cannot_take_an_item_handed_to_a_waiter() -> None:
    queue: FairAsyncQueue[str] = FairAsyncQueue(maxsize=2)
    waiter = asyncio.create_task(queue.wait_for_item(5))
    await asyncio.sleep(0)

    queue.put_nowait("conn")

    with pytest.raises(Empty):
        queue.get_nowait()
    assert await waiter == "conn"


async def test_a_waiter_that_gives_up_gets_empty_and_leaves_the_line() -> None:
    queue: FairAsyncQueue[str] = FairAsyncQueue(maxsize=2)

    with pytest.raises(Empty):
        await queue.wait_for_item(0.01)
    queue.put_nowait("conn")

    assert queue.get_nowait() == "conn"


async def test_a_waiter_cancelled_after_a_hand_over_never_loses_the_item() -> None:
    queue: FairAsyncQueue[str] = FairAsyncQueue(maxsize=2)
    first = asyncio.create_task(queue.wait_for_item(5))
    second = asyncio.create_task(queue.wait_for_item(5))
    await asyncio.sleep(0)

    queue.put_nowait("conn")  # handed to `first`, which is cancelled before it runs
    first.cancel()
    queue.put_nowait("spare")
    outcomes = await asyncio.gather(first, second, return_exceptions=True)

    received = [o for o in outcomes if isinstance(o, str)] + list(queue._items)
    assert "conn" in received
