"""Order events: the live websocket, the Server-Sent Events stream, the page."""

from __future__ import annotations

from quart import Blueprint, Response, request, websocket
from quart_cors import cors_exempt
from quart_schema import (
    document_response,
    security_scheme,
    tag,
    validate_querystring,
    validate_response,
)

from backend import extensions
from backend.db.request_scope import get_session
from backend.events.sse import event_stream
from backend.events.stream import socket_token, stream_events
from backend.events.subscription import (
    admit_subscriber,
    authenticate_viewer,
    parse_since,
    presented_token,
)
from backend.schemas.common import EventStream, Problem
from backend.schemas.order_event import OrderEventOut, OrderEventPage, OrderEventQuery
from backend.services import order_events
from backend.web.guards import BEARER, current_user, login_required

blueprint = Blueprint("order_events", __name__, url_prefix="/orders")


@blueprint.websocket("/events")
# Auth is an explicit token, never a cookie, so a foreign page cannot ride a
# user's credentials (no CSWSH); refusing clients without `Origin` (CLIs,
# services) would only break them.
@cors_exempt
async def order_events_socket() -> None:
    """Live order events; `?since=` replays first (see /asyncapi.json)."""
    since = parse_since(websocket.args.get("since"))
    viewer = await authenticate_viewer(socket_token(), since=since)
    subscriber = admit_subscriber(extensions.bus(), viewer)
    await stream_events(extensions.bus(), subscriber, viewer, since=since)


@blueprint.get("/events/stream")
@document_response(EventStream, 200)
@document_response(Problem, 400)
@document_response(Problem, 410)
@document_response(Problem, 429)
@security_scheme(BEARER)
@tag(["orders"])
async def stream_order_events() -> Response:
    """Live order events as Server-Sent Events (see /asyncapi.json)."""
    token = presented_token(
        request.headers.get("Authorization"), request.args.get("access_token")
    )
    # EventSource resumes with the last id it saw in this header: it wins.
    since = parse_since(request.headers.get("Last-Event-ID", request.args.get("since")))
    viewer = await authenticate_viewer(token, since=since)
    return event_stream(extensions.bus(), viewer, since=since)


@blueprint.get("/events")
@login_required
@validate_querystring(OrderEventQuery)
@validate_response(OrderEventPage, 200)
@document_response(Problem, 410)
@tag(["orders"])
async def list_order_events(query_args: OrderEventQuery) -> OrderEventPage:
    """Order events after `since`, oldest first: own orders, or all for an admin."""
    user = current_user()
    if "since" in query_args.model_fields_set:  # no cursor: the oldest kept events
        await order_events.check_cursor(get_session(), query_args.since)
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
