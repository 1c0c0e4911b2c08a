"""`/asyncapi.json`: the order-events channels (websocket and Server-Sent
Events), from the models both send."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import hide

from backend.schemas.order_event import OrderEventOut

blueprint = Blueprint("asyncapi", __name__)
CHANNEL_ADDRESS = "/api/v1/orders/events"
STREAM_ADDRESS = "/api/v1/orders/events/stream"
_REF = "#/components/schemas/{model}"


def build_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document; message schemas come from `OrderEventOut`."""
    schema = OrderEventOut.model_json_schema(ref_template=_REF, mode="serialization")
    schemas = schema.pop("$defs", {})
    schemas["OrderEvent"] = schema
    message = {
        "name": "OrderEvent",
        "title": "Order event",
        "summary": "One committed order change, one per text frame.",
        "contentType": "application/json",
        "payload": {"$ref": "#/components/schemas/OrderEvent"},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Shop backend order events",
            "version": "1.0.0",
            "description": (
                "Authenticate with `Authorization: Bearer`, `?access_token=`, or "
                "(websocket) by offering the subprotocols `bearer`, <token>; the "
                "server then selects `bearer`. "
                "`?since=<id>` replays visible events after that id, then live; "
                "a `since` older than the oldest kept event is refused with "
                "HTTP 410 `cursor_expired`. "
                "Close codes: 1001 shutdown, 1008 flood, 1009 message over 4 KiB, "
                "1011 server error, 1013 fell behind (reconnect with `since`), "
                "4401 token expired or revoked. "
                "The same events are served as Server-Sent Events on "
                f"`{STREAM_ADDRESS}` (channel `orderEventStream`)."
            ),
        },
        "channels": {
            "orderEvents": {
                "address": CHANNEL_ADDRESS,
                "messages": {
                    "orderEvent": {"$ref": "#/components/messages/OrderEvent"}
                },
                "bindings": {
                    "ws": {"query": _query_schema(), "bindingVersion": "0.1.0"}
                },
            },
            "orderEventStream": _stream_channel(),
        },
        "operations": {
            "receiveOrderEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/orderEvents"},
                "messages": [{"$ref": "#/channels/orderEvents/messages/orderEvent"}],
            },
            "streamOrderEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/orderEventStream"},
                "messages": [
                    {"$ref": "#/channels/orderEventStream/messages/orderEvent"}
                ],
                "bindings": {
                    "http": {
                        "method": "GET",
                        "query": _query_schema(),
                        "bindingVersion": "0.3.0",
                    }
                },
            },
        },
        "components": {"schemas": schemas, "messages": {"OrderEvent": message}},
    }


def _stream_channel() -> dict[str, Any]:
    """Server-Sent Events: AsyncAPI has no SSE binding, so the framing is
    described in words; the operation's HTTP binding gives method and query."""
    return {
        "address": STREAM_ADDRESS,
        "title": "Order events as Server-Sent Events (text/event-stream)",
        "description": (
            "GET with `Authorization: Bearer` or `?access_token=`. Each message "
            "is `id: <event id>`, `event: <event type>`, `data: <event JSON>`. "
            "Resume with the `Last-Event-ID` header (it wins) or `?since=`. "
            "The stream starts with a `retry:` hint, sends a comment line when "
            "idle (at least every 15 s), and ends when the token expires, the "
            "session is revoked, the server drains or the client falls behind; "
            "EventSource then reconnects with `Last-Event-ID`. Refusals before "
            "the stream are problem documents: 400, 401, 410, 429."
        ),
        "messages": {"orderEvent": {"$ref": "#/components/messages/OrderEvent"}},
    }


def _query_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "since": {"type": "integer", "minimum": 0},
            "access_token": {"type": "string"},
        },
    }


@blueprint.get("/asyncapi.json")
@hide
async def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI document of the order-events websocket and stream."""
    return build_document()
