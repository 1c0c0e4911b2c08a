"""The product cache on its own: stamps, tickets, eviction, and the listener's say."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from quart import Quart

from backend import extensions
from backend.api.v1 import products as products_api
from backend.app import create_app
from backend.host.change_stamps import ChangeStamps
from backend.web import product_cache
from backend.web.product_cache import ProductCache, ProductResponse
from tests.conftest import make_settings
from tests.support.databases import statements_run
from tests.support.factories import make_product

RESPONSE = ProductResponse(b'{"id": 7}', '"etag"', is_active=True)


@pytest.fixture
def stamps(tmp_path: Path) -> ChangeStamps:
    return ChangeStamps(tmp_path / "products.stamps")


def _cache(stamps: ChangeStamps, **options: float) -> ProductCache:
    return ProductCache(
        stamps,
        max_entries=int(options.get("max_entries", 100)),
        ttl=options.get("ttl", 60.0),
    )


def _cached(cache: ProductCache, product_id: int = 7) -> ProductCache:
    cache.store(product_id, cache.ticket(product_id), RESPONSE)
    return cache


def test_a_stored_response_is_served_until_its_product_is_stamped(
    stamps: ChangeStamps,
) -> None:
    cache = _cached(_cache(stamps))
    assert cache.lookup(7) == RESPONSE
    assert cache.lookup(8) is None
    stamps.mark([8])
    assert cache.lookup(7) == RESPONSE
    stamps.mark([7])
    assert cache.lookup(7) is None
    assert len(cache) == 0


def test_a_read_that_raced_a_change_is_not_stored(stamps: ChangeStamps) -> None:
    cache = _cache(stamps)
    ticket = cache.ticket(7)
    stamps.mark([7])  # another worker commits while this one reads the database
    cache.store(7, ticket, RESPONSE)
    assert cache.lookup(7) is None

    ticket = cache.ticket(7)
    cache.evict([7])  # a notification arrives while this one reads the database
    cache.store(7, ticket, RESPONSE)
    assert cache.lookup(7) is None


def test_stamps_are_shared_between_processes(
    stamps: ChangeStamps, tmp_path: Path
) -> None:
    cache = _cached(_cache(stamps))
    script = (
        "import sys; from pathlib import Path\n"
        "from backend.host.change_stamps import ChangeStamps\n"
        "ChangeStamps(Path(sys.argv[1])).mark([7])\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "products.stamps")], check=True
    )
    assert cache.lookup(7) is None


def test_a_stamp_file_others_can_write_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shared.stamps"
    path.touch(mode=0o666)
    path.chmod(0o666)
    with pytest.raises(RuntimeError, match="not 0600"):
        ChangeStamps(path)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's clock, moved by the test alone: `now[0] += seconds`."""
    clock = [1_000.0]
    monkeypatch.setattr(
        product_cache, "time", SimpleNamespace(monotonic=lambda: clock[0])
    )
    return clock


def test_entries_expire_and_the_oldest_makes_room(
    stamps: ChangeStamps, now: list[float]
) -> None:
    cache = _cache(stamps, max_entries=2, ttl=60.0)
    for product_id in (1, 2, 3):
        _cached(cache, product_id)
    assert cache.lookup(1) is None
    now[0] += 29.9  # every entry lives at least half the TTL
    assert cache.lookup(2) == cache.lookup(3) == RESPONSE
    now[0] += 30.1
    assert cache.lookup(2) is None
    assert cache.lookup(3) is None


def test_entries_stored_together_expire_spread_over_the_ttl(
    stamps: ChangeStamps, now: list[float]
) -> None:
    cache = _cache(stamps, max_entries=100, ttl=60.0)
    for product_id in range(100):
        _cached(cache, product_id)
    now[0] += 45.0
    still_cached = sum(cache.lookup(i) is not None for i in range(100))
    assert 10 < still_cached < 90  # about half, not all at once


def test_notifications_evict_their_ids_and_garbage_clears_all(
    stamps: ChangeStamps,
) -> None:
    cache = _cache(stamps)
    for product_id in (1, 2, 3):
        _cached(cache, product_id)
    cache.on_payload("1,3")
    assert [cache.lookup(i) for i in (1, 2, 3)] == [None, RESPONSE, None]
    cache.on_payload("not ids")
    assert len(cache) == 0


def test_nothing_is_cached_while_the_listener_is_deaf(stamps: ChangeStamps) -> None:
    cache = _cached(_cache(stamps))
    ticket = cache.ticket(8)
    cache.on_deaf()
    assert cache.lookup(7) is None
    _cached(cache, 7)
    assert cache.lookup(7) is None
    cache.on_listening()
    cache.store(8, ticket, RESPONSE)  # read before the gap: maybe stale
    assert cache.lookup(8) is None
    assert _cached(cache, 7).lookup(7) == RESPONSE


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_cached_product_is_served_without_the_database(
    backend: str, fresh_database_url: Callable[[str], Awaitable[str]]
) -> None:
    app = create_app(make_settings(await fresh_database_url(backend)))
    async with app.test_app():
        database = extensions.database(app)
        async with database.session() as session:
            product = await make_product(session)
        statements = statements_run(*database.engines)
        await _until_listening(app)
        client = app.test_client()
        first = await client.get(f"/api/v1/products/{product.id}")
        queried = _product_reads(statements)
        second = await client.get(f"/api/v1/products/{product.id}")
        assert first.status_code == second.status_code == 200
        assert await first.get_data() == await second.get_data()
        assert first.headers["ETag"] == second.headers["ETag"]
        assert queried > 0
        # The second read asked nothing (the event bus's own reads run alongside).
        assert _product_reads(statements) == queried


def _product_reads(statements: list[str]) -> int:
    return sum(1 for statement in statements if "FROM product" in statement)


async def _until_listening(app: Quart) -> None:
    """On PostgreSQL the cache starts once the bus listener is connected."""
    cache = app.extensions["product_cache"]
    for _ in range(100):
        if cache.enabled:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the product cache never started")


def _no_session() -> None:
    raise AssertionError("a cache miss of GET /products/{id} opened a session")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_without_a_cache_a_read_is_one_select_and_no_session(
    backend: str,
    fresh_database_url: Callable[[str], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(await fresh_database_url(backend), product_cache_size=0)
    app = create_app(settings)
    async with app.test_app():
        database = extensions.database(app)
        async with database.session() as session:
            product = await make_product(session)
        statements = statements_run(*database.engines)
        monkeypatch.setattr(products_api, "get_session", _no_session)
        client = app.test_client()
        first = await client.get(f"/api/v1/products/{product.id}")
        second = await client.get(f"/api/v1/products/{product.id}")
        unknown = await client.get("/api/v1/products/2147483647")
    assert extensions.product_cache(app) is None
    assert first.status_code == second.status_code == 200
    assert unknown.status_code == 404
    assert await first.get_data() == await second.get_data()
    reads = [s for s in statements if "FROM product" in s]
    assert len(reads) == 3  # one select per request, nothing else
    assert "product.updated_at" in reads[0]
