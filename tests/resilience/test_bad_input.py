"""Bad input: arbitrary JSON at every request body, arbitrary strings at every query.

The operations come from the app's own OpenAPI document, so a new route is
covered as soon as it exists. Whatever arrives, the answer is never a 5xx,
and every error is a problem document.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart
from quart.typing import TestClientProtocol as Client

from backend.app import create_app
from tests.conftest import make_settings
from tests.support.actors import make_actor

pytestmark = pytest.mark.resilience

EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _document() -> dict[str, Any]:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))

    async def fetch() -> dict[str, Any]:
        document: dict[str, Any] = await (
            await app.test_client().get("/openapi.json")
        ).get_json()
        return document

    return asyncio.run(fetch())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


DOCUMENT = _document()
OPERATIONS = _operations(DOCUMENT)
WITH_BODY = [op for op in OPERATIONS if "requestBody" in op[2]]
WITH_QUERY = [
    op for op in OPERATIONS if any(p["in"] == "query" for p in op[2]["parameters"])
]


def _body_keys(operation: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """Property names of the body schema, so examples reach deeper validation."""
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("properties", {})) or ["x"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _concrete(path: str) -> str:
    """Path parameters filled with an id that may or may not exist."""
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
async def admin_headers(app: Quart) -> dict[str, str]:
    return (await make_actor(app, is_admin=True)).headers


async def _assert_clean(response: Any, what: str) -> None:
    assert response.status_code < 500 or response.status_code == 503, what
    if response.status_code >= 400:
        assert response.content_type == "application/problem+json", what
        body = await response.get_json()
        assert body["status"] == response.status_code, what


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    WITH_BODY,
    ids=[f"{m} {p}" for m, p, _ in WITH_BODY],
)
@EXAMPLES
@given(data=st.data())
async def test_arbitrary_json_bodies_never_break_a_route(
    client: Client,
    admin_headers: dict[str, str],
    method: str,
    path: str,
    operation: dict[str, Any],
    data: st.DataObject,
) -> None:
    keys = _body_keys(operation, DOCUMENT)
    shaped = st.dictionaries(st.sampled_from(keys), JSON, max_size=len(keys) + 1)
    body = data.draw(shaped | JSON)
    response = await client.open(  # type: ignore[call-arg]
        _concrete(path),
        method=method,
        data=json.dumps(body),  # stdlib: any int size
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    await _assert_clean(response, f"{method} {path} {body!r}")


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    WITH_QUERY,
    ids=[f"{m} {p}" for m, p, _ in WITH_QUERY],
)
@EXAMPLES
@given(data=st.data())
async def test_arbitrary_query_strings_never_break_a_route(
    client: Client,
    admin_headers: dict[str, str],
    method: str,
    path: str,
    operation: dict[str, Any],
    data: st.DataObject,
) -> None:
    names = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
    # Number-like strings too: out-of-range numbers are the classic 500.
    values = st.text() | st.from_regex(r"\A-?[0-9]{1,30}\Z")
    query = data.draw(st.dictionaries(st.sampled_from(names), values, min_size=1))
    url = f"{_concrete(path)}?{urlencode(query)}"
    response = await client.open(  # type: ignore[call-arg]
        url, method=method, headers=admin_headers
    )
    await _assert_clean(response, f"{method} {url}")
