"""The dispatcher: order events become one delivery job per (endpoint, event).

Each enabled endpoint keeps a cursor, the last event id already turned into
delivery jobs for it. A `webhook_dispatch` job reads the events after each
cursor in id order (ids become visible in commit order, so a cursor never
skips an event that commits later), enqueues the matching deliveries and
moves the cursor, in one transaction per batch: the jobs exist if and only
if the cursor moved past their events. The dedupe key per (endpoint, event)
makes two dispatchers racing each other harmless.

Placing an order does none of this work: each process's `DispatchWaker`
(lifecycle.py) sees events commit through the bus and calls
`request_dispatch`, which enqueues a dispatch job only when an endpoint is
behind and no dispatch job is already waiting to run.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.db.database import Database
from backend.jobs import JobContext, enqueue, job_kind, periodic
from backend.models import Job, OrderEvent, WebhookEndpoint
from backend.services.order_events import latest_event_id
from backend.webhooks.delivery import enqueue_deliveries

DISPATCH_KIND = "webhook_dispatch"
BATCH = 500


class DispatchPayload(BaseModel):
    pass


async def dispatch_needed(session: AsyncSession) -> int | None:
    """The latest event id if an endpoint is behind it and no dispatch is waiting.

    A read only, so checking often costs no write lock (SQLite). A queued (not
    yet running) dispatch job reads everything committed before it starts, so
    it covers the events that made us look.
    """
    latest = await latest_event_id(session)
    behind = await session.scalar(
        select(literal(1))
        .where(WebhookEndpoint.enabled, WebhookEndpoint.event_cursor < latest)
        .limit(1)
    )
    if behind is None:
        return None
    waiting = await session.scalar(
        select(literal(1))
        .where(Job.kind == DISPATCH_KIND, Job.state == "queued")
        .limit(1)
    )
    return None if waiting is not None else latest


async def request_dispatch(database: Database) -> bool:
    """Enqueue a dispatch job if one is needed; True if it was."""
    async with database.session(readonly=True) as session:
        latest = await dispatch_needed(session)
    if latest is None:
        return False
    async with database.session() as session:
        # One job per latest event id, however many processes saw it.
        await enqueue(
            session,
            DISPATCH_KIND,
            {},
            dedupe_key=f"{DISPATCH_KIND}@{latest}",
            concurrency_key=DISPATCH_KIND,
        )
    return True


async def dispatch_batch(
    session: AsyncSession, settings: Settings, endpoint: WebhookEndpoint
) -> int:
    """Turn up to a batch of the endpoint's next events into jobs; how many read."""
    rows = (
        await session.execute(
            select(OrderEvent.id, OrderEvent.type)
            .where(OrderEvent.id > endpoint.event_cursor)
            .order_by(OrderEvent.id)
            .limit(BATCH)
        )
    ).all()
    if not rows:
        return 0
    await enqueue_deliveries(
        session,
        settings,
        endpoint.id,
        [
            event_id
            for event_id, event_type in rows
            if event_type in endpoint.event_types
        ],
    )
    last = rows[-1][0]
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.event_cursor < last)
        .values(event_cursor=last)
        .execution_options(synchronize_session=False)
    )
    return len(rows)


async def dispatch(database: Database, settings: Settings) -> None:
    """Bring every enabled endpoint's cursor up to the latest event."""
    async with database.session(readonly=True) as session:
        endpoint_ids = list(
            await session.scalars(
                select(WebhookEndpoint.id).where(WebhookEndpoint.enabled)
            )
        )
    for endpoint_id in endpoint_ids:
        while True:
            async with database.session() as session:
                # Locked: a second dispatcher waits here, then reads the moved
                # cursor, instead of enqueueing the same batch behind our back.
                endpoint = await session.get(
                    WebhookEndpoint, endpoint_id, with_for_update=True
                )
                if endpoint is None or not endpoint.enabled:
                    break
                read = await dispatch_batch(session, settings, endpoint)
            if read < BATCH:
                break


@job_kind(
    DISPATCH_KIND,
    DispatchPayload,
    max_attempts=3,
    timeout=120.0,
    # Concurrent dispatchers only queue behind the endpoint rows' locks: one
    # per process leaves the other slots to deliveries.
    concurrency_limit=1,
)
async def run_dispatch(context: JobContext, _payload: DispatchPayload) -> None:
    """Enqueue the deliveries of the events committed since the last dispatch."""
    await dispatch(context.database, context.settings)


# A safety net: dispatch at least this often, whatever wake-ups were missed.
SWEEP_SECONDS = 30.0
periodic.every("webhook_dispatch_sweep", DISPATCH_KIND, lambda _: SWEEP_SECONDS)
