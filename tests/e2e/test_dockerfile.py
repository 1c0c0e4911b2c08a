"""The image's CMD serves: no Docker engine here, so the command runs locally."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import PROJECT_ROOT, LiveServer

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


def dockerfile_instruction(name: str) -> str:
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    joined = text.replace("\\\n", " ")
    matches = re.findall(rf"^{name}\s+(.+)$", joined, flags=re.MULTILINE)
    assert matches, f"Dockerfile has no {name}"
    return str(matches[-1]).strip()


def test_dockerfile_runs_as_non_root_with_healthcheck() -> None:
    assert re.search(
        r"^USER\s+(?!root)\w+", (PROJECT_ROOT / "Dockerfile").read_text(), re.M
    )
    assert "/health" in dockerfile_instruction("HEALTHCHECK")


@pytest.mark.e2e
async def test_dockerfile_cmd_serves(
    fresh_database_url: FreshDatabase, live_server: Callable[..., LiveServer]
) -> None:
    command = json.loads(dockerfile_instruction("CMD"))
    assert command == ["hypercorn", "-c", "hypercorn.toml", "backend.asgi:app"]
    # The image puts the venv first on PATH; here that is this interpreter's venv.
    command[0] = str(Path(sys.executable).parent / command[0])
    url = await fresh_database_url("postgresql")
    server = live_server(url, command=command)
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        health = await http.get("/health")
        ready = await http.get("/ready")
    assert health.json() == {"status": "ok"}
    assert ready.json() == {"status": "ok", "database": "ok"}
    assert "server" not in health.headers  # include_server_header = false
