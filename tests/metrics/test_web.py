"""`/metrics` in one process: access rules, route templates, the format."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import extensions, jobs, metrics
from backend.app import create_app
from backend.metrics import instruments
from backend.metrics.web import CONTENT_TYPE
from tests.conftest import make_settings
from tests.support.factories import bearer

TOKEN = "scrape-token-0123456789abcdef"


async def app_with(
    connection: AsyncConnection, database_url: str, **settings: object
) -> AsyncIterator[Quart]:
    app = create_app(make_settings(database_url, **settings))
    extensions.database(app).bind(connection)
    async with app.test_app():
        yield app


@pytest.fixture
async def development(
    connection: AsyncConnection, database_url: str
) -> AsyncIterator[Quart]:
    async for app in app_with(connection, database_url, app_env="development"):
        yield app


@pytest.fixture
async def production(
    connection: AsyncConnection, database_url: str
) -> AsyncIterator[Quart]:
    async for app in app_with(connection, database_url, app_env="production"):
        yield app


@pytest.fixture
async def with_token(
    connection: AsyncConnection, database_url: str
) -> AsyncIterator[Quart]:
    async for app in app_with(
        connection, database_url, app_env="production", metrics_token=TOKEN
    ):
        yield app


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample `name` with exactly `labels` (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return 0.0


async def scrape(app: Quart, **headers: str) -> str:
    response = await app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.content_type == CONTENT_TYPE
    return await response.get_data(as_text=True)


async def test_requests_are_counted_by_route_template_never_by_id(
    development: Quart,
) -> None:
    client = development.test_client()
    route = "/api/v1/products/<int:product_id>"
    before = sample(
        await scrape(development),
        "backend_http_requests_total",
        route=route,
        method="GET",
        status="404",
    )
    for product_id in (987654, 987655):
        assert (await client.get(f"/api/v1/products/{product_id}")).status_code == 404
    await client.get("/no/such/path/4242")

    text = await scrape(development)
    labels = {"route": route, "method": "GET", "status": "404"}
    assert sample(text, "backend_http_requests_total", **labels) == before + 2
    assert (
        sample(
            text,
            "backend_http_request_duration_seconds_count",
            route=route,
            method="GET",
        )
        >= 2
    )
    routes = {
        found.labels.get("route")
        for family in text_string_to_metric_families(text)
        for found in family.samples
    }
    assert not any(route and ("987654" in route or "4242" in route) for route in routes)
    assert 'route="<unmatched>"' in text


async def test_every_contract_metric_is_exposed(development: Quart) -> None:
    text = await scrape(development)
    for name in (
        "backend_http_requests_total",
        "backend_http_request_duration_seconds",
        "backend_db_pool_in_use",
        "backend_db_pool_waiting",
        "backend_event_subscribers",
        "backend_order_events_delivered_total",
        "backend_jobs",
        "backend_jobs_finished_total",
        "backend_job_run_duration_seconds",
        "backend_webhook_deliveries_total",
        "backend_webhook_oldest_undelivered_seconds",
    ):
        assert f"# TYPE {name} " in text, name


async def test_production_without_a_token_hides_the_route(production: Quart) -> None:
    response = await production.test_client().get("/metrics")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN]
)
async def test_a_token_is_required_when_set(
    with_token: Quart, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await with_token.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert TOKEN not in await response.get_data(as_text=True)


async def test_the_right_token_opens_it(with_token: Quart) -> None:
    text = await scrape(with_token, **bearer(TOKEN))
    assert "backend_http_requests_total" in text


async def test_metrics_can_be_switched_off(
    connection: AsyncConnection, database_url: str
) -> None:
    async for app in app_with(connection, database_url, metrics_enabled=False):
        response = await app.test_client().get("/metrics")
        assert response.status_code == 404
        assert "metrics" not in app.blueprints


async def test_a_scrape_reports_the_queue_by_kind_and_state(
    development: Quart,
) -> None:
    async with extensions.database(development).session() as session:
        for _ in range(3):
            await jobs.enqueue(session, "noop", {})
        await jobs.enqueue(session, "cleanup", {})

    text = await scrape(development)

    assert sample(text, "backend_jobs", kind="noop", state="queued") == 3
    assert sample(text, "backend_jobs", kind="cleanup", state="queued") == 1
    assert sample(text, "backend_jobs", kind="noop", state="dead") == 0


def test_a_finished_run_counts_by_kind_and_state_with_its_duration() -> None:
    text = generate_latest(instruments.instruments().registry).decode()
    before = sample(text, "backend_jobs_finished_total", kind="noop", state="dead")

    metrics.job_finished("noop", "dead", 0.25)

    text = generate_latest(instruments.instruments().registry).decode()
    assert (
        sample(text, "backend_jobs_finished_total", kind="noop", state="dead")
        == before + 1
    )
    assert sample(text, "backend_job_run_duration_seconds_count", kind="noop") >= 1
