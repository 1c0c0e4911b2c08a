"""The order-events websocket and page, in process (in-memory bus)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
import pytest
from quart import Quart
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError
from quart.typing import TestClientProtocol as Client

from backend import extensions
from backend.events import subscription
from backend.events.bus import Frame
from backend.models import Order, OrderItem, User
from backend.services.order_events import record_order_event
from tests.support.factories import bearer_for, make_product, make_user

PATH = "/api/v1/orders/events"


@pytest.fixture(autouse=True)
def quiet_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    # In process every session shares one connection: no background re-checks.
    monkeypatch.setattr(subscription, "REVALIDATE_SECONDS", 3600.0)


async def place_order(app: Quart, user: User) -> int:
    """An order and its `order.created` event, committed (the orders API's job)."""
    async with extensions.database(app).session() as session:
        product = await make_product(session, price_cents=250)
        order = Order(user_id=user.id, status="pending", total_cents=500)
        order.currency = "USD"
        session.add(order)
        await session.flush()
        session.add(
            OrderItem(
                order_id=order.id,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                quantity=2,
                unit_price_cents=250,
                line_total_cents=500,
            )
        )
        await session.flush()
        await record_order_event(
            session,
            order_id=order.id,
            user_id=user.id,
            status="pending",
            previous_status=None,
            snapshot=snapshot(order, product.id, product.sku, product.name),
        )
        return order.id


def snapshot(order: Order, product_id: int, sku: str, name: str) -> dict[str, Any]:
    line = {
        "product_id": product_id,
        "sku": sku,
        "name": name,
        "quantity": 2,
        "unit_price_cents": 250,
        "line_total_cents": 500,
    }
    return {
        "id": order.id,
        "user_id": order.user_id,
        "status": order.status,
        "items": [line],
        "total_cents": order.total_cents,
        "currency": order.currency,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }


async def abandon_order(app: Quart, user: User) -> None:
    """An order whose transaction fails after its event was written."""
    async with extensions.database(app).session() as session:
        order = Order(user_id=user.id, total_cents=1, currency="USD")
        session.add(order)
        await session.flush()
        await record_order_event(
            session,
            order_id=order.id,
            user_id=user.id,
            status="pending",
            previous_status=None,
            snapshot={},
        )
        raise RuntimeError("the order failed after its event was written")


async def close_code(ws: Any) -> int:
    """Read until the server closes; the close code."""
    while True:
        try:
            await frame(ws)
        except WebsocketDisconnectError as closed:
            code: int = closed.args[0]
            return code


async def users(app: Quart) -> tuple[User, User, User]:
    async with extensions.database(app).session() as session:
        alice = await make_user(session, app)
        bob = await make_user(session, app)
        admin = await make_user(session, app, is_admin=True)
    return alice, bob, admin


async def subscribed(app: Quart, count: int) -> None:
    for _ in range(200):
        if len(extensions.bus(app).broker) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the subscriber never registered")


async def frame(ws: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.receive(), 5))
    return data


async def test_socket_without_token_is_refused_with_401(
    app: Quart, client: Client
) -> None:
    async with client.websocket(PATH, headers={"X-Request-ID": "ws-trace-1"}) as ws:
        with pytest.raises(WebsocketResponseError) as refused:
            await ws.receive()
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    # Like every HTTP response: the request id, and the API's security headers.
    assert response.headers["X-Request-ID"] == "ws-trace-1"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"]


