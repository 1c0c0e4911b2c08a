"""Liveness, readiness and the API documents."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from backend import create_app
from tests.conftest import make_settings


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


async def test_openapi_document_is_served(client: Client) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = await response.get_json()
    assert document["openapi"].startswith("3.")


async def test_docs_page_is_html(client: Client) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.content_type
    assert "/openapi.json" in await response.get_data(as_text=True)
