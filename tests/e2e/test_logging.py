"""Logs are JSON lines on stderr, and each request's line carries its id."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from tests.support.server import LiveServer

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


@pytest.mark.e2e
async def test_access_log_is_json_with_the_request_id(
    fresh_database_url: FreshDatabase, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(await fresh_database_url("sqlite"))
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get("/health", headers={"X-Request-ID": "trace-me-42"})
    assert response.headers["X-Request-ID"] == "trace-me-42"
    for _ in range(100):  # the access line is written just after the response
        if "trace-me-42" in server.logs():
            break
        await asyncio.sleep(0.05)
    lines = [json.loads(line) for line in server.logs().splitlines() if line.strip()]
    assert any("trace-me-42" in entry["message"] for entry in lines)
    assert all(
        {"time", "level", "logger", "message"} <= entry.keys() for entry in lines
    )
