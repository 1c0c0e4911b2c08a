"""Fixtures: databases per backend, the app with per-test rollback, live servers.

Every test that takes `app` or `client` runs once on SQLite and once on
PostgreSQL, inside an outer transaction that is rolled back afterwards (the
app's sessions join it through savepoints). Tests that need real concurrency or
real commits use `live_server`, which starts Hypercorn on a fresh database.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend import extensions
from backend.app import create_app
from backend.config import Settings
from backend.db.database import Database
from backend.db.engines import create_engine
from tests.support import databases
from tests.support.server import TEST_SECRET, LiveServer

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
async def postgres_available() -> bool:
    reason = await databases.postgres_unavailable_reason()
    if reason is None:
        return True
    if databases.postgres_required():
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
    return False


@pytest.fixture
async def fresh_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_available: bool
) -> AsyncIterator[Callable[[str], object]]:
    """A factory: `await fresh_database_url("postgresql")` makes a migrated database."""
    created: list[str] = []

    async def make(backend: str) -> str:
        if backend == "postgresql":
            if not postgres_available:
                pytest.skip("PostgreSQL is not reachable (set TEST_DATABASE_URL)")
            url = await databases.create_postgres_database()
            created.append(url)
        else:
            url = databases.sqlite_url(tmp_path)
        await databases.migrate(url)
        return url

    yield make
    for url in created:
        await databases.drop_postgres_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_available: bool,
) -> AsyncIterator[str]:
    """One migrated database per backend, shared by the in-process tests."""
    backend: str = request.param
    if backend == "postgresql":
        if not postgres_available:
            pytest.skip("PostgreSQL is not reachable (set TEST_DATABASE_URL)")
        url = await databases.create_postgres_database()
    else:
        url = databases.sqlite_url(tmp_path_factory.mktemp("sqlite"))
    await databases.migrate(url)
    yield url
    if backend == "postgresql":
        await databases.drop_postgres_database(url)


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_env": "testing",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "jwt_secret_key": TEST_SECRET + "-jwt",
        # The suite runs on several processes at once: a loaded machine must
        # not turn a fixture's password hash into a 503 (the wait is tested
        # where it is the subject).
        "password_hash_wait": 30.0,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The test's outer transaction, rolled back whatever the test did."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def app(settings: Settings, connection: AsyncConnection) -> AsyncIterator[Quart]:
    app = create_app(settings)
    extensions.database(app).bind(connection)
    async with app.test_app():
        yield app


@pytest.fixture
def client(app: Quart) -> Client:
    return app.test_client()


@pytest.fixture
async def pg_database(
    fresh_database_url: Callable[[str], Awaitable[str]],
) -> AsyncIterator[Database]:
    """A connected `Database` on a fresh PostgreSQL database, with real commits."""
    database = Database(make_settings(await fresh_database_url("postgresql")))
    await database.connect()
    yield database
    await database.dispose()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """A factory: `live_server(url, workers=2)` runs Hypercorn until teardown."""
    servers: list[LiveServer] = []

    def start(database_url: str, **options: object) -> LiveServer:
        server = LiveServer(database_url, **options)  # type: ignore[arg-type]
        servers.append(server)
        return server.start(tmp_path)

    yield start
    for server in servers:
        server.stop()
        # Shown by pytest only when the test failed: the server's side of it.
        sys.stderr.write(f"--- hypercorn on port {server.port} ---\n{server.logs()}")
