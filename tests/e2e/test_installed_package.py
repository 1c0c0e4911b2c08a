"""The wheel, installed into a fresh venv outside the checkout, is the whole app.

Nothing from the checkout is on the path there: the migrations must come from
the installed package, and `init-db`, `create-admin` and the server must run
from an unrelated directory against `DATABASE_URL` alone.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tests.support import databases
from tests.support.server import PROJECT_ROOT, TEST_SECRET, LiveServer

pytestmark = pytest.mark.e2e

PASSWORD = "Admin-Pass-123"


def run(*command: str | Path, cwd: Path, stdin: str = "", **env: str) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def build_wheel(into: Path) -> Path:
    """The wheel of a clean copy of the sources (no build files left in the tree)."""
    source = into / "source"
    shutil.copytree(
        PROJECT_ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy(PROJECT_ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", into, source, cwd=into)
    (wheel,) = into.glob("backend-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin/` of a fresh venv holding the wheel and its locked dependencies."""
    root = tmp_path_factory.mktemp("installed")
    wheel = build_wheel(root)
    venv = root / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=root)
    pip = venv / "bin" / "pip"
    # As the Dockerfile does: the hashed runtime lock, then the app alone.
    lock = PROJECT_ROOT / "requirements.txt"
    run(pip, "install", "--quiet", "--require-hashes", "-r", lock, cwd=root)
    run(pip, "install", "--quiet", "--no-deps", wheel, cwd=root)
    return venv / "bin"


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_available: bool
) -> AsyncIterator[str]:
    """A database with no tables at all: `init-db` is what creates them."""
    if request.param == "sqlite":
        yield databases.sqlite_url(tmp_path)
        return
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable (set TEST_DATABASE_URL)")
    url = await databases.create_postgres_database()
    try:
        yield url
    finally:
        await databases.drop_postgres_database(url)


def test_the_wheel_ships_its_migrations_and_type_marker(installed: Path) -> None:
    package = Path(
        run(
            installed / "python",
            "-c",
            "import backend, os; print(os.path.dirname(backend.__file__))",
            cwd=installed,
        ).strip()
    )
    assert not package.is_relative_to(PROJECT_ROOT)
    shipped = {p.relative_to(package).as_posix() for p in package.rglob("*")}
    assert {
        "py.typed",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_accounts.py",
    } <= shipped


async def test_installed_package_migrates_creates_an_admin_and_serves(
    installed: Path,
    empty_database: str,
    tmp_path: Path,
    live_server: Callable[..., LiveServer],
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "DATABASE_URL": empty_database,
        "SECRET_KEY": TEST_SECRET,
        "JWT_SECRET_KEY": TEST_SECRET + "-jwt",
        # The fresh venv's own tools, never this checkout's.
        "PYTHONPATH": "",
        "VIRTUAL_ENV": str(installed.parent),
    }
    quart = (installed / "quart", "--app", "backend.asgi:app")
    migrated = await asyncio.to_thread(run, *quart, "init-db", cwd=elsewhere, **env)
    assert "newest schema" in migrated
    await asyncio.to_thread(
        run,
        *quart,
        "create-admin",
        "root",
        "root@example.com",
        "--password-stdin",
        cwd=elsewhere,
        stdin=PASSWORD + "\n",
        **env,
    )
    shutil.copy(PROJECT_ROOT / "hypercorn.toml", elsewhere)
    hypercorn = str(installed / "hypercorn")
    server = live_server(
        empty_database,
        command=[hypercorn, "-c", "hypercorn.toml", "backend.asgi:app"],
        cwd=elsewhere,
        env=env,
    )
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        ready = await http.get("/ready")
        login = await http.post(
            "/api/v1/auth/login", json={"username": "root", "password": PASSWORD}
        )
        me = await http.get(
            "/api/v1/auth/me",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
    assert ready.json() == {"status": "ok", "database": "ok"}
    assert me.json()["is_admin"] is True
