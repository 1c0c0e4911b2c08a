"""The admin's verbs on webhook endpoints: create, change, rotate, delete, redeliver."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.models import OrderEvent, WebhookDelivery, WebhookEndpoint
from backend.models.base import utcnow
from backend.services.order_events import latest_event_id
from backend.services.pagination import PageResult, paginate
from backend.webhooks import delivery, secrets
from backend.webhooks.addresses import UrlRefused, check_url, resolve

UPDATABLE = frozenset({"url", "description", "event_types", "enabled"})


async def _refuse_unsafe_url(url: str, settings: Settings) -> None:
    """422 for a URL the SSRF guard refuses (resolving its host, when it applies)."""
    try:
        if settings.webhook_allow_private:
            check_url(url)
        else:
            await resolve(url, allow_private=False)
    except UrlRefused as refused:
        raise ValidationFailed(
            [{"loc": ["body", "url"], "msg": str(refused), "type": "url_refused"}],
            f"The webhook URL is not allowed: {refused}.",
        ) from None


async def create_endpoint(
    session: AsyncSession,
    *,
    settings: Settings,
    url: str,
    description: str | None,
    event_types: list[str],
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (shown this once); later events go to it."""
    await _refuse_unsafe_url(url, settings)
    secret = secrets.new_secret()
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        event_types=event_types,
        enabled=True,
        secret=secrets.seal(settings.secret_key, secret),
        # Only events committed from now on: the dispatcher starts after this.
        event_cursor=await latest_event_id(session),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


async def list_endpoints(
    session: AsyncSession, *, page: int, per_page: int
) -> PageResult[WebhookEndpoint]:
    statement = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    return await paginate(session, statement, page=page, per_page=per_page)


async def get_endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    endpoint_id: int,
    *,
    settings: Settings,
    changes: dict[str, Any],
) -> WebhookEndpoint:
    """Apply the allowed `changes`; re-enabling clears the reason it was disabled."""
    unknown = set(changes) - UPDATABLE
    if unknown:  # the schema refuses them first; this guards other callers
        raise ValueError(f"not updatable: {sorted(unknown)}")
    endpoint = await get_endpoint(session, endpoint_id)
    if "url" in changes:
        await _refuse_unsafe_url(changes["url"], settings)
    if changes.get("enabled") and not endpoint.enabled:
        endpoint.disabled_reason = None
        endpoint.failing_since = None
        # What was committed while it was disabled is not sent (redeliver it).
        endpoint.event_cursor = await latest_event_id(session)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    await session.flush()
    return endpoint


async def delete_endpoint(session: AsyncSession, endpoint_id: int) -> None:
    """Delete it and its log; its queued deliveries find it gone and send nothing."""
    await get_endpoint(session, endpoint_id)
    await session.execute(
        delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    )


async def rotate_secret(
    session: AsyncSession, endpoint_id: int, *, settings: Settings
) -> str:
    """A new secret; the old one still signs for `WEBHOOK_SECRET_OVERLAP` seconds."""
    endpoint = await get_endpoint(session, endpoint_id)
    secret = secrets.new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = utcnow() + timedelta(
        seconds=settings.webhook_secret_overlap
    )
    endpoint.secret = secrets.seal(settings.secret_key, secret)
    await session.flush()
    return secret


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: int,
    *,
    page: int,
    per_page: int,
    status: str | None = None,
) -> PageResult[WebhookDelivery]:
    """The endpoint's attempts, newest first."""
    await get_endpoint(session, endpoint_id)
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
    )
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return await paginate(session, statement, page=page, per_page=per_page)


async def redeliver(
    session: AsyncSession, endpoint_id: int, *, event_id: int, settings: Settings
) -> None:
    """Send one event again, under the same message id (receivers dedupe)."""
    endpoint = await get_endpoint(session, endpoint_id)
    event_type = await session.scalar(
        select(OrderEvent.type).where(OrderEvent.id == event_id)
    )
    if event_type is None:
        raise NotFound("No such event (it may be past its retention).")
    if event_type not in endpoint.event_types:
        raise Conflict(
            "The endpoint does not subscribe to this event's type.",
            code="event_type_not_subscribed",
        )
    await delivery.enqueue_delivery(
        session, settings, endpoint_id=endpoint_id, event_id=event_id
    )
