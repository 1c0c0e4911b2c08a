"""Server-Sent Events, the bearer subprotocol and expired cursors on real servers.

A real SSE client (httpx-sse) against Hypercorn, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from backend.models import RetentionMark
from tests.e2e import test_event_fanout as fanout
from tests.e2e.test_event_fanout import open_shop
from tests.e2e.test_event_ordering import (
    BURST,
    BURSTS,
    burst_of_events,
    server_closed_a_subscriber_with,
    small_socket,
)
from tests.support.live_data import LiveData, LiveUser
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e
MakeUrl = Callable[[str], Awaitable[str]]
StartServer = Callable[..., LiveServer]
EVENTS = "/api/v1/orders/events"
STREAM = "/api/v1/orders/events/stream"
OPEN = {"RATE_LIMIT_REGISTER": "0", "RATE_LIMIT_LOGIN": "0", "RATE_LIMIT_ORDERS": "0"}


@pytest.fixture(params=["sqlite", "postgresql"])
async def url(request: pytest.FixtureRequest, fresh_database_url: MakeUrl) -> str:
    return await fresh_database_url(request.param)


@asynccontextmanager
async def event_stream(
    server: LiveServer, headers: dict[str, str], **params: Any
) -> AsyncIterator[EventSource]:
    timeout = httpx.Timeout(20, read=30)
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=timeout) as http,
        aconnect_sse(http, "GET", STREAM, headers=headers, params=params) as source,
    ):
        assert source.response.status_code == 200, await source.response.aread()
        yield source


async def events(
    messages: AsyncIterator[ServerSentEvent], count: int
) -> list[ServerSentEvent]:
    """The next `count` events of `source.aiter_sse()` (which can be iterated
    only once per stream); the retry hint, which has no data, is skipped."""
    received: list[ServerSentEvent] = []
    async with asyncio.timeout(30):
        while len(received) < count:
            sse = await anext(messages)
            if sse.data:
                received.append(sse)
    return received


async def place_orders(
    server: LiveServer, user: LiveUser, product: int, n: int
) -> list[int]:
    ids = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
        for _ in range(n):
            response = await http.post(
                "/api/v1/orders",
                json={"items": [{"product_id": product, "quantity": 1}]},
                headers=user.headers,
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return ids


async def shop(url: str) -> tuple[LiveUser, LiveUser, int]:
    async with LiveData(url) as data:
        customer, other = await data.users(2)
        product = await data.product(stock=1000)
    return customer, other, product.id


async def settle() -> None:
    """Let a freshly opened stream subscribe before the first commit."""
    await asyncio.sleep(0.5)


async def test_resume_by_last_event_id_across_a_disconnect_loses_nothing(
    url: str, live_server: StartServer
) -> None:
    server = live_server(url, workers=2, env=OPEN)
    customer, other, product = await shop(url)
    async with event_stream(server, customer.headers) as source:
        await settle()
        before = await place_orders(server, customer, product, 3)
        await place_orders(server, other, product, 2)  # not the customer's
        seen = await events(source.aiter_sse(), 3)
    missed = await place_orders(server, customer, product, 4)  # nobody listens
    resume = {**customer.headers, "Last-Event-ID": seen[-1].id}
    async with event_stream(server, resume) as source:
        await settle()
        after = await place_orders(server, customer, product, 2)
        resumed = await events(source.aiter_sse(), 6)
    ids = [int(sse.id) for sse in seen + resumed]
    assert ids == sorted(set(ids)), "strictly increasing, no duplicate"
    bodies = [orjson.loads(sse.data) for sse in seen + resumed]
    assert [body["id"] for body in bodies] == ids
    assert {sse.event for sse in seen + resumed} == {"order.created"}
    assert [body["order_id"] for body in bodies] == before + missed + after


async def test_idle_stream_gets_heartbeats_and_a_retry_hint(
    url: str, live_server: StartServer
) -> None:
    server = live_server(url, workers=1, env={"SSE_HEARTBEAT": "0.2"})
    customer, _, _ = await shop(url)
    lines: list[str] = []
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=20) as http,
        http.stream("GET", STREAM, headers=customer.headers) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            lines.append(line)
            if lines.count(": heartbeat") == 2:
                break
    assert lines[0] == "retry: 3000"


async def register(server: LiveServer) -> str:
    """A user registered through the API: its token has the server's lifetime."""
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/api/v1/auth/register",
            json={
                "username": "expiring",
                "email": "expiring@example.com",
                "password": "Correct-Horse-9",
                "password_confirm": "Correct-Horse-9",
            },
        )
    assert response.status_code == 201, response.text
    token: str = response.json()["access_token"]
    return token


async def until_the_end(source: EventSource) -> list[ServerSentEvent]:
    """Every message until the server ends the stream cleanly."""
    async with asyncio.timeout(30):
        return [sse async for sse in source.aiter_sse()]


