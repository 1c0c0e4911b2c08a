"""The Orders section of the contract, row by row, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import select

from backend import extensions
from backend.models import OrderEvent, Product
from tests.support.actors import Actor, make_actor
from tests.support.factories import make_product

URL = "/api/v1/orders"
ORDER_FIELDS = {
    "id",
    "user_id",
    "status",
    "items",
    "total_cents",
    "currency",
    "expires_at",
    "created_at",
    "updated_at",
}
ITEM_FIELDS = {
    "product_id",
    "sku",
    "name",
    "quantity",
    "unit_price_cents",
    "line_total_cents",
}


@pytest.fixture
async def alice(app: Quart) -> Actor:
    return await make_actor(app)


@pytest.fixture
async def bob(app: Quart) -> Actor:
    return await make_actor(app)


@pytest.fixture
async def admin(app: Quart) -> Actor:
    return await make_actor(app, is_admin=True)


async def _product(app: Quart, **fields: Any) -> Product:
    async with extensions.database(app).session() as session:
        return await make_product(session, **fields)


async def _stock(app: Quart, product_id: int) -> int:
    async with extensions.database(app).session() as session:
        return (await session.get(Product, product_id)).stock  # type: ignore[union-attr]


async def _place(
    client: Client, actor: Actor, *lines: tuple[int, int]
) -> dict[str, Any]:
    body = {"items": [{"product_id": p, "quantity": q} for p, q in lines]}
    response = await client.post(URL, json=body, headers=actor.headers)
    assert response.status_code == 201, await response.get_json()
    return await response.get_json()  # type: ignore[no-any-return]


async def test_place_order_captures_prices_and_takes_stock(
    app: Quart, client: Client, alice: Actor
) -> None:
    mug = await _product(app, price_cents=1250, stock=5)
    tea = await _product(app, price_cents=300, stock=2)
    order = await _place(client, alice, (tea.id, 2), (mug.id, 3))
    assert set(order) == ORDER_FIELDS
    assert order["status"] == "pending"
    assert order["user_id"] == alice.user.id
    assert order["currency"] == "USD"
    assert order["total_cents"] == 3 * 1250 + 2 * 300
    assert [item["product_id"] for item in order["items"]] == [tea.id, mug.id]
    assert set(order["items"][0]) == ITEM_FIELDS
    assert order["items"][1] == {
        "product_id": mug.id,
        "sku": mug.sku,
        "name": mug.name,
        "quantity": 3,
        "unit_price_cents": 1250,
        "line_total_cents": 3750,
    }
    assert await _stock(app, mug.id) == 2
    assert await _stock(app, tea.id) == 0


async def test_order_keeps_prices_after_catalog_changes(
    app: Quart, client: Client, alice: Actor, admin: Actor
) -> None:
    product = await _product(app, price_cents=1000)
    order = await _place(client, alice, (product.id, 1))
    await client.patch(
        f"/api/v1/products/{product.id}",
        json={"price_cents": 5, "name": "Renamed"},
        headers=admin.headers,
    )
    again = await (
        await client.get(f"{URL}/{order['id']}", headers=alice.headers)
    ).get_json()
    assert again["items"][0]["unit_price_cents"] == 1000
    assert again["items"][0]["name"] == product.name


async def test_insufficient_stock_is_409_and_takes_nothing(
    app: Quart, client: Client, alice: Actor
) -> None:
    plenty = await _product(app, stock=10)
    scarce = await _product(app, stock=1)
    body = {
        "items": [
            {"product_id": plenty.id, "quantity": 4},
            {"product_id": scarce.id, "quantity": 2},
        ]
    }
    response = await client.post(URL, json=body, headers=alice.headers)
    problem = await response.get_json()
    assert response.status_code == 409
    assert problem["code"] == "insufficient_stock"
    assert problem["product_id"] == scarce.id
    assert await _stock(app, plenty.id) == 10
    assert await _stock(app, scarce.id) == 1


@pytest.mark.parametrize("active", [True, False])
async def test_unknown_or_inactive_product_is_404_naming_it(
    app: Quart, client: Client, alice: Actor, active: bool
) -> None:
    good = await _product(app, stock=3)
    missing = (await _product(app, is_active=False)).id if not active else 999_999
    body = {
        "items": [
            {"product_id": good.id, "quantity": 1},
            {"product_id": missing, "quantity": 1},
        ]
    }
    response = await client.post(URL, json=body, headers=alice.headers)
    problem = await response.get_json()
    assert response.status_code == 404
    assert problem["code"] == "product_not_found"
    assert problem["product_id"] == missing
    assert await _stock(app, good.id) == 3


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"items": []},
        {"items": [{"product_id": 1, "quantity": 0}]},
        {"items": [{"product_id": 1, "quantity": 1001}]},
        {"items": [{"product_id": 1}]},
        {"items": [{"product_id": 1, "quantity": 1, "price_cents": 1}]},
        {"items": [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}]},
        {"items": [{"product_id": n, "quantity": 1} for n in range(1, 102)]},
        {"items": [{"product_id": 1, "quantity": 1}], "user_id": 3},
        {"items": [{"product_id": 10**12, "quantity": 1}]},
        {"items": [{"product_id": 1, "quantity": True}]},
        {"items": [{"product_id": "1", "quantity": 1}]},
    ],
)
async def test_invalid_order_body_is_422(
    client: Client, alice: Actor, body: dict[str, Any] | None
) -> None:
    response = await client.post(URL, json=body, headers=alice.headers)
    problem = await response.get_json()
    assert response.status_code == 422
    assert problem["code"] == "validation_error"


async def test_a_hundred_lines_are_accepted(
    app: Quart, client: Client, alice: Actor
) -> None:
    products = [await _product(app, stock=1) for _ in range(100)]
    order = await _place(client, alice, *((p.id, 1) for p in products))
    assert len(order["items"]) == 100


async def test_orders_need_a_token(client: Client) -> None:
    assert (await client.post(URL, json={"items": []})).status_code == 401
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(f"{URL}/1")).status_code == 401


async def test_list_shows_own_orders_newest_first(
    app: Quart, client: Client, alice: Actor, bob: Actor
) -> None:
    product = await _product(app, stock=10)
    first = await _place(client, alice, (product.id, 1))
    second = await _place(client, alice, (product.id, 1))
    await _place(client, bob, (product.id, 1))
    response = await client.get(f"{URL}?user_id={bob.user.id}", headers=alice.headers)
    page = await response.get_json()
    assert response.status_code == 200
    assert [order["id"] for order in page["items"]] == [second["id"], first["id"]]
    assert page["total"] == 2
    assert page["pages"] == 1


async def test_admin_lists_all_and_filters_by_user_and_status(
    app: Quart, client: Client, alice: Actor, bob: Actor, admin: Actor
) -> None:
    product = await _product(app, stock=10)
    mine = await _place(client, alice, (product.id, 1))
    theirs = await _place(client, bob, (product.id, 1))
    await client.post(f"{URL}/{theirs['id']}/cancel", headers=bob.headers)

    async def ids(query: str, actor: Actor = admin) -> list[int]:
        response = await client.get(
            f"{URL}?per_page=100&{query}", headers=actor.headers
        )
        return [order["id"] for order in (await response.get_json())["items"]]

    assert {mine["id"], theirs["id"]} <= set(await ids(""))
    assert await ids(f"user_id={alice.user.id}") == [mine["id"]]
    assert await ids(f"user_id={bob.user.id}&status=cancelled") == [theirs["id"]]
    assert await ids(f"user_id={bob.user.id}&status=pending") == []
    assert await ids("status=cancelled", bob) == [theirs["id"]]


@pytest.mark.parametrize(
    "query", ["status=lost", "page=0", "per_page=500", "user_id=x"]
)
async def test_invalid_list_query_is_422(
    client: Client, alice: Actor, query: str
) -> None:
    response = await client.get(f"{URL}?{query}", headers=alice.headers)
    assert response.status_code == 422
    assert (await response.get_json())["errors"][0]["loc"][0] == "query"


async def test_get_order_for_owner_and_admin_only(
    app: Quart, client: Client, alice: Actor, bob: Actor, admin: Actor
) -> None:
    product = await _product(app)
    order = await _place(client, alice, (product.id, 2))
    path = f"{URL}/{order['id']}"
    assert await (await client.get(path, headers=alice.headers)).get_json() == order
    assert (await client.get(path, headers=admin.headers)).status_code == 200
    hidden = await client.get(path, headers=bob.headers)
    assert hidden.status_code == 404
    assert (await hidden.get_json())["code"] == "not_found"
    assert (await client.get(f"{URL}/999999", headers=admin.headers)).status_code == 404


async def test_cancel_restores_stock(app: Quart, client: Client, alice: Actor) -> None:
    product = await _product(app, stock=5)
    order = await _place(client, alice, (product.id, 4))
    response = await client.post(f"{URL}/{order['id']}/cancel", headers=alice.headers)
    body = await response.get_json()
    assert response.status_code == 200
    assert body["status"] == "cancelled"
    assert await _stock(app, product.id) == 5
    again = await client.post(f"{URL}/{order['id']}/cancel", headers=alice.headers)
    assert again.status_code == 409
    assert (await again.get_json())["code"] == "invalid_transition"
    assert await _stock(app, product.id) == 5


async def test_cancel_takes_no_fields(app: Quart, client: Client, alice: Actor) -> None:
    product = await _product(app, stock=5)
    order = await _place(client, alice, (product.id, 1))
    path = f"{URL}/{order['id']}/cancel"
    refused = await client.post(
        path, json={"reason": "changed my mind"}, headers=alice.headers
    )
    assert refused.status_code == 422
    assert (await refused.get_json())["errors"][0]["loc"] == ["body", "reason"]
    assert await _stock(app, product.id) == 4  # nothing changed
    accepted = await client.post(path, json={}, headers=alice.headers)
    assert accepted.status_code == 200


async def test_cancel_by_stranger_is_404_and_admin_may_cancel(
    app: Quart, client: Client, alice: Actor, bob: Actor, admin: Actor
) -> None:
    product = await _product(app, stock=5)
    order = await _place(client, alice, (product.id, 1))
    path = f"{URL}/{order['id']}/cancel"
    assert (await client.post(path, headers=bob.headers)).status_code == 404
    assert (
        await client.post(f"{URL}/999999/cancel", headers=alice.headers)
    ).status_code == 404
    assert (await client.post(path, headers=admin.headers)).status_code == 200


async def _move(client: Client, admin: Actor, order_id: int, status: str) -> Any:
    return await client.patch(
        f"{URL}/{order_id}", json={"status": status}, headers=admin.headers
    )


async def test_admin_walks_the_happy_path(
    app: Quart, client: Client, alice: Actor, admin: Actor
) -> None:
    product = await _product(app, stock=5)
    order = await _place(client, alice, (product.id, 1))
    for status in ("paid", " shipped ", "delivered"):  # stripped, like any string
        response = await _move(client, admin, order["id"], status)
        assert response.status_code == 200
        assert (await response.get_json())["status"] == status.strip()
    late = await client.post(f"{URL}/{order['id']}/cancel", headers=alice.headers)
    assert late.status_code == 409
    assert await _stock(app, product.id) == 4


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        ([], "paid", True),
        ([], "cancelled", True),
        ([], "shipped", False),
        ([], "delivered", False),
        ([], "pending", False),
        (["paid"], "shipped", True),
        (["paid"], "cancelled", True),
        (["paid"], "delivered", False),
        (["paid"], "pending", False),
        (["paid", "shipped"], "delivered", True),
        (["paid", "shipped"], "cancelled", False),
        (["paid", "shipped", "delivered"], "cancelled", False),
        (["cancelled"], "paid", False),
        (["cancelled"], "pending", False),
    ],
)
async def test_status_machine(
    app: Quart,
    client: Client,
    alice: Actor,
    admin: Actor,
    path: list[str],
    target: str,
    allowed: bool,
) -> None:
    product = await _product(app, stock=5)
    order = await _place(client, alice, (product.id, 2))
    for status in path:
        assert (await _move(client, admin, order["id"], status)).status_code == 200
    stock_before = await _stock(app, product.id)
    response = await _move(client, admin, order["id"], target)
    if allowed:
        assert response.status_code == 200
        restored = 2 if target == "cancelled" else 0
        assert await _stock(app, product.id) == stock_before + restored
    else:
        assert response.status_code == 409
        assert (await response.get_json())["code"] == "invalid_transition"
        assert await _stock(app, product.id) == stock_before


async def test_patch_order_errors(
    app: Quart, client: Client, alice: Actor, admin: Actor
) -> None:
    product = await _product(app)
    order = await _place(client, alice, (product.id, 1))
    path = f"{URL}/{order['id']}"
    own = await client.patch(path, json={"status": "paid"}, headers=alice.headers)
    assert own.status_code == 403
    assert (await _move(client, admin, 999_999, "paid")).status_code == 404
    for bad in ({"status": "lost"}, {}, {"status": "paid", "total_cents": 0}):
        response = await client.patch(path, json=bad, headers=admin.headers)
        assert response.status_code == 422


async def test_every_change_records_an_event(
    app: Quart, client: Client, alice: Actor, admin: Actor
) -> None:
    product = await _product(app)
    order = await _place(client, alice, (product.id, 1))
    paid = await (await _move(client, admin, order["id"], "paid")).get_json()
    async with extensions.database(app).session() as session:
        events = list(
            await session.scalars(
                select(OrderEvent)
                .where(OrderEvent.order_id == order["id"])
                .order_by(OrderEvent.id)
            )
        )
    assert [(e.previous_status, e.status) for e in events] == [
        (None, "pending"),
        ("pending", "paid"),
    ]
    assert all(e.user_id == alice.user.id for e in events)
    assert events[0].order_snapshot == order
    assert events[1].order_snapshot == paid


async def test_huge_ids_are_404_not_500(client: Client, admin: Actor) -> None:
    huge = 10**25
    for method, path, body in [
        ("GET", f"{URL}/{huge}", None),
        ("POST", f"{URL}/{huge}/cancel", {}),
        ("PATCH", f"{URL}/{huge}", {"status": "paid"}),
    ]:
        response = await client.open(
            path, method=method, json=body, headers=admin.headers
        )
        assert response.status_code == 404, method
    listed = await client.get(f"{URL}?user_id={huge}", headers=admin.headers)
    assert listed.status_code == 422
