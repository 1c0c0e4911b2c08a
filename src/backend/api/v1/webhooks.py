"""Webhook endpoints (admin): CRUD, secret rotation, the delivery log, redelivery."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import (
    document_response,
    tag,
    validate_querystring,
    validate_request,
    validate_response,
)

from backend import extensions
from backend.db.request_scope import get_session
from backend.schemas.common import NoContent, PageQuery, Problem
from backend.schemas.webhook import (
    Accepted,
    DeliveryOut,
    DeliveryPage,
    DeliveryQuery,
    Redeliver,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPage,
    WebhookSecret,
    WebhookUpdate,
)
from backend.web.guards import admin_required
from backend.webhooks import endpoints

blueprint = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@blueprint.post("")
@admin_required
@validate_request(WebhookCreate)
@validate_response(WebhookCreated, 201)
@document_response(Problem, 403)
@tag(["webhooks"])
async def create_webhook(data: WebhookCreate) -> tuple[WebhookCreated, int]:
    """Create an endpoint; its secret is shown in this response only (admin)."""
    endpoint, secret = await endpoints.create_endpoint(
        get_session(), settings=extensions.settings(), **data.model_dump()
    )
    out = WebhookOut.model_validate(endpoint).model_dump()
    return WebhookCreated(**out, secret=secret), 201


@blueprint.get("")
@admin_required
@validate_querystring(PageQuery)
@validate_response(WebhookPage, 200)
@document_response(Problem, 403)
@tag(["webhooks"])
async def list_webhooks(query_args: PageQuery) -> WebhookPage:
    """List endpoints (admin)."""
    result = await endpoints.list_endpoints(get_session(), **query_args.model_dump())
    items = [WebhookOut.model_validate(endpoint) for endpoint in result.items]
    return WebhookPage(**(result.as_dict() | {"items": items}))


@blueprint.get("/<int:endpoint_id>")
@admin_required
@validate_response(WebhookOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@tag(["webhooks"])
async def get_webhook(endpoint_id: int) -> WebhookOut:
    """Get one endpoint (admin)."""
    return WebhookOut.model_validate(
        await endpoints.get_endpoint(get_session(), endpoint_id)
    )


@blueprint.patch("/<int:endpoint_id>")
@admin_required
@validate_request(WebhookUpdate)
@validate_response(WebhookOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@tag(["webhooks"])
async def update_webhook(endpoint_id: int, data: WebhookUpdate) -> WebhookOut:
    """Change url, description, event_types or enabled (admin)."""
    endpoint = await endpoints.update_endpoint(
        get_session(),
        endpoint_id,
        settings=extensions.settings(),
        changes=data.model_dump(exclude_unset=True),
    )
    return WebhookOut.model_validate(endpoint)


@blueprint.delete("/<int:endpoint_id>")
@admin_required
@document_response(NoContent, 204)
@document_response(Problem, 403)
@document_response(Problem, 404)
@tag(["webhooks"])
async def delete_webhook(endpoint_id: int) -> tuple[str, int]:
    """Delete an endpoint; nothing more is sent to it (admin)."""
    await endpoints.delete_endpoint(get_session(), endpoint_id)
    return "", 204


@blueprint.post("/<int:endpoint_id>/rotate-secret")
@admin_required
@validate_response(WebhookSecret, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@tag(["webhooks"])
async def rotate_webhook_secret(endpoint_id: int) -> WebhookSecret:
    """A new secret; the old one also signs for WEBHOOK_SECRET_OVERLAP (admin)."""
    secret = await endpoints.rotate_secret(
        get_session(), endpoint_id, settings=extensions.settings()
    )
    return WebhookSecret(secret=secret)


@blueprint.get("/<int:endpoint_id>/deliveries")
@admin_required
@validate_querystring(DeliveryQuery)
@validate_response(DeliveryPage, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@tag(["webhooks"])
async def list_webhook_deliveries(
    endpoint_id: int, query_args: DeliveryQuery
) -> DeliveryPage:
    """The endpoint's delivery attempts, newest first (admin)."""
    result = await endpoints.list_deliveries(
        get_session(), endpoint_id, **query_args.model_dump()
    )
    items = [DeliveryOut.model_validate(row) for row in result.items]
    return DeliveryPage(**(result.as_dict() | {"items": items}))


@blueprint.post("/<int:endpoint_id>/redeliver")
@admin_required
@validate_request(Redeliver)
@document_response(Accepted, 202)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
@tag(["webhooks"])
async def redeliver_webhook(endpoint_id: int, data: Redeliver) -> tuple[Any, int]:
    """Send one event again, with the same webhook-id (admin)."""
    await endpoints.redeliver(
        get_session(),
        endpoint_id,
        event_id=data.event_id,
        settings=extensions.settings(),
    )
    return {}, 202
