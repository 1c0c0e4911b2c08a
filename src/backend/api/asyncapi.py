"""`/asyncapi.json`: the order-events channel, from the models the socket sends."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import hide

from backend.schemas.order_event import OrderEventOut

blueprint = Blueprint("asyncapi", __name__)
CHANNEL_ADDRESS = "/api/v1/orders/events"
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
                "Authenticate with `Authorization: Bearer` or `?access_token=`. "
                "`?since=<id>` replays visible events after that id, then live. "
                "Close codes: 1001 shutdown, 1008 flood, 1009 message over 4 KiB, "
                "1013 fell behind (reconnect with `since`), 4401 token expired "
                "or revoked."
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
            }
        },
        "operations": {
            "receiveOrderEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/orderEvents"},
                "messages": [{"$ref": "#/channels/orderEvents/messages/orderEvent"}],
            }
        },
        "components": {"schemas": schemas, "messages": {"OrderEvent": message}},
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
    """The AsyncAPI document of the order-events websocket."""
    return build_document()
