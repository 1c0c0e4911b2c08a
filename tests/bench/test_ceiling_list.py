"""The read-list ceiling runs exactly the statements the service runs."""

from __future__ import annotations

import pytest
from bench.ceiling_list import list_statement
from sqlalchemy.dialects.postgresql import asyncpg

from backend.db.driver_reads import PLAN_PER_CALL
from backend.services import products

SORTS = ["id", "name", "-name", "price_cents", "-price_cents", "created_at"]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("filtered", [False, True])
def test_the_ceiling_sql_is_the_services(sort: str, filtered: bool) -> None:
    query = {"sort": sort}
    if filtered:
        query |= {"min_price_cents": "100", "max_price_cents": "900"}
    shape = products._ListShape(
        q=False,
        min_price=filtered,
        max_price=filtered,
        in_stock=None,
        include_inactive=False,
        sort=sort,
    )
    dialect = asyncpg.dialect()  # type: ignore[no-untyped-call]
    statement = products._list_statement(shape)
    compiled = statement.compile(dialect=dialect)
    sql, args, per_call = list_statement(query)
    assert sql == str(compiled)
    # The ceiling plans a price range's page per call: so must the service.
    options = statement.get_execution_options()
    assert per_call == filtered == bool(options.get(PLAN_PER_CALL))
    bounds = products.price_range_bounds(100, 900) if filtered else {}
    params = bounds | {"min_price_cents": 100, "max_price_cents": 900}
    leading = (compiled.positiontup or [])[: len(args)]
    assert args == ([params[name] for name in leading] if filtered else [1])
