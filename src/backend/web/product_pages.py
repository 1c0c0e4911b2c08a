"""The catalog page's JSON, encoded once, straight from the list's rows.

`GET /products` is the busiest uncached read. Building a `ProductOut` per row
and a `ProductPage` around them, then dumping them again for the body,
validated every value twice and cost more than the query. The rows come from
typed columns (services.products.LIST_COLUMNS), so the body is encoded from
them directly, as the same document `ProductPage` describes: sorted keys, UTC
times with `Z`, and Quart's trailing newline. tests/web/test_product_pages.py
checks it against `ProductPage` field for field.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson

from backend.services.pagination import PageResult

_MAX_INT64 = 2**63 - 1
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE


def encode_product_page(page: PageResult[dict[str, Any]], currency: str) -> bytes:
    """The body of a product page, as `ProductPage` documents it."""
    for item in page.items:
        item["currency"] = currency
    document = page.as_dict()
    if page.page <= _MAX_INT64:
        return orjson.dumps(document, option=_OPTIONS)
    # A page number past 64 bits (valid, and echoed back): orjson refuses it.
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=_iso)
    return text.encode() + b"\n"


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