async def assert_refused_now(server: LiveServer, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get(STREAM, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_stream_ends_when_the_token_expires(
    url: str, live_server: StartServer
) -> None:
    server = live_server(url, workers=1, env={**OPEN, "ACCESS_TOKEN_TTL": "3"})
    headers = {"Authorization": f"Bearer {await register(server)}"}
    async with event_stream(server, headers) as source:
        received = await until_the_end(source)
    assert [sse.retry for sse in received] == [3000]
    await assert_refused_now(server, headers)


async def test_stream_ends_on_logout(url: str, live_server: StartServer) -> None:
    server = live_server(url, workers=1, env=OPEN)
    headers = {"Authorization": f"Bearer {await register(server)}"}
    async with event_stream(server, headers) as source:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            response = await http.post("/api/v1/auth/logout", headers=headers)
        assert response.status_code == 204
        await until_the_end(source)
    await assert_refused_now(server, headers)


async def test_refusals_before_the_stream_are_problem_documents(
    url: str, live_server: StartServer
) -> None:
    server = live_server(url, workers=1)
    customer, _, _ = await shop(url)
    async with LiveData(url) as data, data.session() as session, session.begin():
        session.add(RetentionMark(table_name="order_event", deleted_through=10))
    cases = [
        ({}, {}, 401, "unauthorized"),
        (customer.headers, {"since": "soon"}, 400, "bad_request"),
        ({**customer.headers, "Last-Event-ID": "-3"}, {}, 400, "bad_request"),
        ({**customer.headers, "Last-Event-ID": "9"}, {}, 410, "cursor_expired"),
    ]
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        for headers, params, status, code in cases:
            response = await http.get(STREAM, headers=headers, params=params)
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == code


def bearer(token: str) -> list[Subprotocol]:
    """What a browser offers: `new WebSocket(url, ["bearer", token])`."""
    return [Subprotocol("bearer"), Subprotocol(token)]


async def test_socket_authenticates_by_the_bearer_subprotocol(
    url: str, live_server: StartServer
) -> None:
    server = live_server(url, workers=1, env=OPEN)
    customer, _, product = await shop(url)
    token = customer.headers["Authorization"].split()[1]
    async with connect(f"{server.ws_url}{EVENTS}", subprotocols=bearer(token)) as ws:
        assert ws.subprotocol == "bearer"
        await settle()
        (order_id,) = await place_orders(server, customer, product, 1)
        event = orjson.loads(await asyncio.wait_for(ws.recv(), 20))
    assert event["order_id"] == order_id
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"{server.ws_url}{EVENTS}", subprotocols=bearer(token + "x")
        ):
            pass
    assert refused.value.response.status_code == 401


async def test_cursors_before_a_retention_cleanup_are_410(
    url: str, live_server: StartServer
) -> None:
    env = {**OPEN, "EVENT_RETENTION": "1", "CLEANUP_INTERVAL": "1"}
    server = live_server(url, workers=1, env=env)
    customer, _, product = await shop(url)
    await place_orders(server, customer, product, 2)
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        for _ in range(60):  # until the periodic clean-up has deleted them
            response = await page(http, customer, since=0)
            if response.status_code != 200:
                break
            await asyncio.sleep(0.5)
        assert response.status_code == 410
        assert response.json()["code"] == "cursor_expired"
        assert (await page(http, customer)).json()["items"] == []
        stream = await http.get(STREAM, headers=customer.headers, params={"since": 0})
        assert stream.status_code == 410
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"{server.ws_url}{EVENTS}?since=0", additional_headers=customer.headers
        ):
            pass
    assert refused.value.response.status_code == 410


async def page(
    http: httpx.AsyncClient, user: LiveUser, since: int | None = None
) -> httpx.Response:
    params = {} if since is None else {"since": since}
    return await http.get(EVENTS, headers=user.headers, params=params)


async def test_sigterm_ends_streams_cleanly_without_holding_shutdown_up(
    url: str, live_server: StartServer
) -> None:
    server = live_server(url, workers=2)  # workers watch the master's drain
    customer, _, _ = await shop(url)
    assert server.process is not None
    async with event_stream(server, customer.headers) as source:
        await settle()
        server.process.send_signal(signal.SIGTERM)
        # A stream cut off at the graceful timeout would end mid-body instead.
        received = await until_the_end(source)
    assert [sse.retry for sse in received] == [3000]
    assert await asyncio.to_thread(server.process.wait, 30) == 0


async def test_a_stalled_stream_is_dropped_while_a_healthy_one_keeps_up(
    fresh_database_url: MakeUrl, live_server: StartServer
) -> None:
    url = await fresh_database_url("postgresql")
    env = {**OPEN, "WS_QUEUE_SIZE": "60", "WS_SEND_TIMEOUT": "2", "LOG_LEVEL": "INFO"}
    server = live_server(url, workers=1, env=env)
    shop = await open_shop(server, url)
    (order_id,) = await fanout.place_orders(shop, 1)
    owner = (await fanout.sql(url, "SELECT user_id FROM customer_order"))[0]
    admin = {"Authorization": f"Bearer {shop.admin}"}
    # Reads nothing after its request, so the server's sends to it block.
    stalled = small_socket(server)
    stalled.setblocking(True)
    stalled.sendall(
        f"GET {STREAM} HTTP/1.1\r\nHost: shop\r\nAuthorization: Bearer "
        f"{shop.admin}\r\n\r\n".encode()
    )
    try:
        async with event_stream(server, admin) as healthy:
            await settle()
            messages = healthy.aiter_sse()
            received = []
            for _ in range(BURSTS):
                await burst_of_events(url, order_id, owner["user_id"])
                received += await events(messages, BURST)
        ids = [int(sse.id) for sse in received]
        assert ids == sorted(set(ids))
        assert len(ids) == BURST * BURSTS
        assert await server_closed_a_subscriber_with(server, 1013)
        # The server cut the stalled connection: reading it reaches its end.
        assert await asyncio.wait_for(asyncio.to_thread(read_to_end, stalled), 30)
    finally:
        stalled.close()


def read_to_end(sock: socket.socket) -> bool:
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True
