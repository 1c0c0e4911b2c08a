"""`quart run` from the repository root serves the app (with reload)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import PROJECT_ROOT, free_port

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


@pytest.mark.e2e
async def test_quart_run_serves_with_reload(
    fresh_database_url: FreshDatabase, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": await fresh_database_url("sqlite")}
    env.pop("APP_ENV", None)  # the development defaults, as a developer has them
    with (tmp_path / "quart-run.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "quart", "run", "--port", str(port)),
            cwd=PROJECT_ROOT,  # .quartenv names the app and turns reload on
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the reloader's child dies with the group
        )
        try:
            health = None
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(100):
                    try:
                        health = await http.get("/health")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            assert health is not None, (tmp_path / "quart-run.log").read_text()
            assert health.json() == {"status": "ok"}
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 10)
    assert "Debug mode: True" in (tmp_path / "quart-run.log").read_text()
