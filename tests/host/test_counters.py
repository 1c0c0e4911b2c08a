"""Host-wide counters: workers of one server spend one budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

from backend.host.counters import HostCounter


async def test_two_workers_share_one_budget(tmp_path: Path) -> None:
    first, second = (
        HostCounter(tmp_path / "c.sqlite3"),
        HostCounter(tmp_path / "c.sqlite3"),
    )
    try:
        counts = [
            (await (first if n % 2 else second).hit("login:1.2.3.4", 60))[0]
            for n in range(6)
        ]
    finally:
        await first.close()
        await second.close()
    assert counts == [1, 2, 3, 4, 5, 6]


async def test_concurrent_hits_are_never_lost(tmp_path: Path) -> None:
    counters = [HostCounter(tmp_path / "c.sqlite3") for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(counter.hit("k", 60) for counter in counters for _ in range(25))
        )
    finally:
        for counter in counters:
            await counter.close()
    assert sorted(count for count, _ in results) == list(range(1, 101))


async def test_a_window_resets_after_its_period(tmp_path: Path) -> None:
    counter = HostCounter(tmp_path / "c.sqlite3")
    try:
        assert (await counter.hit("k", 1))[0] == 1
        count, reset_in = await counter.hit("k", 1)
        assert count == 2
        assert 0 < reset_in <= 1
        await asyncio.sleep(reset_in + 0.05)
        assert (await counter.hit("k", 1))[0] == 1
    finally:
        await counter.close()


def test_each_deployment_gets_its_own_file() -> None:
    one = HostCounter.for_database("postgresql+asyncpg://a/shop")
    other = HostCounter.for_database("postgresql+asyncpg://a/staging")
    assert one.path != other.path
    assert one.path == HostCounter.for_database("postgresql+asyncpg://a/shop").path
