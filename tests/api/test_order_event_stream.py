"""The Server-Sent Events stream, the bearer subprotocol and expired cursors, in
process (in-memory bus; the real servers are in tests/e2e/test_event_stream.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from quart import Quart
from quart.testing.connections import TestHTTPConnection as Connection
from quart.testing.connections import WebsocketResponseError
from quart.typing import TestClientProtocol as Client

from backend import extensions
from backend.events import subscription
from backend.events.bus import Frame
from backend.metrics.instruments import instruments
from backend.models import RetentionMark
from tests.api.test_order_events import close_code, place_order, subscribed, users
from tests.support.factories import bearer_for

EVENTS = "/api/v1/orders/events"
STREAM = "/api/v1/orders/events/stream"


@pytest.fixture(autouse=True)
def quiet_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    # In process every session shares one connection: no background re-checks.
    monkeypatch.setattr(subscription, "REVALIDATE_SECONDS", 3600.0)


@asynccontextmanager
async def stream(
    client: Client,
    headers: dict[str, str] | None = None,
    query: dict[str, Any] | None = None,
) -> AsyncIterator[Connection]:
    request = client.request(STREAM, headers=headers, query_string=query)
    assert isinstance(request, Connection)
    async with request as conn:
        await conn.send_complete()
        try:
            yield conn
        finally:
            _pending.pop(id(conn), None)
            await conn.disconnect()


async def chunk(conn: Connection) -> bytes:
    return await asyncio.wait_for(conn.receive(), 5)


# What each connection received past its last complete message.
_pending: dict[int, str] = {}


async def message(conn: Connection) -> dict[str, str]:
    """The next message's fields, comments skipped (a chunk may hold several)."""
    while True:
        text = _pending.pop(id(conn), "")
        while "\n\n" not in text:
            text += (await chunk(conn)).decode()
        block, _, _pending[id(conn)] = text.partition("\n\n")
        if not block.startswith(":"):
            return dict(line.split(": ", 1) for line in block.split("\n"))


async def ended(conn: Connection) -> bool:
    """Read until the body ends (an empty last chunk)."""
    while await chunk(conn):
        pass
    return True


async def problem(client: Client, query: dict[str, Any], **headers: str) -> Any:
    response = await client.get(STREAM, query_string=query, headers=headers)
    assert response.content_type == "application/problem+json"
    return response.status_code, await response.get_json()


async def expire_through(app: Quart, event_id: int) -> None:
    async with extensions.database(app).session() as session:
        session.add(RetentionMark(table_name="order_event", deleted_through=event_id))


async def test_stream_replays_after_since_then_goes_live_in_sse_format(
    app: Quart, client: Client
) -> None:
    alice, bob, _ = await users(app)
    first = await place_order(app, alice)
    await place_order(app, bob)
    async with stream(client, await bearer_for(app, alice), {"since": 0}) as conn:
        assert await message(conn) == {"retry": "3000"}
        assert conn.status_code == 200
        assert conn.headers is not None
        assert conn.headers["Content-Type"].startswith("text/event-stream")
        assert conn.headers["Cache-Control"] == "no-store"
        replayed = await message(conn)
        await subscribed(app, 1)
        second = await place_order(app, alice)
        live = await message(conn)
    for fields, order_id in ((replayed, first), (live, second)):
        event = orjson.loads(fields["data"])
        assert event["order_id"] == order_id
        assert fields["id"] == str(event["id"])
        assert fields["event"] == event["type"] == "order.created"
    assert int(live["id"]) > int(replayed["id"])


async def event_ids(client: Client, headers: dict[str, str]) -> list[int]:
    response = await client.get(EVENTS, headers=headers)
    return [event["id"] for event in (await response.get_json())["items"]]


async def test_last_event_id_header_wins_over_since(app: Quart, client: Client) -> None:
    alice, _, _ = await users(app)
    await place_order(app, alice)
    second = await place_order(app, alice)
    headers = await bearer_for(app, alice)
    first_id, _ = await event_ids(client, headers)
    resume = {**headers, "Last-Event-ID": str(first_id)}
    async with stream(client, resume, {"since": "not-a-number"}) as conn:
        await message(conn)  # the retry hint
        assert orjson.loads((await message(conn))["data"])["order_id"] == second


