"""The `read-list` ceiling: `GET /api/v1/products` on raw asyncpg, no framework.

Served by `bench.ceiling_app` on the same Hypercorn configuration as the
service. It runs the statements the service runs for the same query (the
text below is what SQLAlchemy compiles for the service's list statements on
PostgreSQL; tests/bench/test_ceiling_list.py keeps the two identical) and
answers the same JSON document (sorted keys, UTC times with `Z`). Query
parsing is minimal: the benchmark sends only valid queries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

_COLUMNS = (
    "product.id, product.sku, product.name, product.description, "
    "product.price_cents, product.stock, product.is_active, "
    "product.created_at, product.updated_at"
)
ORDERS = {
    "id": "product.id ASC",
    "name": "product.name ASC",
    "-name": "product.name DESC",
    "price_cents": "product.price_cents ASC",
    "-price_cents": "product.price_cents DESC",
    "created_at": "product.created_at ASC",
    "-created_at": "product.created_at DESC",
}
_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z


def where_clause(query: dict[str, str]) -> tuple[str, list[Any]]:
    """The WHERE of the service's list statement for these price filters."""
    conditions, args = [], []
    for name, operator in (("min_price_cents", ">="), ("max_price_cents", "<=")):
        if name in query:
            args.append(int(query[name]))
            conditions.append(f"product.price_cents {operator} ${len(args)}::INTEGER")
    conditions.append("product.is_active IS true")
    return " AND ".join(conditions), args


def count_sql(where: str) -> str:
    return (
        f"SELECT count(*) AS count_1 \nFROM (SELECT {_COLUMNS} \nFROM product "
        f"\nWHERE {where}) AS anon_1"
    )


def page_sql(where: str, sort: str, first_arg: int) -> str:
    return (
        f"SELECT {_COLUMNS} \nFROM product \nWHERE {where} "
        f"ORDER BY {ORDERS[sort]}, product.id ASC \n"
        f" LIMIT ${first_arg}::INTEGER OFFSET ${first_arg + 1}::INTEGER"
    )


async def list_page(pool: Any, query_string: bytes) -> bytes:
    """The page document for this query string, from two statements."""
    query = dict(parse_qsl(query_string.decode()))
    page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
    where, args = where_clause(query)
    sql = page_sql(where, query.get("sort", "id"), len(args) + 1)
    async with pool.acquire() as connection:
        total = await connection.fetchval(count_sql(where), *args)
        offset = (page - 1) * per_page
        rows = (
            await connection.fetch(sql, *args, per_page, offset)
            if offset < total
            else []
        )
    items = [dict(row) | {"currency": "USD"} for row in rows]
    pages = -(-total // per_page)
    document = {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": pages,
    }
    return orjson.dumps(document, option=_JSON)
