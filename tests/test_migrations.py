"""Migrations: models and migrations agree, and every revision is reversible."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from backend.config import Settings
from backend.db.engines import create_engine
from tests.support.server import PROJECT_ROOT

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["skip_logging"] = True
    return config


async def table_names(url: str) -> set[str]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_models_and_migrations_do_not_drift(
    fresh_database_url: FreshDatabase, backend: str
) -> None:
    url = await fresh_database_url(backend)

    def check() -> None:
        with warnings.catch_warnings():
            # SQLite cannot reflect expression indexes; PostgreSQL compares them.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            command.check(alembic_config(url))

    await asyncio.to_thread(check)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_downgrade_to_base_and_upgrade_again(
    fresh_database_url: FreshDatabase, backend: str
) -> None:
    url = await fresh_database_url(backend)
    assert {
        "user_account",
        "product",
        "customer_order",
        "order_event",
    } <= await table_names(url)
    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")
    assert await table_names(url) == set()
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    assert "order_event" in await table_names(url)
