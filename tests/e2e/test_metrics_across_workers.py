"""One scrape of a two-worker server counts every worker's requests."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.host.files import private_directory
from backend.metrics import multiprocess
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
TOKEN = "scrape-token-0123456789abcdef"
MAX_REQUESTS = 400


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return 0.0


def server_directory(server: LiveServer) -> Path:
    assert server.process is not None
    root = private_directory() / "metrics"
    (directory,) = root.glob(f"{multiprocess.PREFIX}{server.process.pid}-*")
    return directory


def workers_that_counted(directory: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[1] for path in directory.glob("counter_*.db")}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_one_scrape_counts_every_workers_requests(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    backend: str,
) -> None:
    server = live_server(
        await fresh_database_url(backend), workers=2, env={"METRICS_TOKEN": TOKEN}
    )
    directory = server_directory(server)
    sent = 0
    # A new connection per request, so the kernel spreads them over the
    # workers; go on until both have counted some (the files tell).
    while sent < MAX_REQUESTS and len(workers_that_counted(directory)) < 2:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            assert (await http.get("/api/v1/products/424242")).status_code == 404
        sent += 1
    assert len(workers_that_counted(directory)) == 2, "one worker served everything"
    # Host files: the directory and every worker's files are this user's alone.
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in directory.iterdir()} == {
        0o600
    }

    async with httpx.AsyncClient(base_url=server.base_url) as http:
        refused = await http.get("/metrics")
        # A periodic job (the first clean-up) may hold a pooled connection at
        # the moment of a scrape: scrape until every pool is idle again.
        for _ in range(50):
            scraped = await http.get(
                "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            if sample(scraped.text, "backend_db_pool_in_use") == 0:
                break
            await asyncio.sleep(0.1)
    assert refused.status_code == 401
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = scraped.text
    route = {"route": "/api/v1/products/<int:product_id>", "method": "GET"}
    assert sample(text, "backend_http_requests_total", **route, status="404") == sent
    assert sample(text, "backend_http_request_duration_seconds_count", **route) == sent
    assert "424242" not in text
    # Each worker's pool is idle again; nobody waits.
    assert sample(text, "backend_db_pool_in_use") == 0
    assert sample(text, "backend_db_pool_waiting") == 0
