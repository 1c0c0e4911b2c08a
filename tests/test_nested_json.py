"""JSON nested past the parser's limit is malformed JSON: 400, on every route."""

from __future__ import annotations

import logging

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from backend.db import get_database
from tests.support.factories import bearer_for, make_user

DEEP = ("[" * 100_000 + "]" * 100_000).encode()
BODY_METHODS = ("POST", "PUT", "PATCH")


def _routes_with_bodies(app: Quart) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.websocket or not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
        path = path.format(**dict.fromkeys(rule.arguments, "1"))
        routes += [
            (method, path)
            for method in sorted(rule.methods or ())
            if method in BODY_METHODS
        ]
    return routes


async def test_deeply_nested_json_is_a_bad_request_everywhere(
    app: Quart, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    async with get_database(app).session() as session:
        admin = await make_user(session, app, is_admin=True)
    headers = await bearer_for(app, admin) | {"Content-Type": "application/json"}
    routes = _routes_with_bodies(app)
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