async def test_socket_with_bad_header_is_refused_even_with_good_query_token(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    token = (await bearer_for(app, alice))["Authorization"].split()[1]
    async with client.websocket(
        PATH,
        headers={"Authorization": "Bearer nope"},
        query_string={"access_token": token},
    ) as ws:
        with pytest.raises(WebsocketResponseError) as refused:
            await ws.receive()
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize("since", ["-1", "abc", "1.5", ""])
async def test_socket_with_bad_since_is_refused_with_400(
    app: Quart, client: Client, since: str
) -> None:
    alice, _, _ = await users(app)
    headers = await bearer_for(app, alice)
    async with client.websocket(
        PATH, headers=headers, query_string={"since": since}
    ) as ws:
        with pytest.raises(WebsocketResponseError) as refused:
            await ws.receive()
    assert refused.value.response.status_code == 400


async def test_live_events_reach_owner_and_admin_but_not_others(
    app: Quart, client: Client
) -> None:
    alice, bob, admin = await users(app)
    token = (await bearer_for(app, alice))["Authorization"].split()[1]
    bob_headers, admin_headers = (
        await bearer_for(app, bob),
        await bearer_for(app, admin),
    )
    # One at a time: in process every session shares one connection.
    async with client.websocket(PATH, query_string={"access_token": token}) as mine:
        await subscribed(app, 1)
        async with client.websocket(PATH, headers=bob_headers) as other:
            await subscribed(app, 2)
            async with client.websocket(PATH, headers=admin_headers) as everyone:
                await subscribed(app, 3)
                await check_visibility(app, alice, bob, mine, other, everyone)


async def check_visibility(
    app: Quart, alice: User, bob: User, mine: Any, other: Any, everyone: Any
) -> None:
    order_id = await place_order(app, alice)
    bob_order = await place_order(app, bob)
    event = await frame(mine)
    assert event["type"] == "order.created"
    assert event["order_id"] == order_id
    assert event["previous_status"] is None
    assert event["order"]["items"][0]["quantity"] == 2
    assert [(await frame(everyone))["order_id"] for _ in range(2)] == [
        order_id,
        bob_order,
    ]
    assert (await frame(other))["order_id"] == bob_order


async def test_since_replays_visible_events_then_goes_live(
    app: Quart, client: Client
) -> None:
    alice, bob, _ = await users(app)
    first = await place_order(app, alice)
    await place_order(app, bob)
    second = await place_order(app, alice)
    headers = await bearer_for(app, alice)
    async with client.websocket(
        PATH, headers=headers, query_string={"since": "0"}
    ) as ws:
        replayed = [await frame(ws), await frame(ws)]
        assert [e["order_id"] for e in replayed] == [first, second]
        await subscribed(app, 1)
        third = await place_order(app, alice)
        live = await frame(ws)
    assert live["order_id"] == third
    assert live["id"] > replayed[1]["id"]


async def test_without_since_only_new_events_are_sent(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    await place_order(app, alice)
    async with client.websocket(PATH, headers=await bearer_for(app, alice)) as ws:
        await subscribed(app, 1)
        new = await place_order(app, alice)
        assert (await frame(ws))["order_id"] == new


async def test_rolled_back_order_sends_no_event(app: Quart, client: Client) -> None:
    alice, _, _ = await users(app)
    async with client.websocket(PATH, headers=await bearer_for(app, alice)) as ws:
        await subscribed(app, 1)
        with pytest.raises(RuntimeError):
            await abandon_order(app, alice)
        committed = await place_order(app, alice)
        assert (await frame(ws))["order_id"] == committed


@pytest.mark.parametrize(
    "message",
    ["x" * 4097, "é" * 2049, b"x" * 4097],  # "é" is two bytes in UTF-8
    ids=["ascii", "utf-8", "binary"],
)
async def test_inbound_message_over_4_kib_closes_with_1009(
    app: Quart, client: Client, message: str | bytes
) -> None:
    alice, _, _ = await users(app)
    async with client.websocket(PATH, headers=await bearer_for(app, alice)) as ws:
        await subscribed(app, 1)
        await ws.send(message)
        code = await close_code(ws)
    assert code == 1009


async def test_message_flood_closes_with_1008(app: Quart, client: Client) -> None:
    alice, _, _ = await users(app)
    async with client.websocket(PATH, headers=await bearer_for(app, alice)) as ws:
        await subscribed(app, 1)
        for _ in range(50):
            await ws.send("hi")
        code = await close_code(ws)
    assert code == 1008


async def test_overflowing_subscriber_is_closed_with_1013(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    async with client.websocket(PATH, headers=await bearer_for(app, alice)) as ws:
        await subscribed(app, 1)
        (subscriber,) = list(extensions.bus(app).broker._by_user[alice.id])
        for n in range(subscriber.queue.maxsize + 1):
            subscriber.offer(Frame(10**9 + n, "{}", b""))
        code = await close_code(ws)
    assert code == 1013


async def test_revoked_session_closes_with_4401(
    app: Quart, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, _, _ = await users(app)
    headers = await bearer_for(app, alice)
    monkeypatch.setattr(subscription, "REVALIDATE_SECONDS", 0.2)
    async with client.websocket(PATH, headers=headers) as ws:
        await subscribed(app, 1)
        await asyncio.sleep(0.3)  # let one re-check pass while still valid
        async with extensions.database(app).session() as session:
            user = await session.get(User, alice.id)
            assert user is not None
            user.is_active = False
        code = await close_code(ws)
    assert code == 4401


async def test_shutdown_closes_subscribers_with_1001(
    app: Quart, client: Client
) -> None:
    alice, _, _ = await users(app)
    async with client.websocket(PATH, headers=await bearer_for(app, alice)) as ws:
        await subscribed(app, 1)
        await extensions.bus(app).stop()
        code = await close_code(ws)
    assert code == 1001


async def test_event_page_lists_own_events_with_cursor(
    app: Quart, client: Client
) -> None:
    alice, bob, admin = await users(app)
    first = await place_order(app, alice)
    await place_order(app, bob)
    second = await place_order(app, alice)
    headers = await bearer_for(app, alice)
    page = await client.get(PATH, query_string={"limit": 1}, headers=headers)
    body = await page.get_json()
    assert [e["order_id"] for e in body["items"]] == [first]
    rest = await client.get(
        PATH, query_string={"since": body["next_since"]}, headers=headers
    )
    items = (await rest.get_json())["items"]
    assert [e["order_id"] for e in items] == [second]
    everything = await client.get(PATH, headers=await bearer_for(app, admin))
    assert len((await everything.get_json())["items"]) >= 3


@pytest.mark.parametrize("since", [10**9, 10**30])
async def test_empty_event_page_keeps_since(
    app: Quart, client: Client, since: int
) -> None:
    alice, _, _ = await users(app)
    headers = await bearer_for(app, alice)
    response = await client.get(PATH, query_string={"since": since}, headers=headers)
    assert response.status_code == 200
    assert await response.get_json() == {"items": [], "next_since": since}


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 1001}, {"since": -1}])
async def test_event_page_rejects_bad_query(
    app: Quart, client: Client, query: dict[str, int]
) -> None:
    alice, _, _ = await users(app)
    response = await client.get(
        PATH, query_string=query, headers=await bearer_for(app, alice)
    )
    assert response.status_code == 422


async def test_event_page_requires_login(client: Client) -> None:
    response = await client.get(PATH)
    assert response.status_code == 401


async def test_asyncapi_document_describes_the_channel(client: Client) -> None:
    response = await client.get("/asyncapi.json")
    document = await response.get_json()
    assert document["asyncapi"].startswith("3.")
    assert document["channels"]["orderEvents"]["address"] == PATH
    event = document["components"]["schemas"]["OrderEvent"]
    assert set(event["required"]) >= {"id", "type", "order_id", "order"}


async def test_documents_name_the_expired_status_and_expires_at(client: Client) -> None:
    asyncapi = await (await client.get("/asyncapi.json")).get_json()
    event = asyncapi["components"]["schemas"]["OrderEvent"]["properties"]
    assert "expired" in json.dumps(event["status"])
    openapi = await (await client.get("/openapi.json")).get_json()
    order = openapi["components"]["schemas"]["OrderOut"]["properties"]
    assert "expires_at" in order
    assert "expired" in json.dumps(order["status"])
    create = openapi["paths"]["/api/v1/orders"]["post"]["responses"]
    assert {"403", "409", "429"} <= set(create)
