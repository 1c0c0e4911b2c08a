"""Liveness, readiness and the API documents."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import asyncpg
from quart.typing import TestClientProtocol as Client
from sqlalchemy import make_url

from backend.app import create_app
from tests.conftest import make_settings
from tests.support.databases import _asyncpg_dsn, admin_url


async def test_health_is_ok(client: Client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


async def test_ready_checks_the_database(client: Client) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok", "database": "ok"}


async def test_ready_is_503_when_the_database_is_unreachable() -> None:
    settings = make_settings(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none", db_connect_timeout=1
    )
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.content_type == "application/problem+json"
        assert (await ready.get_json())["code"] == "service_unavailable"
        assert (await client.get("/health")).status_code == 200


async def test_a_database_refusing_connections_is_503_everywhere(
    fresh_database_url: Callable[[str], Awaitable[str]],
) -> None:
    url = await fresh_database_url("postgresql")
    app = create_app(make_settings(url, db_connect_timeout=2))
    async with app.test_app():
        client = app.test_client()
        assert (await client.get("/ready")).status_code == 200
        await _refuse_connections(url)
        answers = [
            await client.get("/ready"),
            await client.get("/api/v1/products"),
            await client.post(
                "/api/v1/auth/login", json={"username": "x", "password": "y"}
            ),
        ]
        for answer in answers:
            assert answer.status_code == 503, await answer.get_data(as_text=True)
            assert answer.content_type == "application/problem+json"
            assert (await answer.get_json())["code"] == "service_unavailable"
            assert answer.headers["Retry-After"]


async def _refuse_connections(url: str) -> None:
    """What PostgreSQL says to new connections is 55000, not a network error."""
    name = make_url(url).database
    admin = await asyncpg.connect(_asyncpg_dsn(admin_url()))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            name,
        )
    finally:
        await admin.close()


async def test_openapi_document_is_served(client: Client) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = await response.get_json()
    assert document["openapi"].startswith("3.")


async def test_openapi_documents_the_conditional_product_read(client: Client) -> None:
    document = await (await client.get("/openapi.json")).get_json()
    read = document["paths"]["/api/v1/products/{product_id}"]["get"]
    headers = {p["name"].lower() for p in read["parameters"] if p["in"] == "header"}
    assert "if-none-match" in headers
    responses = read["responses"]
    assert "etag" in responses["200"]["headers"]
    assert "etag" in responses["304"]["headers"]
    assert "content" not in responses["304"]  # no body


async def test_docs_page_is_html(client: Client) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.content_type
    page = await response.get_data(as_text=True)
    assert page.startswith("<!DOCTYPE html>\n<html")
    assert page.rstrip().endswith("</html>")
    assert 'data-openapi-url="/openapi.json"' in page
    # Every script and style comes from this service: no CDN, no inline script.
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(sources) == 4
    assert all(source.startswith("/docs/assets/") for source in sources)
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(await asset.get_data()) > 0
        assert "immutable" in asset.headers["Cache-Control"]
    bundle = next(s for s in sources if s.endswith("swagger-ui-bundle.js"))
    assert b"SwaggerUIBundle" in await (await client.get(bundle)).get_data()


async def test_docs_assets_outside_the_allow_list_are_not_found(client: Client) -> None:
    page = await (await client.get("/docs")).get_data(as_text=True)
    version = re.search(r"/docs/assets/([^/]+)/", page)
    assert version is not None
    for name in ("LICENSE", "..%2F..%2F__init__.py", "oauth2-redirect.html"):
        response = await client.get(f"/docs/assets/{version[1]}/{name}")
        assert response.status_code == 404, name
    assert (await client.get("/docs/assets/0.0.1/swagger-ui.css")).status_code == 404
