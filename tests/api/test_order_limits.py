"""Orders that cannot hoard stock: the pending cap, the rate, verified email."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from backend.config import Settings
from tests.api.helpers import problem
from tests.api.test_orders import URL, _product
from tests.conftest import make_settings
from tests.support.actors import Actor, make_actor

MAX_PENDING = 3
RATE = 8


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url,
        order_max_pending=MAX_PENDING,
        rate_limit_orders=f"{RATE}/minute",
    )


@pytest.fixture
async def alice(app: Quart) -> Actor:
    return await make_actor(app)


@pytest.fixture
async def bob(app: Quart) -> Actor:
    return await make_actor(app)


@pytest.fixture
async def admin(app: Quart) -> Actor:
    return await make_actor(app, is_admin=True)


def _body(product_id: int) -> dict[str, Any]:
    return {"items": [{"product_id": product_id, "quantity": 1}]}


async def _post(client: Client, actor: Actor, product_id: int, **headers: str) -> Any:
    return await client.post(
        URL, json=_body(product_id), headers={**actor.headers, **headers}
    )


async def test_the_order_past_the_pending_cap_is_409_and_takes_no_stock(
    app: Quart, client: Client, alice: Actor
) -> None:
    product = await _product(app, stock=100)
    for _ in range(MAX_PENDING):
        assert (await _post(client, alice, product.id)).status_code == 201
    refused = await _post(client, alice, product.id)
    await problem(refused, 409, "too_many_pending_orders")
    listed = await client.get(URL, headers=alice.headers)
    assert (await listed.get_json())["total"] == MAX_PENDING
    product_page = await client.get(f"/api/v1/products/{product.id}")
    assert (await product_page.get_json())["stock"] == 100 - MAX_PENDING


async def test_a_cancel_or_a_payment_makes_room_for_another_order(
    app: Quart, client: Client, alice: Actor, admin: Actor
) -> None:
    product = await _product(app, stock=100)
    ids = [
        (await (await _post(client, alice, product.id)).get_json())["id"]
        for _ in range(MAX_PENDING)
    ]
    cancelled = await client.post(f"{URL}/{ids[0]}/cancel", headers=alice.headers)
    assert cancelled.status_code == 200
    assert (await _post(client, alice, product.id)).status_code == 201
    await problem(
        await _post(client, alice, product.id), 409, "too_many_pending_orders"
    )
    paid = await client.patch(
        f"{URL}/{ids[1]}", json={"status": "paid"}, headers=admin.headers
    )
    assert paid.status_code == 200
    assert (await paid.get_json())["expires_at"] is None
    assert (await _post(client, alice, product.id)).status_code == 201


async def test_the_cap_is_per_user(
    app: Quart, client: Client, alice: Actor, bob: Actor
) -> None:
    product = await _product(app, stock=100)
    for _ in range(MAX_PENDING):
        await _post(client, alice, product.id)
    assert (await _post(client, bob, product.id)).status_code == 201


async def test_placements_over_the_rate_are_429_with_retry_after(
    app: Quart, client: Client, alice: Actor, bob: Actor, admin: Actor
) -> None:
    product = await _product(app, stock=100)
    statuses = []
    for _ in range(RATE):
        response = await _post(client, alice, product.id)
        statuses.append(response.status_code)
        if response.status_code == 201:  # keep under the pending cap
            order_id = (await response.get_json())["id"]
            await client.post(f"{URL}/{order_id}/cancel", headers=alice.headers)
    assert statuses == [201] * RATE
    refused = await _post(client, alice, product.id)
    await problem(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another user's budget is untouched.
    assert (await _post(client, bob, product.id)).status_code == 201


async def test_an_idempotent_replay_spends_no_budget(
    app: Quart, client: Client, alice: Actor
) -> None:
    product = await _product(app, stock=100)
    first = await _post(client, alice, product.id, **{"Idempotency-Key": "once"})
    assert first.status_code == 201
    for _ in range(RATE * 2):
        again = await _post(client, alice, product.id, **{"Idempotency-Key": "once"})
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
    # The replays cost nothing: RATE - 1 placements are still in the budget.
    placed = [
        (await _post(client, alice, product.id)).status_code for _ in range(RATE - 1)
    ]
    # The cap (3 pending) answers, not the rate; refusals spend the budget too.
    assert placed == [201, 201] + [409] * (RATE - 3)
    await problem(await _post(client, alice, product.id), 429, "rate_limited")


async def test_a_refused_placement_is_not_remembered_by_its_key(
    app: Quart, client: Client, alice: Actor
) -> None:
    product = await _product(app, stock=100)
    for _ in range(MAX_PENDING):
        await _post(client, alice, product.id)
    key = {"Idempotency-Key": "after-cap"}
    await problem(
        await _post(client, alice, product.id, **key), 409, "too_many_pending_orders"
    )
    listed = await (await client.get(URL, headers=alice.headers)).get_json()
    await client.post(f"{URL}/{listed['items'][0]['id']}/cancel", headers=alice.headers)
    retried = await _post(client, alice, product.id, **key)
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers


class TestVerifiedEmail:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(database_url, require_verified_email=True)

    async def test_an_unverified_user_cannot_order_when_required(
        self,
        app: Quart,
        client: Client,
        alice: Actor,
    ) -> None:
        product = await _product(app, stock=5)
        assert not alice.user.email_verified
        refused = await _post(client, alice, product.id)
        await problem(refused, 403, "email_not_verified")
        product_page = await client.get(f"/api/v1/products/{product.id}")
        assert (await product_page.get_json())["stock"] == 5

    async def test_a_verified_user_orders(self, app: Quart, client: Client) -> None:
        verified = await make_actor(app, email_verified=True)
        product = await _product(app, stock=5)
        assert (await _post(client, verified, product.id)).status_code == 201


async def test_unverified_users_order_unless_required(
    app: Quart, client: Client, alice: Actor
) -> None:
    product = await _product(app, stock=5)
    assert not alice.user.email_verified
    assert (await _post(client, alice, product.id)).status_code == 201
