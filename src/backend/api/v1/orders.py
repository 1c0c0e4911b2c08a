"""Orders: place, list, read, cancel, and (admins) move along the status machine."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import (
    document_response,
    tag,
    validate_headers,
    validate_querystring,
    validate_request,
    validate_response,
)
from werkzeug.datastructures import Headers

from backend import extensions
from backend.db.request_scope import get_session
from backend.schemas.common import Problem
from backend.schemas.order import (
    IdempotencyHeaders,
    OrderCancel,
    OrderCreate,
    OrderOut,
    OrderPage,
    OrderQuery,
    OrderStatusUpdate,
)
from backend.services import order_rules, orders
from backend.web.guards import (
    admin_required,
    current_login,
    current_user,
    login_required,
    viewer_required,
)
from backend.web.ratelimit import Limit, budget, spent_by_service

blueprint = Blueprint("orders", __name__, url_prefix="/orders")
# Per user, shared by every worker and host like the login limits.
PLACEMENTS = Limit(
    "orders",
    lambda settings: settings.orders_limit,
    key=lambda _kwargs: str(current_user().id),
)


@blueprint.post("")
@login_required
@validate_headers(IdempotencyHeaders)
@validate_request(OrderCreate)
@spent_by_service(PLACEMENTS)
@validate_response(OrderOut, 201)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
@document_response(Problem, 429)
@tag(["orders"])
async def create_order(
    data: OrderCreate, headers: IdempotencyHeaders
) -> tuple[dict[str, Any], int, Headers]:
    """Place an order (honours Idempotency-Key)."""
    user, settings = current_user(), extensions.settings()
    placed = await orders.place_order(
        get_session(),
        user_id=user.id,
        lines=data.items,
        currency=settings.currency,
        idempotency_key=headers.idempotency_key,
        rules=order_rules.rules_for(settings, user, spend_budget=budget(PLACEMENTS)),
    )
    # A Headers object, not a dict: quart-schema would build a pydantic
    # TypeAdapter for a dict of headers on every response.
    replayed = Headers({"Idempotent-Replayed": "true"} if placed.replayed else {})
    return placed.body, 201, replayed


@blueprint.get("")
@login_required
@validate_querystring(OrderQuery)
@validate_response(OrderPage, 200)
@tag(["orders"])
async def list_orders(query_args: OrderQuery) -> OrderPage:
    """List orders, newest first (own; admins see all)."""
    result = await orders.list_orders(
        get_session(), viewer=current_user(), **query_args.model_dump()
    )
    items = [OrderOut.model_validate(order) for order in result.items]
    return OrderPage(**(result.as_dict() | {"items": items}))


@blueprint.get("/<int:order_id>")
@viewer_required
@validate_response(OrderOut, 200)
@document_response(Problem, 404)
@tag(["orders"])
async def get_order(order_id: int) -> OrderOut:
    """Get one order (owner or admin)."""
    viewer = current_login()
    order = await orders.read_order(
        extensions.database(),
        order_id,
        user_id=viewer.user_id,
        is_admin=viewer.is_admin,
    )
    return OrderOut.model_validate(order)


@blueprint.post("/<int:order_id>/cancel")
@login_required
@validate_request(OrderCancel)
@validate_response(OrderOut, 200)
@document_response(Problem, 404)
@document_response(Problem, 409)
@tag(["orders"])
async def cancel_order(order_id: int, data: OrderCancel) -> dict[str, Any]:
    """Cancel a pending or paid order; its stock is restored."""
    return await orders.change_status(
        get_session(), order_id, viewer=current_user(), status="cancelled"
    )


@blueprint.patch("/<int:order_id>")
@admin_required
@validate_request(OrderStatusUpdate)
@validate_response(OrderOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
@tag(["orders"])
async def update_order_status(order_id: int, data: OrderStatusUpdate) -> dict[str, Any]:
    """Move an order to another status (admin)."""
    return await orders.change_status(
        get_session(), order_id, viewer=current_user(), status=data.status
    )
