"""A batch of delivery successes, written as the job runner writes it.

`record_success` queues two statements per success; the runner executes each
statement once for the batch with every run's parameters. Both must work that
way: every attempt logged, every endpoint's failure streak ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quart import Quart
from sqlalchemy import func, select, update
from sqlalchemy.sql import Executable

from backend import extensions
from backend.jobs.context import JobContext, JobRun
from backend.models import WebhookDelivery, WebhookEndpoint
from backend.models.base import utcnow
from backend.webhooks.delivery import DeliveryPayload, Outcome, record_success
from tests.support.event_data import record_order
from tests.support.factories import bearer_for, make_user


async def test_a_batch_logs_every_attempt_and_ends_each_failure_streak(
    app: Quart,
) -> None:
    database = extensions.database(app)
    async with database.session() as session:
        admin = await make_user(session, app, is_admin=True)
        customer = await make_user(session, app)
    endpoint_ids = []
    for _ in range(2):
        response = await app.test_client().post(
            "/api/v1/webhooks",
            json={"url": "https://93.184.215.14/hooks"},
            headers=await bearer_for(app, admin),
        )
        endpoint_ids.append((await response.get_json())["id"])
    async with database.session() as session:
        event = await record_order(session, customer.id)
    async with database.session() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(endpoint_ids))
            .values(failing_since=utcnow())
        )

    context = JobContext(
        extensions.settings(app),
        database,
        extensions.mail_sender(app),
        JobRun(id=1, kind="webhook_delivery", attempt=2, max_attempts=8),
    )
    for endpoint_id in endpoint_ids:
        payload = DeliveryPayload(endpoint_id=endpoint_id, event_id=event.id)
        record_success(context, payload, attempt=2, outcome=Outcome(200, None, 7))
    batches: dict[int, tuple[Executable, list[Mapping[str, Any]]]] = {}
    for write in context.success_writes:
        batches.setdefault(id(write.statement), (write.statement, []))[1].append(
            write.params
        )
    assert len(batches) == 2  # two statements for the two successes
    async with database.session() as session:
        for statement, params in batches.values():
            await session.execute(statement, params)

    async with database.session(readonly=True) as session:
        logged = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(
                WebhookDelivery.event_id == event.id,
                WebhookDelivery.status == "succeeded",
                WebhookDelivery.response_status == 200,
            )
        )
        streaks = list(
            await session.scalars(
                select(WebhookEndpoint.failing_since).where(
                    WebhookEndpoint.id.in_(endpoint_ids)
                )
            )
        )
    assert logged == 2
    assert streaks == [None, None]
