"""`quart seed-db` is refused in production (it creates a known admin password)."""

from __future__ import annotations

import os
import subprocess
import sys

from backend.models import User
from tests.jobs.conftest import MakeUrl
from tests.support.server import PROJECT_ROOT, TEST_SECRET
from tests.test_cli import count


def seed_db_in_production(url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET,
        "JWT_SECRET_KEY": TEST_SECRET + "-jwt",
    }
    return subprocess.run(
        [sys.executable, "-m", "quart", "--app", "backend.asgi:app", "seed-db"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_seed_db_is_refused_in_production(fresh_database_url: MakeUrl) -> None:
    url = await fresh_database_url("sqlite")
    result = seed_db_in_production(url)
    assert result.returncode != 0
    assert "seed-db is refused with APP_ENV=production" in result.stderr
    assert await count(url, User) == 0
