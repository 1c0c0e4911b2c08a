"""The Products section of the contract, row by row, on both backends."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from backend import extensions
from backend.models import Product, User
from tests.support.actors import make_actor
from tests.support.factories import make_product, make_user

URL = "/api/v1/products"
PRODUCT_FIELDS = {
    "id",
    "sku",
    "name",
    "description",
    "price_cents",
    "currency",
    "stock",
    "is_active",
    "created_at",
    "updated_at",
}


async def _user(app: Quart, *, is_admin: bool = False) -> User:
    async with extensions.database(app).session() as session:
        return await make_user(session, app, is_admin=is_admin)


async def _products(app: Quart, *specs: dict[str, Any]) -> list[Product]:
    async with extensions.database(app).session() as session:
        return [await make_product(session, **spec) for spec in specs]


@pytest.fixture
async def admin(app: Quart) -> dict[str, str]:
    return (await make_actor(app, is_admin=True)).headers


@pytest.fixture
async def member(app: Quart) -> dict[str, str]:
    return (await make_actor(app)).headers


async def _ids(client: Client, query: str, headers: Any = None) -> list[int]:
    response = await client.get(f"{URL}?per_page=100&{query}", headers=headers)
    assert response.status_code == 200, await response.get_json()
    return [item["id"] for item in (await response.get_json())["items"]]


async def test_list_is_public_paginated_and_hides_inactive(
    app: Quart, client: Client
) -> None:
    active, inactive = await _products(app, {}, {"is_active": False})
    response = await client.get(f"{URL}?per_page=100")
    body = await response.get_json()
    assert response.status_code == 200
    assert {"items", "total", "page", "per_page", "pages"} <= body.keys()
    ids = [item["id"] for item in body["items"]]
    assert active.id in ids
    assert inactive.id not in ids
    assert set(body["items"][0]) == PRODUCT_FIELDS
    assert body["items"][0]["currency"] == "USD"


async def test_include_inactive_works_for_admins_only(
    app: Quart, client: Client, admin: dict[str, str], member: dict[str, str]
) -> None:
    (inactive,) = await _products(app, {"is_active": False})
    query = "include_inactive=true"
    assert inactive.id in await _ids(client, query, admin)
    assert inactive.id not in await _ids(client, query, member)
    assert inactive.id not in await _ids(client, query)
    bad = {"Authorization": "Bearer not-a-token"}
    assert inactive.id not in await _ids(client, query, bad)


async def test_q_matches_name_sku_description_case_insensitively(
    app: Quart, client: Client
) -> None:
    tag = "zq" + str(id(client))[-6:]
    by_name, by_sku, by_desc, _other = await _products(
        app,
        {"name": f"Big {tag.upper()} mug"},
        {"sku": f"{tag}-SKU"},
        {"description": f"made with {tag} care"},
        {"name": "unrelated"},
    )
    assert set(await _ids(client, f"q={tag}")) == {by_name.id, by_sku.id, by_desc.id}


async def test_q_treats_percent_and_underscore_literally(
    app: Quart, client: Client
) -> None:
    tag = "lit" + str(id(client))[-6:]
    percent, underscore, plain = await _products(
        app,
        {"name": f"{tag} 100% cotton"},
        {"name": f"{tag} snake_case"},
        {"name": f"{tag} 100 cottonx snakeXcase"},
    )
    assert await _ids(client, f"q={tag}%20100%25") == [percent.id]
    assert await _ids(client, f"q={tag}%20snake_") == [underscore.id]
    assert plain.id not in await _ids(client, "q=%25")


async def test_price_filters_are_inclusive(app: Quart, client: Client) -> None:
    tag = "price" + str(id(client))[-6:]
    cheap, mid, dear = await _products(
        app,
        {"name": f"{tag} a", "price_cents": 100},
        {"name": f"{tag} b", "price_cents": 200},
        {"name": f"{tag} c", "price_cents": 300},
    )
    ids = await _ids(client, f"q={tag}&min_price_cents=200&max_price_cents=300")
    assert ids == [mid.id, dear.id]
    assert await _ids(client, f"q={tag}&max_price_cents=100") == [cheap.id]


async def test_in_stock_filter(app: Quart, client: Client) -> None:
    tag = "stock" + str(id(client))[-6:]
    stocked, empty = await _products(
        app, {"name": f"{tag} a", "stock": 3}, {"name": f"{tag} b", "stock": 0}
    )
    assert await _ids(client, f"q={tag}&in_stock=true") == [stocked.id]
    assert await _ids(client, f"q={tag}&in_stock=false") == [empty.id]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("id", [0, 1, 2, 3]),
        ("name", [1, 3, 0, 2]),
        ("-name", [0, 2, 1, 3]),
        ("price_cents", [2, 0, 1, 3]),
        ("-price_cents", [1, 3, 0, 2]),
        ("created_at", [0, 1, 2, 3]),
        ("-created_at", [3, 2, 1, 0]),
    ],
)
async def test_sorts_break_ties_by_id(
    app: Quart, client: Client, sort: str, expected: list[int]
) -> None:
    tag = "sort" + str(id(client))[-6:]
    made = await _products(
        app,
        {"name": f"{tag} b", "price_cents": 200},
        {"name": f"{tag} a", "price_cents": 300},
        {"name": f"{tag} b", "price_cents": 100},
        {"name": f"{tag} a", "price_cents": 300},
    )
    ids = await _ids(client, f"q={tag}&sort={sort}")
    assert ids == [made[i].id for i in expected]
    assert await _ids(client, f"q={tag}&sort=%20{sort}%20") == ids  # stripped


@pytest.mark.parametrize(
    "query",
    [
        "sort=stock",
        "min_price_cents=-1",
        "max_price_cents=-5",
        "in_stock=maybe",
        "page=0",
        "per_page=101",
        "per_page=0",
    ],
)
async def test_invalid_list_query_is_422(client: Client, query: str) -> None:
    response = await client.get(f"{URL}?{query}")
    body = await response.get_json()
    assert response.status_code == 422
    assert body["code"] == "validation_error"
    assert body["errors"][0]["loc"][0] == "query"


async def test_page_past_the_end_is_empty(app: Quart, client: Client) -> None:
    await _products(app, {})
    response = await client.get(f"{URL}?page=100000")
    body = await response.get_json()
    assert response.status_code == 200
    assert body["items"] == []
    assert body["page"] == 100000


async def test_get_product_with_etag_and_304(app: Quart, client: Client) -> None:
    (product,) = await _products(app, {"description": "hello"})
    response = await client.get(f"{URL}/{product.id}")
    body = await response.get_json()
    assert response.status_code == 200
    assert set(body) == PRODUCT_FIELDS
    etag = response.headers["ETag"]
    assert etag.startswith('"')
    cached = await client.get(f"{URL}/{product.id}", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert await cached.get_data() == b""
    assert cached.headers["ETag"] == etag
    stale = await client.get(f"{URL}/{product.id}", headers={"If-None-Match": '"x"'})
    assert stale.status_code == 200


async def test_get_shows_the_product_as_the_list_and_patch_do(
    app: Quart, client: Client, admin: dict[str, str]
) -> None:
    (product,) = await _products(app, {"description": "déjà vu"})
    one = await client.get(f"{URL}/{product.id}")
    listed = await _ids(client, "")
    page = await (await client.get(f"{URL}?per_page=100")).get_json()
    patched = await client.patch(f"{URL}/{product.id}", json={}, headers=admin)
    assert one.content_type == "application/json"
    body = await one.get_json()
    assert product.id in listed
    assert body == next(item for item in page["items"] if item["id"] == product.id)
    assert body == await patched.get_json()
    assert body["created_at"].endswith(("Z", "+00:00"))  # ISO 8601, UTC


async def test_the_body_is_compact_sorted_json_and_the_etag_hashes_it(
    app: Quart, client: Client
) -> None:
    (product,) = await _products(app, {"description": "déjà vu"})
    response = await client.get(f"{URL}/{product.id}")
    body = await response.get_data()
    document = json.loads(body)
    # What the app's JSON provider sends for any model: sorted keys, UTF-8.
    assert (
        body
        == json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    )
    digest = hashlib.sha256(body).hexdigest()[:32]
    assert response.headers["ETag"] == f'"{digest}"'


async def test_etag_changes_when_the_product_changes(
    app: Quart, client: Client, admin: dict[str, str]
) -> None:
    (product,) = await _products(app, {})
    before = (await client.get(f"{URL}/{product.id}")).headers["ETag"]
    await client.patch(f"{URL}/{product.id}", json={"stock": 99}, headers=admin)
    response = await client.get(
        f"{URL}/{product.id}", headers={"If-None-Match": before}
    )
    assert response.status_code == 200
    assert response.headers["ETag"] != before


async def test_unknown_or_inactive_product_is_404(
    app: Quart, client: Client, admin: dict[str, str], member: dict[str, str]
) -> None:
    (inactive,) = await _products(app, {"is_active": False})
    for path, headers in [
        (f"{URL}/999999", admin),
        (f"{URL}/{inactive.id}", None),
        (f"{URL}/{inactive.id}", member),
    ]:
        response = await client.get(path, headers=headers)
        assert response.status_code == 404
        assert (await response.get_json())["code"] == "not_found"
    seen = await client.get(f"{URL}/{inactive.id}", headers=admin)
    assert seen.status_code == 200


def _new(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": f"NEW-{id(overrides)}",
        "name": "  New thing  ",
        "price_cents": 1299,
        "stock": 5,
    }
    return body | overrides


async def test_admin_creates_a_product(client: Client, admin: dict[str, str]) -> None:
    response = await client.post(URL, json=_new(), headers=admin)
    body = await response.get_json()
    assert response.status_code == 201
    assert set(body) == PRODUCT_FIELDS
    assert body["name"] == "New thing"
    assert body["description"] is None
    assert body["is_active"] is True
    assert (await client.get(f"{URL}/{body['id']}")).status_code == 200


async def test_create_needs_an_admin(client: Client, member: dict[str, str]) -> None:
    assert (await client.post(URL, json=_new())).status_code == 401
    response = await client.post(URL, json=_new(), headers=member)
    assert response.status_code == 403
    assert (await response.get_json())["code"] == "forbidden"


async def test_sku_is_unique_case_insensitively(
    client: Client, admin: dict[str, str]
) -> None:
    sku = f"Dup-{id(admin)}"
    assert (
        await client.post(URL, json=_new(sku=sku), headers=admin)
    ).status_code == 201
    response = await client.post(URL, json=_new(sku=sku.upper()), headers=admin)
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "sku_taken"


@pytest.mark.parametrize(
    "override",
    [
        {"sku": ""},
        {"sku": "x" * 65},
        {"name": "   "},
        {"name": "x" * 201},
        {"description": "x" * 5001},
        {"price_cents": -1},
        {"price_cents": 100_000_001},
        {"price_cents": 12.5},
        {"stock": -1},
        {"stock": 1_000_001},
        {"stock": False},
        {"price_cents": "12"},
        {"colour": "red"},
        {"is_active": False},
    ],
)
async def test_create_validates_fields(
    client: Client, admin: dict[str, str], override: dict[str, Any]
) -> None:
    response = await client.post(URL, json=_new(**override), headers=admin)
    assert response.status_code == 422
    assert (await response.get_json())["errors"][0]["loc"][0] == "body"


async def test_a_nul_character_is_a_422_in_bodies_and_queries(
    client: Client, admin: dict[str, str]
) -> None:
    # PostgreSQL cannot store or compare U+0000 in text: a 500 before this rule.
    body = _new(sku="NUL-LAMP", name="Lamp\x00")
    created = await client.post(URL, json=body, headers=admin)
    assert created.status_code == 422
    assert (await created.get_json())["errors"][0]["loc"] == ["body", "name"]
    searched = await client.get(f"{URL}?q=lamp%00")
    assert searched.status_code == 422
    assert (await searched.get_json())["errors"][0]["loc"] == ["query", "q"]
    assert await _ids(client, "q=NUL-LAMP") == []


async def test_create_accepts_the_limits(client: Client, admin: dict[str, str]) -> None:
    integral_float = _new(stock=7.0, sku="FLOAT-OK")
    assert (
        await client.post(URL, json=integral_float, headers=admin)
    ).status_code == 201
    body = _new(
        sku="L" * 64,
        name="n" * 200,
        description="d" * 5000,
        price_cents=100_000_000,
        stock=1_000_000,
    )
    assert (await client.post(URL, json=body, headers=admin)).status_code == 201


async def test_admin_patches_any_field(
    app: Quart, client: Client, admin: dict[str, str]
) -> None:
    (product,) = await _products(app, {"description": "old"})
    changes = {"name": "Renamed", "price_cents": 5, "description": None}
    response = await client.patch(f"{URL}/{product.id}", json=changes, headers=admin)
    body = await response.get_json()
    assert response.status_code == 200
    assert body["name"] == "Renamed"
    assert body["price_cents"] == 5
    assert body["description"] is None
    assert body["sku"] == product.sku
    response = await client.patch(
        f"{URL}/{product.id}", json={"is_active": False}, headers=admin
    )
    assert (await response.get_json())["is_active"] is False
    assert (await client.get(f"{URL}/{product.id}")).status_code == 404


async def test_patch_errors(
    app: Quart, client: Client, admin: dict[str, str], member: dict[str, str]
) -> None:
    first, second = await _products(app, {}, {})
    path = f"{URL}/{first.id}"
    assert (
        await client.patch(path, json={"stock": 1}, headers=member)
    ).status_code == 403
    missing = await client.patch(f"{URL}/999999", json={"stock": 1}, headers=admin)
    assert missing.status_code == 404
    taken = await client.patch(path, json={"sku": second.sku.lower()}, headers=admin)
    assert taken.status_code == 409
    assert (await taken.get_json())["code"] == "sku_taken"
    for bad in ({"name": None}, {"stock": -1}, {"id": 5}):
        assert (await client.patch(path, json=bad, headers=admin)).status_code == 422


async def test_delete_is_a_soft_delete(
    app: Quart, client: Client, admin: dict[str, str], member: dict[str, str]
) -> None:
    (product,) = await _products(app, {})
    path = f"{URL}/{product.id}"
    assert (await client.delete(path, headers=member)).status_code == 403
    assert (await client.delete(f"{URL}/999999", headers=admin)).status_code == 404
    response = await client.delete(path, headers=admin)
    assert response.status_code == 204
    assert await response.get_data() == b""
    assert (await client.get(path)).status_code == 404
    kept = await client.get(path, headers=admin)
    assert (await kept.get_json())["is_active"] is False


async def test_huge_numbers_are_handled_not_500(
    app: Quart, client: Client, admin: dict[str, str]
) -> None:
    (product,) = await _products(app, {"price_cents": 100_000_000})
    huge = 10**25
    assert product.id in await _ids(client, f"max_price_cents={huge}")
    assert await _ids(client, f"min_price_cents={huge}") == []
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.open(
            f"{URL}/{huge}", method=method, json={"stock": 1}, headers=admin
        )
        assert response.status_code == 404, method
