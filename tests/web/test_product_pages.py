"""The list's body, encoded from rows, is exactly the document ProductPage gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from backend.schemas.product import ProductOut, ProductPage
from backend.services.pagination import PageResult
from backend.web.product_pages import encode_product_page


def _row(product_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "id": product_id,
        "sku": f"SKU-{product_id}",
        "name": "Crème brûlée ☕",
        "description": None,
        "price_cents": 1999,
        "stock": 0,
        "is_active": True,
        "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    } | changes


def _expected(page: PageResult[dict[str, Any]], currency: str) -> dict[str, Any]:
    items = [ProductOut(currency=currency, **row) for row in page.items]
    model = ProductPage(**(page.as_dict() | {"items": items}))
    return model.model_dump(mode="json")


def test_the_body_is_the_product_page_document() -> None:
    rows = [_row(1), _row(2, description="Plain", is_active=False, stock=7)]
    page = PageResult([dict(row) for row in rows], total=41, page=2, per_page=2)
    body = encode_product_page(page, "EUR")
    assert body.endswith(b"}\n")  # as Quart ends its JSON responses
    assert json.loads(body) == _expected(PageResult(rows, 41, 2, 2), "EUR")
    assert b'"created_at":"2026-01-02T03:04:05Z"' in body
    assert b'"updated_at":"2026-01-02T03:04:05.678901Z"' in body


def test_a_page_number_past_64_bits_is_still_encoded() -> None:
    page: PageResult[dict[str, Any]] = PageResult([], total=3, page=10**30, per_page=20)
    body = encode_product_page(page, "USD")
    assert json.loads(body) == _expected(page, "USD")
    assert body.endswith(b"}\n")
