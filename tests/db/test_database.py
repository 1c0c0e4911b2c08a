"""The database layer: per-request transactions, pool limits, SQLite tuning."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg
import pytest
from quart import Blueprint, Quart
from sqlalchemy import func, select, text

from backend import extensions
from backend.app import create_app
from backend.db import engines
from backend.db.database import Database
from backend.db.request_scope import get_session
from backend.errors import Conflict
from backend.models import Product
from tests.conftest import make_settings
from tests.support.databases import _asyncpg_dsn

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
writer = Blueprint("writer", __name__)


def _product(sku: str) -> Product:
    return Product(sku=sku, name="Probe", price_cents=1, stock=1)


@writer.post("/probe/write/<sku>/<int:status>")
async def write(sku: str, status: int) -> tuple[dict[str, str], int]:
    get_session().add(_product(sku))
    await get_session().flush()
    if status >= 400:
        raise Conflict("rolled back on purpose")
    return {"sku": sku}, status


@pytest.fixture(params=["sqlite", "postgresql"])
async def committed_app(
    request: pytest.FixtureRequest, fresh_database_url: FreshDatabase
) -> AsyncIterator[Quart]:
    """An app on its own database with real commits (no outer test transaction)."""
    settings = make_settings(
        await fresh_database_url(request.param),
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout=0.5,
    )
    app = create_app(settings)
    app.register_blueprint(writer)
    async with app.test_app():
        yield app


async def product_count(app: Quart, sku: str) -> int:
    async with extensions.database(app).session(readonly=True) as session:
        total = await session.scalar(
            select(func.count()).select_from(Product).where(Product.sku == sku)
        )
    return int(total or 0)


async def test_a_2xx_response_commits_the_request_session(committed_app: Quart) -> None:
    response = await committed_app.test_client().post("/probe/write/KEEP-1/201")
    assert response.status_code == 201
    assert await product_count(committed_app, "KEEP-1") == 1


async def test_an_error_response_rolls_the_request_session_back(
    committed_app: Quart,
) -> None:
    response = await committed_app.test_client().post("/probe/write/GONE-1/409")
    assert response.status_code == 409
    assert await product_count(committed_app, "GONE-1") == 0


async def test_a_non_2xx_success_is_not_committed_either(committed_app: Quart) -> None:
    response = await committed_app.test_client().post("/probe/write/GONE-2/302")
    assert response.status_code == 302
    assert await product_count(committed_app, "GONE-2") == 0


async def test_pool_exhaustion_is_503_not_a_hang(committed_app: Quart) -> None:
    if committed_app.extensions["settings"].is_sqlite:
        pytest.skip("the connection pool limits apply to PostgreSQL")
    engine = extensions.database(committed_app).engine
    assert engine is not None
    async with engine.connect() as held:  # the pool's only connection
        await held.execute(text("SELECT 1"))
        response = await committed_app.test_client().get("/ready")
    assert response.status_code == 503
    assert (await response.get_json())["code"] == "service_unavailable"


async def test_sqlite_connections_are_tuned(fresh_database_url: FreshDatabase) -> None:
    app = create_app(make_settings(await fresh_database_url("sqlite")))
    async with app.test_app(), extensions.database(app).session() as session:
        assert (await session.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await session.scalar(text("PRAGMA foreign_keys"))) == 1
        assert (await session.scalar(text("PRAGMA busy_timeout"))) == 5000


async def test_cors_allows_configured_origins_only(
    fresh_database_url: FreshDatabase,
) -> None:
    settings = make_settings(
        await fresh_database_url("sqlite"), cors_origins="https://shop.example"
    )
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        allowed = await client.get(
            "/health", headers={"Origin": "https://shop.example"}
        )
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Access-Control-Allow-Origin" not in other.headers
    exposed = allowed.headers["Access-Control-Expose-Headers"].lower().split(", ")
    assert sorted(exposed) == sorted(
        header.lower()
        for header in (
            "X-Request-ID",
            "ETag",
            "Retry-After",
            "Idempotent-Replayed",
            "WWW-Authenticate",
            "Location",
        )
    )


async def test_a_connection_that_died_while_idle_is_replaced_unseen(
    pg_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every checkout counts as "idle long enough" to be pinged.
    monkeypatch.setattr(engines, "IDLE_PING_SECONDS", 0.0)
    async with pg_database.session() as session:
        doomed = await session.scalar(text("SELECT pg_backend_pid()"))
    admin = await asyncpg.connect(_asyncpg_dsn(pg_database.settings.database_url))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", doomed)
    finally:
        await admin.close()
    async with pg_database.session() as session:  # no error: pinged, replaced
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
    assert pid != doomed