async def test_stream_takes_the_token_from_the_query_string(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    token = (await bearer_for(app, alice))["Authorization"].split()[1]
    async with stream(client, query={"access_token": token}) as conn:
        await subscribed(app, 1)
        order_id = await place_order(app, alice)
        await message(conn)
        assert orjson.loads((await message(conn))["data"])["order_id"] == order_id


async def test_stream_refusals_are_problem_documents(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    token = (await bearer_for(app, alice))["Authorization"]
    status, body = await problem(client, {})
    assert (status, body["code"]) == (401, "unauthorized")
    status, body = await problem(client, {"access_token": "nope"})
    assert status == 401
    status, body = await problem(client, {"since": "-1"}, Authorization=token)
    assert (status, body["code"]) == (400, "bad_request")
    status, body = await problem(
        client, {"since": "1"}, Authorization=token, **{"Last-Event-ID": "abc"}
    )
    assert status == 400
    assert len(extensions.bus(app).broker) == 0


async def test_expired_cursor_is_410_on_stream_socket_and_page(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    headers = await bearer_for(app, alice)
    await expire_through(app, 5)
    status, body = await problem(client, {"since": "4"}, **headers)
    assert (status, body["code"]) == (410, "cursor_expired")
    status, _ = await problem(client, {}, **headers, **{"Last-Event-ID": "4"})
    assert status == 410
    page = await client.get(EVENTS, query_string={"since": 4}, headers=headers)
    assert page.status_code == 410
    assert (await page.get_json())["code"] == "cursor_expired"
    async with client.websocket(
        EVENTS, headers=headers, query_string={"since": "4"}
    ) as ws:
        with pytest.raises(WebsocketResponseError) as refused:
            await ws.receive()
    assert refused.value.response.status_code == 410


async def test_cursor_at_the_retention_mark_or_no_cursor_is_served(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    headers = await bearer_for(app, alice)
    await expire_through(app, 5)
    for query in ({"since": 5}, {"since": 6}, {}):
        page = await client.get(EVENTS, query_string=query, headers=headers)
        assert page.status_code == 200, query
    async with stream(client, headers, {"since": "5"}) as conn:
        assert await message(conn) == {"retry": "3000"}
        assert conn.status_code == 200


async def test_idle_stream_sends_heartbeat_comments(app: Quart, client: Client) -> None:
    alice, _, _ = await users(app)
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(update={"sse_heartbeat": 0.05})
    async with stream(client, await bearer_for(app, alice)) as conn:
        assert await chunk(conn) == b"retry: 3000\n\n"
        assert await chunk(conn) == b": heartbeat\n\n"
        assert await chunk(conn) == b": heartbeat\n\n"


async def test_subscriber_that_falls_behind_is_disconnected(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    async with stream(client, await bearer_for(app, alice)) as conn:
        await subscribed(app, 1)
        (subscriber,) = list(extensions.bus(app).broker._by_user[alice.id])
        for n in range(subscriber.queue.maxsize + 1):
            subscriber.offer(Frame(10**9 + n, "{}", b""))
        assert await ended(conn)
    assert len(extensions.bus(app).broker) == 0


async def test_shutdown_ends_the_stream(app: Quart, client: Client) -> None:
    alice, _, _ = await users(app)
    async with stream(client, await bearer_for(app, alice)) as conn:
        await subscribed(app, 1)
        await extensions.bus(app).stop()
        assert await ended(conn)


def sse_metric(name: str) -> float:
    return instruments().registry.get_sample_value(name, {"transport": "sse"}) or 0.0


async def test_an_open_stream_and_its_events_are_counted_in_the_metrics(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    await place_order(app, alice)
    open_before = sse_metric("backend_event_subscribers")
    sent_before = sse_metric("backend_order_events_delivered_total")
    async with stream(client, await bearer_for(app, alice), {"since": 0}) as conn:
        await message(conn)  # the retry hint
        await message(conn)  # the replayed event
        assert sse_metric("backend_event_subscribers") == open_before + 1
        await extensions.bus(app).stop()
        assert await ended(conn)
    assert sse_metric("backend_event_subscribers") == open_before
    assert sse_metric("backend_order_events_delivered_total") == sent_before + 1


async def test_streams_and_sockets_share_the_per_user_limit(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    headers = await bearer_for(app, alice)
    settings = app.extensions["settings"]
    limited = settings.model_copy(update={"ws_max_connections_per_user": 2})
    app.extensions["settings"] = limited
    async with client.websocket(EVENTS, headers=headers):
        await subscribed(app, 1)
        async with stream(client, headers):
            await subscribed(app, 2)
            status, body = await problem(client, {}, **headers)
            assert (status, body["code"]) == (429, "rate_limited")
            async with client.websocket(EVENTS, headers=headers) as third:
                with pytest.raises(WebsocketResponseError) as refused:
                    await third.receive()
            assert refused.value.response.status_code == 429


async def test_socket_offering_bearer_without_a_token_is_refused(
    app: Quart, client: Client
) -> None:
    async with client.websocket(EVENTS, subprotocols=["bearer"]) as ws:
        with pytest.raises(WebsocketResponseError) as refused:
            await ws.receive()
    assert refused.value.response.status_code == 401


async def test_asyncapi_document_describes_the_stream(client: Client) -> None:
    document = await (await client.get("/asyncapi.json")).get_json()
    channel = document["channels"]["orderEventStream"]
    assert channel["address"] == STREAM
    assert channel["messages"]["orderEvent"]["$ref"].endswith("/OrderEvent")
    operation = document["operations"]["streamOrderEvents"]
    assert operation["bindings"]["http"]["method"] == "GET"


@pytest.mark.parametrize(
    ("failure", "code"),
    [(RuntimeError("a bug"), 1011), (ConnectionError("database gone"), 1013)],
    ids=["bug", "outage"],
)
async def test_a_failing_replay_closes_the_socket_instead_of_hanging(
    app: Quart,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    code: int,
) -> None:
    alice, _, _ = await users(app)

    async def failing(*_args: object, **_kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(subscription, "list_order_events", failing)
    async with client.websocket(
        EVENTS, headers=await bearer_for(app, alice), query_string={"since": "0"}
    ) as ws:
        assert await close_code(ws) == code
    assert len(extensions.bus(app).broker) == 0
