"""OpenAPI links: which operations take the id a created resource came back with.

Clients and stateful fuzzers follow them (create an order, then read, cancel
or move it). Keyed by operationId (backend.api.operation_ids).
"""

from __future__ import annotations

from typing import Any

# operationId of a create -> (status, path parameter, operations taking the id)
LINKS: dict[str, tuple[int, str, tuple[str, ...]]] = {
    "orders_create": (
        201,
        "order_id",
        ("orders_get", "orders_cancel", "orders_update_status"),
    ),
    "products_create": (
        201,
        "product_id",
        ("products_get", "products_update", "products_delete"),
    ),
    "users_create": (
        201,
        "user_id",
        ("users_get", "users_update", "users_update_put", "users_delete"),
    ),
    "webhooks_create": (
        201,
        "endpoint_id",
        (
            "webhooks_get",
            "webhooks_update",
            "webhooks_delete",
            "webhooks_rotate_secret",
            "webhooks_list_deliveries",
            "webhooks_redeliver",
        ),
    ),
}


def add_links(operation: dict[str, Any]) -> None:
    """Declare the links of `operation`'s success response, if it creates something."""
    link = LINKS.get(operation.get("operationId", ""))
    if link is None:
        return
    status, parameter, targets = link
    response = operation["responses"][status]
    response["links"] = {
        target: {
            "operationId": target,
            "parameters": {parameter: "$response.body#/id"},
        }
        for target in targets
    }
