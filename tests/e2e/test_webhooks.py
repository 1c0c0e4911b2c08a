"""Webhooks end to end: a real server delivers to a real receiver, both databases.

The receiver verifies every request with the `standardwebhooks` package.
Retry schedules and timeouts are shortened through the server's environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from bench.server import kill_all

from tests.support.live_data import LiveData, LiveUser
from tests.support.server import LiveServer
from tests.support.webhook_receiver import HANG, Receiver

pytestmark = pytest.mark.e2e
MakeUrl = Callable[[str], Awaitable[str]]
StartServer = Callable[..., LiveServer]
HOOKS = "/api/v1/webhooks"
FAST = {
    "WEBHOOK_ALLOW_PRIVATE": "true",
    "WEBHOOK_RETRY_SCHEDULE": "1,1",
    "WEBHOOK_TIMEOUT": "1",
}


class Shop:
    def __init__(self, server: LiveServer, admin: LiveUser, customer: LiveUser) -> None:
        self.server = server
        self.admin = admin
        self.customer = customer
        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=10)
        self.product_id = 0

    async def order(self) -> int:
        response = await self.http.post(
            "/api/v1/orders",
            json={"items": [{"product_id": self.product_id, "quantity": 1}]},
            headers=self.customer.headers,
        )
        assert response.status_code == 201, response.text
        order_id: int = response.json()["id"]
        return order_id

    async def endpoint(self, receiver: Receiver, **body: Any) -> dict[str, Any]:
        response = await self.http.post(
            HOOKS, json={"url": receiver.url, **body}, headers=self.admin.headers
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        receiver.secrets.append(created["secret"])
        return created

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method, f"{HOOKS}{path}", headers=self.admin.headers, **kwargs
        )

    async def deliveries(
        self, endpoint_id: int, *, at_least: int = 1
    ) -> list[dict[str, Any]]:
        """The log, once it has `at_least` rows (it is written after the answer)."""
        for _ in range(150):
            response = await self.call("GET", f"/{endpoint_id}/deliveries?per_page=100")
            assert response.status_code == 200
            items: list[dict[str, Any]] = response.json()["items"]
            if len(items) >= at_least:
                return items
            await asyncio.sleep(0.2)
        raise AssertionError(f"the log has {len(items)} rows, not {at_least}")


@pytest.fixture(params=["sqlite", "postgresql"])
async def start_shop(
    request: pytest.FixtureRequest,
    fresh_database_url: MakeUrl,
    live_server: StartServer,
) -> AsyncIterator[Callable[..., Awaitable[Shop]]]:
    url = await fresh_database_url(request.param)
    shops: list[Shop] = []
    async with LiveData(url) as data:
        admin, customer = await data.user(is_admin=True), await data.user()
        product = await data.product(stock=1000)

        async def start(**env: str) -> Shop:
            shop = Shop(live_server(url, env={**FAST, **env}), admin, customer)
            shop.product_id = product.id
            shops.append(shop)
            return shop

        yield start
    for shop in shops:
        await shop.http.aclose()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()


def order_ids(receiver: Receiver) -> list[object]:
    return [request.event["order_id"] for request in receiver.received]


async def test_signed_delivery_of_only_later_events_with_retries_after_500s(
    start_shop: Callable[..., Awaitable[Shop]], receiver: Receiver
) -> None:
    shop = await start_shop()
    before = await shop.order()
    # The first event after creation fails twice, then succeeds.
    receiver.answer = lambda _request, seen: 500 if seen <= 2 else 200
    endpoint = await shop.endpoint(receiver, event_types=["order.created"])
    first = await shop.order()
    await receiver.wait_for(lambda: len(receiver.received) >= 3)
    assert len({request.msg_id for request in receiver.received}) == 1
    assert all(request.verified_by for request in receiver.received)
    sent = receiver.received[0]
    assert sent.headers["content-type"] == "application/json"
    assert sent.event["type"] == "order.created"
    assert sent.msg_id == f"evt_{sent.event['id']}"
    assert sent.event["order_id"] == first
    assert before not in order_ids(receiver)

    log = await shop.deliveries(endpoint["id"], at_least=3)
    assert [(row["attempt"], row["status"], row["response_status"]) for row in log] == [
        (3, "succeeded", 200),
        (2, "failed", 500),
        (1, "failed", 500),
    ]
    failed = await shop.call("GET", f"/{endpoint['id']}/deliveries?status=failed")
    assert failed.json()["total"] == 2


async def test_a_failing_event_gives_up_without_holding_back_later_ones(
    start_shop: Callable[..., Awaitable[Shop]], receiver: Receiver
) -> None:
    shop = await start_shop()
    doomed: list[object] = []
    receiver.answer = lambda request, _seen: (
        503 if request.event["order_id"] in doomed else 200
    )
    endpoint = await shop.endpoint(receiver)
    doomed.append(await shop.order())
    later = await shop.order()
    await receiver.wait_for(lambda: later in order_ids(receiver))
    # Retried after 1 s, then 1 s, then given up: three attempts in all.
    await receiver.wait_for(lambda: order_ids(receiver).count(doomed[0]) == 3)
    await asyncio.sleep(2.5)
    assert order_ids(receiver).count(doomed[0]) == 3
    log = await shop.deliveries(endpoint["id"], at_least=4)
    assert sum(1 for row in log if row["status"] == "failed") == 3


async def test_redirects_are_not_followed_and_slow_receivers_time_out(
    start_shop: Callable[..., Awaitable[Shop]], receiver: Receiver
) -> None:
    shop = await start_shop(WEBHOOK_RETRY_SCHEDULE="60")
    receiver.answer = lambda _request, seen: 302
    redirected = await shop.endpoint(receiver, event_types=["order.created"])
    await shop.order()
    await receiver.wait_for(lambda: len(receiver.received) == 1)
    await asyncio.sleep(0.5)
    assert [request.path for request in receiver.received] == ["/hook"]
    log = await shop.deliveries(redirected["id"])
    assert log[0]["response_status"] == 302
    assert log[0]["status"] == "failed"
    assert "redirect" in log[0]["error"]

    await shop.call("DELETE", f"/{redirected['id']}")
    receiver.answer = lambda _request, _seen: HANG
    slow = await shop.endpoint(receiver, event_types=["order.created"])
    await shop.order()
    await receiver.wait_for(lambda: len(receiver.received) == 2)
    log = await shop.deliveries(slow["id"])
    assert log[0]["status"] == "failed"
    assert log[0]["response_status"] is None
    assert log[0]["error"] == "timed out"


async def test_rotation_redelivery_deletion(
    start_shop: Callable[..., Awaitable[Shop]], receiver: Receiver
) -> None:
    shop = await start_shop()
    witness = await Receiver().start()
    try:
        endpoint = await shop.endpoint(receiver)
        await shop.endpoint(witness)
        rotated = await shop.call("POST", f"/{endpoint['id']}/rotate-secret")
        new_secret = rotated.json()["secret"]
        receiver.secrets.append(new_secret)
        first = await shop.order()
        await receiver.wait_for(lambda: first in order_ids(receiver))
        delivery = receiver.received[-1]
        assert len(delivery.headers["webhook-signature"].split(" ")) == 2
        assert set(delivery.verified_by) == set(receiver.secrets)  # old and new

        event_id = delivery.event["id"]
        response = await shop.call(
            "POST", f"/{endpoint['id']}/redeliver", json={"event_id": event_id}
        )
        assert response.status_code == 202
        await receiver.wait_for(lambda: receiver.ids().count(f"evt_{event_id}") == 2)

        assert (await shop.call("DELETE", f"/{endpoint['id']}")).status_code == 204
        count = len(receiver.received)
        after = await shop.order()
        await witness.wait_for(lambda: after in order_ids(witness))
        await asyncio.sleep(1)
        assert len(receiver.received) == count
    finally:
        await witness.stop()


async def test_an_endpoint_failing_too_long_is_disabled_and_can_be_re_enabled(
    start_shop: Callable[..., Awaitable[Shop]], receiver: Receiver
) -> None:
    shop = await start_shop(WEBHOOK_DISABLE_AFTER="1", WEBHOOK_RETRY_SCHEDULE="1,1,1")
    receiver.answer = lambda _request, _seen: 500
    endpoint = await shop.endpoint(receiver, event_types=["order.created"])
    await shop.order()
    path = f"/{endpoint['id']}"
    for _ in range(100):
        body = (await shop.call("GET", path)).json()
        if not body["enabled"]:
            break
        await asyncio.sleep(0.2)
    assert body["enabled"] is False
    assert "failed" in body["disabled_reason"]

    receiver.answer = lambda _request, _seen: 200
    response = await shop.call("PATCH", path, json={"enabled": True})
    assert response.json()["disabled_reason"] is None
    later = await shop.order()
    await receiver.wait_for(lambda: later in order_ids(receiver))


async def test_a_delivery_cut_by_sigkill_is_made_after_the_lease(
    start_shop: Callable[..., Awaitable[Shop]], receiver: Receiver
) -> None:
    shop = await start_shop(JOB_LEASE="5")
    receiver.answer = lambda _request, seen: HANG if seen == 1 else 200
    await shop.endpoint(receiver, event_types=["order.created"])
    placed = await shop.order()
    await receiver.wait_for(lambda: len(receiver.received) == 1)
    assert shop.server.process is not None
    kill_all(shop.server.process)  # the worker delivering it too
    await start_shop(JOB_LEASE="5")
    await receiver.wait_for(lambda: len(receiver.received) >= 2, seconds=60)
    assert {request.event["order_id"] for request in receiver.received} == {placed}
    assert len({request.msg_id for request in receiver.received}) == 1
