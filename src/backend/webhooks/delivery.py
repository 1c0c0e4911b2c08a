"""The delivery job: one signed POST of one event to one endpoint, logged.

Each (endpoint, event) is its own job, so a failing event's retries never
hold back later events; retries follow `WEBHOOK_RETRY_SCHEDULE` (+0-20 %
jitter), then the job is `dead` (an admin can retry it). Bounds: at most
`JOB_CONCURRENCY` deliveries at once per process (the job slots), and at most
half of them to one endpoint (`per_endpoint`): each job carries the
concurrency key `webhook:<endpoint id>`, so the runner claims no more of an
endpoint's deliveries than it has room for. A slow receiver holds at most half
the slots and never stops the other endpoints' deliveries, and its backlog
waits in the queue, costing no writes until a slot frees.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlsplit

import aiohttp
import yarl
from pydantic import BaseModel
from sqlalchemy import Table, bindparam, exists, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.db.database import Database
from backend.jobs import JobContext, JobFailed, enqueue, enqueue_many, job_kind
from backend.jobs.registry import Backoff
from backend.models import OrderEvent, WebhookDelivery, WebhookEndpoint
from backend.models.base import utcnow
from backend.security.sealing import UnreadableSecret
from backend.services.order_events import encode_event
from backend.webhooks import metrics, signing
from backend.webhooks import secrets as endpoint_secrets
from backend.webhooks.addresses import Target, UrlRefused, resolve

DELIVERY_KIND = metrics.DELIVERY_KIND
HTTP_CLIENT = "webhook_http_client"
# The most of a receiver's answer read (and discarded) to keep its connection.
MAX_READ = 64 * 1024


class DeliveryPayload(BaseModel):
    endpoint_id: int
    event_id: int


def retry_schedule(settings: Settings) -> Backoff:
    """The delay before retry n: the schedule's n-th entry plus up to 20 %."""
    delays = settings.webhook_retry_delays

    def delay(attempt: int) -> float:
        return delays[min(attempt, len(delays)) - 1] * random.uniform(1.0, 1.2)

    return delay


async def enqueue_delivery(
    session: AsyncSession,
    settings: Settings,
    *,
    endpoint_id: int,
    event_id: int,
    dedupe_key: str | None = None,
) -> None:
    await enqueue(
        session,
        DELIVERY_KIND,
        DeliveryPayload(endpoint_id=endpoint_id, event_id=event_id),
        dedupe_key=dedupe_key,
        max_attempts=len(settings.webhook_retry_delays) + 1,
        concurrency_key=concurrency_key(endpoint_id),
    )


async def enqueue_deliveries(
    session: AsyncSession, settings: Settings, endpoint_id: int, event_ids: list[int]
) -> None:
    """The deliveries of a batch of events to one endpoint, in one statement.

    Dedupe key `webhook:<endpoint>:<event>`: dispatching an event twice
    (two dispatchers racing) makes one job.
    """
    await enqueue_many(
        session,
        DELIVERY_KIND,
        [
            (
                DeliveryPayload(endpoint_id=endpoint_id, event_id=event_id),
                f"webhook:{endpoint_id}:{event_id}",
            )
            for event_id in event_ids
        ],
        max_attempts=len(settings.webhook_retry_delays) + 1,
        concurrency_key=concurrency_key(endpoint_id),
    )


def concurrency_key(endpoint_id: int) -> str:
    """The key that bounds an endpoint's deliveries to `per_endpoint` per process."""
    return f"webhook:{endpoint_id}"


