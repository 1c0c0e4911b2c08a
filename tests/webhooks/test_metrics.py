"""Webhook metrics: attempts by result; the oldest owed event's age at each scrape."""

from __future__ import annotations

from datetime import timedelta

from quart import Quart
from sqlalchemy import update

from backend import extensions
from backend.metrics.instruments import instruments
from backend.models import OrderEvent, WebhookEndpoint
from backend.models.base import utcnow
from backend.webhooks import metrics
from tests.metrics.test_web import sample, scrape
from tests.support.event_data import record_order
from tests.support.factories import bearer_for, make_user

AGE = "backend_webhook_oldest_undelivered_seconds"


def deliveries(result: str) -> float:
    found = instruments().registry.get_sample_value(
        "backend_webhook_deliveries_total", {"result": result}
    )
    return found or 0.0


def test_each_attempt_counts_under_its_result() -> None:
    succeeded, failed = deliveries("succeeded"), deliveries("failed")

    metrics.count_delivery(True)
    metrics.count_delivery(False)
    metrics.count_delivery(False)

    assert deliveries("succeeded") == succeeded + 1
    assert deliveries("failed") == failed + 2


async def test_a_scrape_reads_the_oldest_event_an_enabled_endpoint_is_owed(
    app: Quart,
) -> None:
    database = extensions.database(app)
    async with database.session() as session:
        admin = await make_user(session, app, is_admin=True)
        customer = await make_user(session, app)
    response = await app.test_client().post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hooks"},
        headers=await bearer_for(app, admin),
    )
    assert response.status_code == 201
    endpoint_id = (await response.get_json())["id"]
    assert sample(await scrape(app), AGE) == 0  # its cursor starts at the latest

    async with database.session() as session:
        event = await record_order(session, customer.id)
    async with database.session() as session:  # its id is known once committed
        await session.execute(
            update(OrderEvent)
            .where(OrderEvent.id == event.id)
            .values(occurred_at=utcnow() - timedelta(hours=1))
        )
    assert sample(await scrape(app), AGE) >= 3600

    async with database.session() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(enabled=False)
        )
    assert sample(await scrape(app), AGE) == 0  # a disabled endpoint is owed nothing
