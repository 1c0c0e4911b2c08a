"""The read-list ceiling runs exactly the statements the service runs."""

from __future__ import annotations

import pytest
from bench.ceiling_list import list_statements
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
    plan = products._list_plan(shape)
    count, sql, args = list_statements(query)
    assert sql == str(plan.statement.compile(dialect=dialect))
    # The ceiling plans a filtered window per call: so must the service.
    assert bool(plan.statement.get_execution_options().get(PLAN_PER_CALL)) == filtered
    if plan.count is None:
        assert count is None
    else:
        assert count is not None
        compiled = plan.count.compile(dialect=dialect)
        assert count[0] == str(compiled)
        bounds = products.price_range_bounds(100, 900)
        assert count[1] == [bounds[name] for name in compiled.positiontup or ()]
    assert (count is None) == (not filtered)
    assert args == ([100, 900] if filtered else [1])
