"""The OpenAPI document is exact: required bodies, explicit ids, shared errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from backend import extensions
from backend.api.operation_ids import OPERATION_IDS
from tests.support.factories import bearer_for, make_user

ROOT = Path(__file__).resolve().parents[2]
# The snapshot: ids are part of the contract (generated clients' method names)
# and are never renamed. Adding a route adds a row; changing a row is a break.
SNAPSHOT = {
    "GET /health": "health_check",
    "GET /ready": "health_ready",
    "POST /api/v1/auth/register": "auth_register",
    "POST /api/v1/auth/login": "auth_login",
    "POST /api/v1/auth/refresh": "auth_refresh",
    "POST /api/v1/auth/logout": "auth_logout",
    "GET /api/v1/auth/me": "auth_me",
    "POST /api/v1/auth/change-password": "auth_change_password",
    "GET /api/v1/users": "users_list",
    "POST /api/v1/users": "users_create",
    "GET /api/v1/users/{user_id}": "users_get",
    "PATCH /api/v1/users/{user_id}": "users_update",
    "PUT /api/v1/users/{user_id}": "users_update_put",
    "DELETE /api/v1/users/{user_id}": "users_delete",
    "GET /api/v1/products": "products_list",
    "POST /api/v1/products": "products_create",
    "GET /api/v1/products/{product_id}": "products_get",
    "PATCH /api/v1/products/{product_id}": "products_update",
    "DELETE /api/v1/products/{product_id}": "products_delete",
    "GET /api/v1/orders": "orders_list",
    "POST /api/v1/orders": "orders_create",
    "GET /api/v1/orders/{order_id}": "orders_get",
    "PATCH /api/v1/orders/{order_id}": "orders_update_status",
    "POST /api/v1/orders/{order_id}/cancel": "orders_cancel",
    "GET /api/v1/orders/events": "orders_list_events",
    "GET /api/v1/orders/events/stream": "orders_stream_events",
    "POST /api/v1/auth/password-reset": "auth_password_reset",
    "POST /api/v1/auth/password-reset/confirm": "auth_password_reset_confirm",
    "POST /api/v1/auth/verify-email": "auth_verify_email",
    "POST /api/v1/auth/verify-email/resend": "auth_verify_email_resend",
    "POST /api/v1/auth/mfa/totp/setup": "auth_mfa_totp_setup",
    "POST /api/v1/auth/mfa/totp/confirm": "auth_mfa_totp_confirm",
    "DELETE /api/v1/auth/mfa/totp": "auth_mfa_totp_disable",
    "GET /api/v1/admin/jobs": "jobs_list",
    "GET /api/v1/admin/jobs/{job_id}": "jobs_get",
    "POST /api/v1/admin/jobs/{job_id}/retry": "jobs_retry",
    "GET /api/v1/webhooks": "webhooks_list",
    "POST /api/v1/webhooks": "webhooks_create",
    "GET /api/v1/webhooks/{endpoint_id}": "webhooks_get",
    "PATCH /api/v1/webhooks/{endpoint_id}": "webhooks_update",
    "DELETE /api/v1/webhooks/{endpoint_id}": "webhooks_delete",
    "POST /api/v1/webhooks/{endpoint_id}/rotate-secret": "webhooks_rotate_secret",
    "GET /api/v1/webhooks/{endpoint_id}/deliveries": "webhooks_list_deliveries",
    "POST /api/v1/webhooks/{endpoint_id}/redeliver": "webhooks_redeliver",
}


async def _document(client: Client) -> dict[str, Any]:
    document: dict[str, Any] = await (await client.get("/openapi.json")).get_json()
    return document


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


async def test_operation_ids_are_explicit_and_pinned(client: Client) -> None:
    operations = _operations(await _document(client))
    ids = {key: operation["operationId"] for key, operation in operations.items()}
    assert ids == SNAPSHOT
    assert OPERATION_IDS == SNAPSHOT  # no stale rows for routes that are gone
    assert len(set(ids.values())) == len(ids)
    for key, operation in operations.items():
        (tag,) = operation["tags"]
        assert re.fullmatch(rf"{tag}_[a-z]+(_[a-z]+)*", ids[key]), key


def test_the_ids_page_lists_every_id() -> None:
    page = (ROOT / "docs" / "operation-ids.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| `(\S+)` \| `(\w+)` \|$", page, re.MULTILINE)
    assert {f"{method} {path}": id_ for method, path, id_ in rows} == SNAPSHOT


async def test_shared_errors_are_declared_on_every_operation(client: Client) -> None:
    for key, operation in _operations(await _document(client)).items():
        declared = set(operation["responses"])
        expected = {"503"}
        if operation.get("security"):
            expected.add("401")
        if "requestBody" in operation:
            expected |= {"400", "413", "415", "422"}
        if any(p["in"] == "query" for p in operation["parameters"]):
            expected.add("422")
        assert expected <= declared, key
        for status in (status for status in declared if int(status) >= 400):
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (key, status)


def test_no_route_wraps_requests_only_to_document_an_error() -> None:
    # `validate_response` wraps every request; errors are raised, never returned,
    # so a problem schema is documented (`document_response`), not validated.
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src" / "backend").rglob("*.py")
        if "validate_response(Problem" in path.read_text()
    ]
    assert offenders == []


async def test_a_body_is_marked_required_exactly_when_its_absence_is_refused(
    app: Quart, client: Client
) -> None:
    operations = _operations(await _document(client))
    with_body = {k: op for k, op in operations.items() if "requestBody" in op}
    assert (
        sum(op["requestBody"].get("required", False) for op in with_body.values()) >= 7
    )
    for key, operation in with_body.items():
        method, path = key.split(" ")
        async with extensions.database(app).session() as session:
            admin = await make_user(session, app, is_admin=True)
        # A fresh admin and token each time: logout or deactivation may end them.
        headers = await bearer_for(app, admin)
        url = re.sub(r"\{\w+\}", str(admin.id), path)
        # No body at all (the protocol type wants `json`; Quart does not).
        response = await client.open(url, method=method, headers=headers)  # type: ignore[call-arg]
        required = operation["requestBody"].get("required", False)
        refused = response.status_code == 422
        assert refused == required, (
            key,
            response.status_code,
            await response.get_json(),
        )
