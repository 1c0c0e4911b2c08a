"""JSON nested past the parser's limit is malformed JSON: 400, on every route."""

from __future__ import annotations

import logging
import re

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from backend import extensions
from tests.support.factories import bearer_for, make_user

DEEP = ("[" * 100_000 + "]" * 100_000).encode()


async def _routes_with_bodies(client: Client) -> list[tuple[str, str]]:
    """Every operation that reads a JSON body, as documented (ids set to 1)."""
    document = await (await client.get("/openapi.json")).get_json()
    return [
        (method.upper(), re.sub(r"\{\w+\}", "1", path))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]


async def test_deeply_nested_json_is_a_bad_request_everywhere(
    app: Quart, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    async with extensions.database(app).session() as session:
        admin = await make_user(session, app, is_admin=True)
    headers = await bearer_for(app, admin) | {"Content-Type": "application/json"}
    routes = await _routes_with_bodies(client)
    assert len(routes) >= 10
    with caplog.at_level(logging.ERROR):
        for method, path in routes:
            response = await client.open(  # type: ignore[call-arg]
                path, method=method, data=DEEP, headers=headers
            )
            problem = await response.get_json()
            assert (response.status_code, problem["code"]) == (400, "bad_request"), (
                method,
                path,
                problem,
            )
            assert response.content_type == "application/problem+json"
    assert not [r for r in caplog.records if r.exc_info], "no traceback is logged"