def per_endpoint(slots: int) -> int:
    """Deliveries to one endpoint at once in a process with `slots` job slots.

    Half: however slow one receiver, the other half of the slots stay free
    for other endpoints and other jobs (2 of the default 4; a process given
    more slots for a busy endpoint delivers to it with more of them).
    """
    return max(1, slots // 2)


def new_client(tls: ssl.SSLContext | None = None) -> aiohttp.ClientSession:
    """The process's client: no redirects, no proxies from the environment.

    A proxy would make the connection to an address the SSRF guard never saw;
    a receiver's cookies are not kept (one receiver must not steer the next
    request, nor another endpoint's). `tls` replaces the system's trusted
    certificates (tests). Call it on the running loop.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, ssl=tls if tls else True),
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        auto_decompress=False,
    )


@dataclass(frozen=True, slots=True)
class Message:
    url: str
    secrets: list[str]
    msg_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    response_status: int | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300


# The endpoint and the event in one read (`Database.read`): a delivery is
# mostly waiting, and its reads should not be what it waits on.
_MESSAGE = (
    select(
        WebhookEndpoint.url,
        WebhookEndpoint.secret,
        WebhookEndpoint.previous_secret,
        WebhookEndpoint.previous_secret_expires_at,
        *(column for column in OrderEvent.__table__.columns),
    )
    .select_from(WebhookEndpoint)
    .join(OrderEvent, true())
    .where(
        WebhookEndpoint.id == bindparam("endpoint_id"),
        WebhookEndpoint.enabled,
        OrderEvent.id == bindparam("event_id"),
    )
)


async def load_message(
    database: Database, settings: Settings, payload: DeliveryPayload
) -> Message | None:
    """What to send, or None when there is nothing to (endpoint gone or disabled)."""
    rows = await database.read(_MESSAGE, payload.model_dump())
    if not rows:
        return None
    (row,) = rows
    body = encode_event(row).encode()  # the event's columns; the rest is ignored
    sealed = [row["secret"]]
    expires = row["previous_secret_expires_at"]
    if row["previous_secret"] and expires is not None and expires > utcnow():
        sealed.append(row["previous_secret"])
    try:
        secrets = [endpoint_secrets.unseal(settings.secret_key, s) for s in sealed]
    except UnreadableSecret:
        raise JobFailed(
            "The endpoint's secret cannot be read (was SECRET_KEY changed?): "
            "rotate it, then retry."
        ) from None
    return Message(row["url"], secrets, signing.message_id(row["id"]), body)


def _pinned(target: Target) -> tuple[yarl.URL, dict[str, str], str | None]:
    """The URL with the checked address for host, the Host header, TLS's SNI."""
    parts = urlsplit(target.url)
    url = yarl.URL(target.url).with_host(str(target.address))
    server_hostname = target.host if parts.scheme == "https" else None
    return url, {"host": parts.netloc}, server_hostname


async def send(
    client: aiohttp.ClientSession, message: Message, settings: Settings
) -> Outcome:
    """One attempt; never raises for the receiver's or the network's failures."""
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        async with asyncio.timeout(settings.webhook_timeout):
            target = await resolve(
                message.url, allow_private=settings.webhook_allow_private
            )
            url, host, server_hostname = _pinned(target)
            headers = signing.headers(
                message.secrets,
                msg_id=message.msg_id,
                timestamp=int(time.time()),
                body=message.body,
            )
            # Streamed: only the status matters, and a receiver cannot make
            # us buffer a large answer. A short body is read to its end all
            # the same, or the connection is closed instead of kept alive
            # (a new TCP, and TLS, handshake for every delivery).
            async with client.post(
                url,
                data=message.body,
                headers=headers | host,
                allow_redirects=False,
                server_hostname=server_hostname,
            ) as response:
                status = response.status
                read = 0
                async for chunk in response.content.iter_any():
                    read += len(chunk)
                    if read > MAX_READ:
                        break  # not worth keeping the connection for
    except UrlRefused as refused:
        error = f"refused: {refused}"
    except TimeoutError:
        error = "timed out"
    except aiohttp.ClientError as failure:
        error = f"{type(failure).__name__}: the request failed"
    if status is not None and not 200 <= status < 300:
        redirect = 300 <= status < 400
        error = f"HTTP {status}" + (" (redirects are not followed)" if redirect else "")
    return Outcome(status, error, int((time.monotonic() - started) * 1000))


_LOG_FIELDS = (
    "endpoint_id",
    "event_id",
    "attempt",
    "status",
    "response_status",
    "error",
    "duration_ms",
    "created_at",
)
# Logs an attempt unless its endpoint is gone (deleted meanwhile: its log went
# with it). Built once; each attempt binds its values.
_DELIVERIES = cast(Table, WebhookDelivery.__table__)
# Core (the table, not the ORM class): an ORM insert given a dict of values
# would take it for a bulk insert of objects.
_LOG_ATTEMPT = insert(_DELIVERIES).from_select(
    list(_LOG_FIELDS),
    select(
        *(bindparam(name, type_=_DELIVERIES.c[name].type) for name in _LOG_FIELDS)
    ).where(exists().where(WebhookEndpoint.id == bindparam("endpoint_id"))),
)


def _attempt_row(
    payload: DeliveryPayload, *, attempt: int, outcome: Outcome, now: datetime
) -> dict[str, object]:
    """The attempt's log row (`_LOG_ATTEMPT`'s parameters), dated `now`."""
    return {
        "endpoint_id": payload.endpoint_id,
        "event_id": payload.event_id,
        "attempt": attempt,
        "status": "succeeded" if outcome.succeeded else "failed",
        "response_status": outcome.response_status,
        "error": outcome.error,
        "duration_ms": outcome.duration_ms,
        "created_at": now,
    }


_ENDPOINTS = cast(Table, WebhookEndpoint.__table__)
# A success ends the endpoint's failure streak (Core, like `_LOG_ATTEMPT`: the
# runner executes it once for a batch of successes).
_END_STREAK = (
    update(_ENDPOINTS)
    .where(
        _ENDPOINTS.c.id == bindparam("endpoint_id"),
        _ENDPOINTS.c.failing_since.is_not(None),
    )
    .values(failing_since=None)
)


def record_success(
    context: JobContext, payload: DeliveryPayload, *, attempt: int, outcome: Outcome
) -> None:
    """Log the success and end the endpoint's failure streak, with the job's
    recorded success (`JobContext.on_success`): no transaction of its own."""
    row = _attempt_row(payload, attempt=attempt, outcome=outcome, now=utcnow())
    context.on_success(_LOG_ATTEMPT, row)
    context.on_success(_END_STREAK, {"endpoint_id": payload.endpoint_id})


async def record_failure(
    database: Database,
    settings: Settings,
    payload: DeliveryPayload,
    *,
    attempt: int,
    outcome: Outcome,
) -> None:
    """Log the attempt; a failure streak past `WEBHOOK_DISABLE_AFTER` disables."""
    now = utcnow()
    endpoint = WebhookEndpoint.id == payload.endpoint_id
    base = update(WebhookEndpoint).execution_options(synchronize_session=False)
    async with database.session() as session:
        # The streak begins at the logged time of the attempt that began it.
        row = _attempt_row(payload, attempt=attempt, outcome=outcome, now=now)
        await session.execute(_LOG_ATTEMPT, row)
        await session.execute(
            base.where(endpoint, WebhookEndpoint.failing_since.is_(None)).values(
                failing_since=now
            )
        )
        streak_began = now - timedelta(seconds=settings.webhook_disable_after)
        await session.execute(
            base.where(
                endpoint,
                WebhookEndpoint.enabled,
                WebhookEndpoint.failing_since <= streak_began,
            ).values(
                enabled=False,
                disabled_reason=(
                    f"Every delivery failed for {settings.webhook_disable_after} "
                    "seconds; re-enable the endpoint once it answers again."
                ),
            )
        )


def client_for(context: JobContext) -> aiohttp.ClientSession:
    client: aiohttp.ClientSession | None = context.resources.get(HTTP_CLIENT)
    if client is None:  # lifecycle makes it; this covers a runner without it
        client = context.resources[HTTP_CLIENT] = new_client()
    return client


@job_kind(
    DELIVERY_KIND,
    DeliveryPayload,
    max_attempts=8,  # enqueue_delivery passes the schedule's length + 1
    configured_backoff=retry_schedule,
    timeout=60.0,
    concurrency_limit=per_endpoint,
)
async def deliver(context: JobContext, payload: DeliveryPayload) -> None:
    """POST the event, signed; a failed attempt is logged, then retried."""
    settings = context.settings
    message = await load_message(context.database, settings, payload)
    if message is None:
        return
    outcome = await send(client_for(context), message, settings)
    attempt = context.run.attempt
    metrics.count_delivery(outcome.succeeded)
    if outcome.succeeded:
        record_success(context, payload, attempt=attempt, outcome=outcome)
        return
    await record_failure(
        context.database, settings, payload, attempt=attempt, outcome=outcome
    )
    raise JobFailed(outcome.error or "failed")
