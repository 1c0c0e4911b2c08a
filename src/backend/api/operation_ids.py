"""Every operation's OpenAPI `operationId`, in one explicit table.

Generated clients name their methods after these ids (`orders_create`,
`auth_login`), so they are part of the contract: `<tag>_<action>` in snake_case,
unique, never derived from a Python function name, and never changed once
released (tests/api/test_openapi.py pins them; docs/operation-ids.md lists
them). A new route adds its row here; the OpenAPI provider applies the table,
keyed by method and documented path so that renaming a view changes nothing.
"""

from __future__ import annotations

OPERATION_IDS: dict[str, str] = {
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
    # PUT is an alias of PATCH (partial update) kept for clients that only
    # know PUT; OpenAPI wants a distinct id per method.
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


def operation_id(method: str, path: str) -> str | None:
    """The id of `method path` (path as documented, `{name}` parameters)."""
    return OPERATION_IDS.get(f"{method.upper()} {path}")
