"""On SIGTERM a server exits when its work is done, not after `graceful_timeout`.

Hypercorn's websocket ping task used to outlive its socket by up to a ping
interval, so a server that had served any websocket waited out the whole
graceful timeout (see `backend.server.websocket_pings`). The bound asserted here,
half the graceful timeout, is a behaviour check (did the server wait for
nothing?), not a speed measurement: the work left takes well under a second.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import tomllib
from collections.abc import Awaitable, Callable

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.api.helpers import new_account
from tests.support.server import PROJECT_ROOT, LiveServer

pytestmark = pytest.mark.e2e

GRACEFUL_TIMEOUT: float = tomllib.loads((PROJECT_ROOT / "hypercorn.toml").read_text())[
    "graceful_timeout"
]
EVENTS = "/api/v1/orders/events"


async def _token(server: LiveServer) -> str:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/api/v1/auth/register", json=new_account())
        assert response.status_code == 201, response.text
        return str(response.json()["access_token"])


def _seconds_to_exit(server: LiveServer) -> tuple[float, int]:
    assert server.process is not None
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(GRACEFUL_TIMEOUT * 2)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {GRACEFUL_TIMEOUT * 2} s after SIGTERM")
    return time.monotonic() - started, code


@pytest.fixture
async def server(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> LiveServer:
    return live_server(await fresh_database_url("sqlite"), workers=2)


async def test_exit_after_websockets_closed_does_not_wait_for_the_timeout(
    server: LiveServer,
) -> None:
    headers = {"Authorization": f"Bearer {await _token(server)}"}
    # Several at once, so that both workers are likely to have served one.
    sockets = [
        await websockets.connect(server.ws_url + EVENTS, additional_headers=headers)
        for _ in range(6)
    ]
    await asyncio.sleep(0.2)
    for socket in sockets:
        await socket.close()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        assert (await http.get("/health")).status_code == 200

    seconds, code = await asyncio.to_thread(_seconds_to_exit, server)

    assert code == 0, server.logs()
    assert seconds < GRACEFUL_TIMEOUT / 2, f"exit took {seconds:.1f} s"
    assert "CancelledError" not in server.logs()


async def test_open_websocket_is_closed_with_1001_and_the_exit_is_prompt(
    server: LiveServer,
) -> None:
    headers = {"Authorization": f"Bearer {await _token(server)}"}
    socket = await websockets.connect(
        server.ws_url + EVENTS, additional_headers=headers
    )
    await asyncio.sleep(0.2)

    exiting = asyncio.create_task(asyncio.to_thread(_seconds_to_exit, server))
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(socket.recv(), GRACEFUL_TIMEOUT * 2)
    seconds, code = await exiting

    assert socket.close_code == 1001
    assert code == 0, server.logs()
    assert seconds < GRACEFUL_TIMEOUT / 2, f"exit took {seconds:.1f} s"
