"""The `read-list` ceiling: `GET /api/v1/products` on raw asyncpg, no framework.

Served by `bench.ceiling_app` on the same Hypercorn configuration as the
service. It runs the statements the service runs for the same query (the
text below is what SQLAlchemy compiles for the service's list statements on
PostgreSQL, a filtered window planned per call as the service plans it;
tests/bench/test_ceiling_list.py keeps the two identical) and answers the same
JSON document (sorted keys, UTC times with `Z`, a trailing newline). Query
parsing is minimal: the benchmark sends only valid queries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

from backend.services.products import price_range_bounds

_NAMES = (
    "id",
    "sku",
    "name",
    "description",
    "price_cents",
    "stock",
    "is_active",
    "created_at",
    "updated_at",
)
_INNER = ", ".join(f"product.{name} AS {name}" for name in _NAMES)
_OUTER = ", ".join(f'"window".{name}' for name in _NAMES)
_PLAIN = ", ".join(f"product.{name}" for name in _NAMES)
ORDERS = {
    "id": ("id", "ASC"),
    "name": ("name", "ASC"),
    "-name": ("name", "DESC"),
    "price_cents": ("price_cents", "ASC"),
    "-price_cents": ("price_cents", "DESC"),
    "created_at": ("created_at", "ASC"),
    "-created_at": ("created_at", "DESC"),
}
_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE


def _price_counts(query: dict[str, str]) -> tuple[str, list[Any]]:
    """The count of a price range: whole price buckets summed, both ends counted."""
    low, high = query.get("min_price_cents"), query.get("max_price_cents")
    bounds = price_range_bounds(
        None if low is None else int(low), None if high is None else int(high)
    )

    def counted(name: str, first: int) -> str:
        return (
            f"(SELECT count(*) AS {name} \nFROM product \n"
            f"WHERE product.price_cents >= ${first}::INTEGER"
            f" AND product.price_cents <= ${first + 1}::INTEGER"
            " AND product.is_active IS true)"
        )

    sql = (
        "SELECT (SELECT coalesce(sum(product_price_bucket.active), 0) AS coalesce_1"
        " \nFROM product_price_bucket \n"
        "WHERE product_price_bucket.bucket >= $1::INTEGER"
        " AND product_price_bucket.bucket < $2::INTEGER)"
        f" + {counted('count_1', 3)} + {counted('count_2', 5)} AS total"
    )
    names = ("whole_from", "whole_to", "low_from", "low_to", "high_from", "high_to")
    return sql, [bounds[name] for name in names]


def list_statements(
    query: dict[str, str],
) -> tuple[tuple[str, list[Any]] | None, str, list[Any]]:
    """The service's statements for these price filters and sort: the count
    and its arguments (None when the total is joined into the page), the page,
    and the page's leading arguments (LIMIT and OFFSET follow them)."""
    conditions, args = [], []
    for name, operator in (("min_price_cents", ">="), ("max_price_cents", "<=")):
        if name in query:
            args.append(int(query[name]))
            conditions.append(f"product.price_cents {operator} ${len(args)}::INTEGER")
    conditions.append("product.is_active IS true")
    where = " AND ".join(conditions)
    column, direction = ORDERS[query.get("sort", "id")]
    inner = f"product.{column} {direction}"
    outer = f'"window".{column} {direction}'
    if column != "id":
        inner += ", product.id ASC"
        outer += ', "window".id ASC'
    if args:  # filtered: the rows are counted, then the window is read
        limit = len(args) + 1
        window = (
            f"SELECT {_PLAIN} \nFROM product \nWHERE {where} ORDER BY {inner} \n"
            f" LIMIT ${limit}::INTEGER OFFSET ${limit + 1}::INTEGER"
        )
        return _price_counts(query), window, args
    args.append(1)  # unfiltered: the trigger-kept counter, joined to the window
    total = (
        "SELECT product_count.active AS total \nFROM product_count \n"
        "WHERE product_count.id = $1::INTEGER"
    )
    sql = (
        f"SELECT counted.total, {_OUTER} \nFROM ({total}) AS counted "
        f"LEFT OUTER JOIN (SELECT {_INNER} \nFROM product \nWHERE {where} "
        f"ORDER BY {inner} \n LIMIT $2::INTEGER OFFSET $3::INTEGER)"
        f' AS "window" ON true ORDER BY {outer}'
    )
    return None, sql, args


async def list_page(pool: Any, query_string: bytes) -> bytes:
    """The page document for this query string, from the service's statements."""
    query = dict(parse_qsl(query_string.decode()))
    page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
    count, sql, args = list_statements(query)
    offset = min((page - 1) * per_page, 2**31 - 1)
    async with pool.acquire() as connection:
        if count is None:
            rows = await connection.fetch(sql, *args, per_page, offset)
            total, skip = rows[0][0], 1
        else:
            count_sql, count_args = count
            total, skip = await connection.fetchval(count_sql, *count_args), 0
            rows = []
            if offset < total:
                # Planned per call, as the service plans a filtered window
                # (backend.db.driver_reads, PLAN_PER_CALL).
                unnamed = await connection.prepare(sql, name="")
                rows = await unnamed.fetch(*args, per_page, offset)
    items = []
    if offset < total:
        for row in rows:
            item = dict(zip(_NAMES, row[skip:], strict=True))
            item["currency"] = "USD"
            items.append(item)
    document = {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": -(-total // per_page),
    }
    return orjson.dumps(document, option=_JSON)
