"""Order events: the live websocket and the catch-up page."""

from __future__ import annotations

from quart import Blueprint, websocket
from quart_cors import cors_exempt
from quart_schema import tag, validate_querystring, validate_response

from backend import extensions
from backend.db.request_scope import get_session
from backend.events.stream import (
    admit_subscriber,
    authenticate_viewer,
    parse_since,
    socket_token,
    stream_events,
)
from backend.schemas.common import Problem
from backend.schemas.order_event import OrderEventOut, OrderEventPage, OrderEventQuery
from backend.services import order_events
from backend.web.guards import current_user, login_required

blueprint = Blueprint("order_events", __name__, url_prefix="/orders")


@blueprint.websocket("/events")
# Auth is an explicit token, never a cookie, so a foreign page cannot ride a
# user's credentials (no CSWSH); refusing clients without `Origin` (CLIs,
# services) would only break them.
@cors_exempt
async def order_events_socket() -> None:
    """Live order events; `?since=` replays first (see /asyncapi.json)."""
    viewer = await authenticate_viewer(socket_token())
    since = parse_since(websocket.args.get("since"))
    subscriber = admit_subscriber(extensions.bus(), viewer)
    await stream_events(extensions.bus(), subscriber, viewer, since=since)


@blueprint.get("/events")
@login_required
@validate_querystring(OrderEventQuery)
@validate_response(OrderEventPage, 200)
@validate_response(Problem, 401)
@validate_response(Problem, 422)
@tag(["orders"])
async def list_order_events(query_args: OrderEventQuery) -> OrderEventPage:
    """Order events after `since`, oldest first: own orders, or all for an admin."""
    user = current_user()
    rows = await order_events.list_order_events(
        get_session(),
        viewer_id=None if user.is_admin else user.id,
        since=query_args.since,
        limit=query_args.limit,
    )
    items = [OrderEventOut.model_validate(row) for row in rows]
    return OrderEventPage(
        items=items, next_since=items[-1].id if items else query_args.since
    )
