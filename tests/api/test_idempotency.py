"""`Idempotency-Key` on `POST /orders`: replay, reuse, failures not remembered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import func, select, update

from backend import extensions
from backend.models import IdempotencyKey, Order, Product, User
from backend.models.base import utcnow
from backend.services import idempotency
from tests.support.factories import bearer_for, make_product, make_user

URL = "/api/v1/orders"


@pytest.fixture
async def user(app: Quart) -> User:
    async with extensions.database(app).session() as session:
        return await make_user(session, app)


@pytest.fixture
async def headers(app: Quart, user: User) -> dict[str, str]:
    return await bearer_for(app, user)


async def _product(app: Quart, **fields: Any) -> Product:
    async with extensions.database(app).session() as session:
        return await make_product(session, **fields)


async def _order_count(app: Quart, user: User) -> int:
    async with extensions.database(app).session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Order).where(Order.user_id == user.id)
        )
    return count or 0


def _body(product: Product, quantity: int = 1) -> dict[str, Any]:
    return {"items": [{"product_id": product.id, "quantity": quantity}]}


async def _post(client: Client, headers: dict[str, str], key: str, body: Any) -> Any:
    return await client.post(URL, json=body, headers=headers | {"Idempotency-Key": key})


async def test_repeat_replays_the_original_response(
    app: Quart, client: Client, user: User, headers: dict[str, str]
) -> None:
    product = await _product(app, stock=5)
    first = await _post(client, headers, "k-1", _body(product))
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    original = await first.get_json()
    async with extensions.database(app).session() as session:
        await session.execute(
            update(Product).where(Product.id == product.id).values(price_cents=1)
        )
    again = await _post(client, headers, "k-1", _body(product))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.get_json() == original
    assert await _order_count(app, user) == 1
    async with extensions.database(app).session() as session:
        assert (await session.get(Product, product.id)).stock == 4  # type: ignore[union-attr]


async def test_same_body_in_another_shape_is_the_same_request(
    app: Quart, client: Client, user: User, headers: dict[str, str]
) -> None:
    one, two = await _product(app), await _product(app)
    lines = [
        {"product_id": one.id, "quantity": 1},
        {"product_id": two.id, "quantity": 2},
    ]
    assert (await _post(client, headers, "shape", {"items": lines})).status_code == 201
    reordered = {"items": [{"quantity": 2, "product_id": two.id}, lines[0]]}
    again = await _post(client, headers, "shape", reordered)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _order_count(app, user) == 1


async def test_key_with_a_different_body_is_422(
    app: Quart, client: Client, user: User, headers: dict[str, str]
) -> None:
    product = await _product(app, stock=5)
    assert (await _post(client, headers, "k-2", _body(product))).status_code == 201
    response = await _post(client, headers, "k-2", _body(product, 2))
    problem = await response.get_json()
    assert response.status_code == 422
    assert problem["code"] == "idempotency_key_reused"
    assert await _order_count(app, user) == 1


async def test_keys_are_scoped_per_user(
    app: Quart, client: Client, headers: dict[str, str]
) -> None:
    product = await _product(app, stock=5)
    async with extensions.database(app).session() as session:
        other = await make_user(session, app)
    other_headers = await bearer_for(app, other)
    first = await _post(client, headers, "shared", _body(product))
    second = await _post(client, other_headers, "shared", _body(product, 2))
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert (await second.get_json())["id"] != (await first.get_json())["id"]


@pytest.mark.parametrize("status", [404, 409])
async def test_failures_are_not_remembered(
    app: Quart, client: Client, user: User, headers: dict[str, str], status: int
) -> None:
    product = await _product(app, stock=1, is_active=status == 409)
    body = _body(product, 2)
    assert (await _post(client, headers, "retry-me", body)).status_code == status
    async with extensions.database(app).session() as session:
        await session.execute(
            update(Product)
            .where(Product.id == product.id)
            .values(stock=5, is_active=True)
        )
    retried = await _post(client, headers, "retry-me", body)
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers


async def test_validation_failures_are_not_remembered(
    app: Quart, client: Client, user: User, headers: dict[str, str]
) -> None:
    product = await _product(app)
    bad = await _post(client, headers, "v-1", {"items": []})
    assert bad.status_code == 422
    good = await _post(client, headers, "v-1", _body(product))
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
async def test_bad_key_is_422_naming_the_header(
    app: Quart, client: Client, user: User, headers: dict[str, str], key: str
) -> None:
    product = await _product(app)
    response = await _post(client, headers, key, _body(product))
    problem = await response.get_json()
    assert response.status_code == 422
    assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await _order_count(app, user) == 0


async def test_longest_key_is_accepted(
    app: Quart, client: Client, headers: dict[str, str]
) -> None:
    product = await _product(app)
    response = await _post(client, headers, "k" * 255, _body(product))
    assert response.status_code == 201


async def test_expired_key_runs_again_and_purge_removes_it(
    app: Quart, client: Client, user: User, headers: dict[str, str]
) -> None:
    product = await _product(app, stock=5)
    assert (await _post(client, headers, "old", _body(product))).status_code == 201
    async with extensions.database(app).session() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == user.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    again = await _post(client, headers, "old", _body(product, 2))
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert await _order_count(app, user) == 2
    async with extensions.database(app).session() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == user.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        assert await idempotency.purge_expired(session) >= 1
        left = await session.scalar(
            select(func.count())
            .select_from(IdempotencyKey)
            .where(IdempotencyKey.user_id == user.id)
        )
    assert left == 0


async def test_the_key_row_commits_with_its_order(
    app: Quart, client: Client, user: User, headers: dict[str, str]
) -> None:
    product = await _product(app)
    order = await (await _post(client, headers, "paired", _body(product))).get_json()
    async with extensions.database(app).session() as session:
        row = await session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.user_id == user.id)
        )
    assert row is not None
    assert row.order_id == order["id"]
    assert row.response_status == 201
    assert row.response_body == order
