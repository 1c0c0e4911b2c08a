"""CLI commands run as a user would run them: `quart --app backend.asgi:app ...`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import func, select

from backend.config import Settings
from backend.db.engines import create_engine
from backend.models import Product, User
from tests.support.server import PROJECT_ROOT

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


def quart(
    database_url: str, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "DEMO_PASSWORD": "Demo-Pass-123"}
    return subprocess.run(
        [sys.executable, "-m", "quart", "--app", "backend.asgi:app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def count(url: str, model: type[User] | type[Product]) -> int:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(model))
    finally:
        await engine.dispose()
    return int(total or 0)


async def test_seed_db_is_idempotent(fresh_database_url: FreshDatabase) -> None:
    url = await fresh_database_url("sqlite")
    first = quart(url, "seed-db")
    assert first.returncode == 0, first.stderr
    users, products = await count(url, User), await count(url, Product)
    assert users >= 3
    assert products >= 20
    second = quart(url, "seed-db")
    assert second.returncode == 0, second.stderr
    assert (await count(url, User), await count(url, Product)) == (users, products)


async def test_init_db_upgrades_an_empty_database(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    result = quart(url, "init-db")
    assert result.returncode == 0, result.stderr
    assert await count(url, Product) == 0
