"""The Webhooks section of the contract (admin API), on both backends.

These run in one rolled-back transaction, so no job runs: deliveries are
asserted on the `job` rows written. Settings are the defaults, so the SSRF
guard is on (`WEBHOOK_ALLOW_PRIVATE` unset) as in production.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import select

from backend import extensions
from backend.jobs import JobFailed
from backend.models import Job, WebhookEndpoint
from backend.services.order_events import ORDER_CREATED
from backend.webhooks.delivery import DeliveryPayload, load_message
from tests.api.helpers import problem
from tests.support.event_data import record_order
from tests.support.factories import bearer_for, make_user

URL = "/api/v1/webhooks"
PUBLIC = "https://93.184.215.14/hooks/orders"
FIELDS = {
    "id",
    "url",
    "description",
    "event_types",
    "enabled",
    "disabled_reason",
    "created_at",
    "updated_at",
}


@pytest.fixture
async def admin(app: Quart) -> dict[str, str]:
    async with extensions.database(app).session() as session:
        user = await make_user(session, app, is_admin=True)
    return await bearer_for(app, user)


async def _create(client: Client, admin: dict[str, str], **body: Any) -> Any:
    response = await client.post(URL, json={"url": PUBLIC, **body}, headers=admin)
    assert response.status_code == 201, await response.get_json()
    return await response.get_json()


async def test_create_returns_the_endpoint_and_its_secret_once(
    app: Quart, client: Client, admin: dict[str, str]
) -> None:
    created = await _create(client, admin, description="fulfilment")
    assert set(created) == FIELDS | {"secret"}
    assert created["event_types"] == ["order.created", "order.status_changed"]
    assert created["enabled"] is True
    assert created["disabled_reason"] is None
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    read = await (await client.get(f"{URL}/{created['id']}", headers=admin)).get_json()
    assert set(read) == FIELDS
    async with extensions.database(app).session() as session:
        stored = await session.get(WebhookEndpoint, created["id"])
    assert stored is not None
    assert created["secret"] not in stored.secret  # encrypted at rest


async def test_customers_cannot_touch_webhooks(app: Quart, client: Client) -> None:
    async with extensions.database(app).session() as session:
        user = await make_user(session, app)
    headers = await bearer_for(app, user)
    await problem(await client.get(URL, headers=headers), 403, "forbidden")
    await problem(
        await client.post(URL, json={"url": PUBLIC}, headers=headers), 403, "forbidden"
    )
    await problem(await client.get(URL), 401, "unauthorized")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "http://[::1]/x",
        "http://10.0.0.5/x",
        "http://172.16.0.1/x",
        "http://192.168.0.10/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/x",
        "http://224.0.0.1/x",
        "http://[ff02::1]/x",
        "http://0.0.0.0/x",
        "http://[::ffff:127.0.0.1]/x",
        "ftp://93.184.215.14/x",
        "https://user:pw@93.184.215.14/x",
        "not a url",
    ],
)
async def test_create_refuses_unsafe_urls(
    app: Quart, client: Client, admin: dict[str, str], url: str
) -> None:
    response = await client.post(URL, json={"url": url}, headers=admin)
    await problem(response, 422, "validation_error")
    async with extensions.database(app).session() as session:
        assert (await session.scalars(select(WebhookEndpoint))).all() == []


@pytest.mark.parametrize(
    "body",
    [
        {"event_types": []},
        {"event_types": ["order.deleted"]},
        {"description": "x" * 501},
        {"url": "https://93.184.215.14/" + "x" * 2000},
        {"secret": "whsec_mine"},
    ],
)
async def test_create_refuses_bad_fields(
    client: Client, admin: dict[str, str], body: dict[str, Any]
) -> None:
    response = await client.post(URL, json={"url": PUBLIC, **body}, headers=admin)
    await problem(response, 422, "validation_error")


async def test_patch_changes_only_the_allowed_fields(
    client: Client, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    path = f"{URL}/{created['id']}"
    response = await client.patch(
        path,
        json={"event_types": ["order.created"], "description": "crm"},
        headers=admin,
    )
    assert response.status_code == 200
    assert (await response.get_json())["event_types"] == ["order.created"]
    for body in ({"secret": "x"}, {"id": 9}, {"disabled_reason": None}, {"url": None}):
        await problem(
            await client.patch(path, json=body, headers=admin), 422, "validation_error"
        )
    await problem(
        await client.patch(path, json={"url": "http://10.0.0.1/"}, headers=admin),
        422,
        "validation_error",
    )
    await problem(
        await client.patch(f"{URL}/999999", json={"enabled": True}, headers=admin),
        404,
        "not_found",
    )


async def test_re_enabling_clears_the_disabled_reason(
    app: Quart, client: Client, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    async with extensions.database(app).session() as session:
        endpoint = await session.get(WebhookEndpoint, created["id"])
        assert endpoint is not None
        endpoint.enabled, endpoint.disabled_reason = False, "every delivery failed"
    path = f"{URL}/{created['id']}"
    body = await (await client.get(path, headers=admin)).get_json()
    assert body["disabled_reason"] == "every delivery failed"
    response = await client.patch(path, json={"enabled": True}, headers=admin)
    body = await response.get_json()
    assert body["enabled"] is True
    assert body["disabled_reason"] is None


async def test_rotate_returns_a_new_secret(
    client: Client, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    response = await client.post(f"{URL}/{created['id']}/rotate-secret", headers=admin)
    assert response.status_code == 200
    rotated = (await response.get_json())["secret"]
    assert rotated.startswith("whsec_")
    assert rotated != created["secret"]
    await problem(
        await client.post(f"{URL}/999999/rotate-secret", headers=admin),
        404,
        "not_found",
    )


async def test_delete_then_404(client: Client, admin: dict[str, str]) -> None:
    created = await _create(client, admin)
    path = f"{URL}/{created['id']}"
    assert (await client.delete(path, headers=admin)).status_code == 204
    await problem(await client.get(path, headers=admin), 404, "not_found")
    await problem(await client.delete(path, headers=admin), 404, "not_found")
    await problem(
        await client.get(f"{path}/deliveries", headers=admin), 404, "not_found"
    )


async def test_redeliver_queues_the_event_or_says_why_not(
    app: Quart, client: Client, admin: dict[str, str]
) -> None:
    created = await _create(client, admin, event_types=["order.status_changed"])
    async with extensions.database(app).session() as session:
        customer = await make_user(session, app)
        event = await record_order(session, customer.id)
    path = f"{URL}/{created['id']}/redeliver"
    await problem(
        await client.post(path, json={"event_id": event.id}, headers=admin),
        409,
        "event_type_not_subscribed",
    )
    await problem(
        await client.post(path, json={"event_id": event.id + 1000}, headers=admin),
        404,
        "not_found",
    )
    await client.patch(
        f"{URL}/{created['id']}", json={"event_types": [ORDER_CREATED]}, headers=admin
    )
    response = await client.post(path, json={"event_id": event.id}, headers=admin)
    assert response.status_code == 202
    async with extensions.database(app).session() as session:
        jobs = (
            await session.scalars(select(Job).where(Job.kind == "webhook_delivery"))
        ).all()
    assert [job.payload for job in jobs] == [
        {"endpoint_id": created["id"], "event_id": event.id}
    ]
    assert jobs[0].max_attempts == 8  # the default schedule's 7 retries + 1


async def test_deliveries_log_is_empty_and_filterable(
    client: Client, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    path = f"{URL}/{created['id']}/deliveries"
    body = await (await client.get(path, headers=admin)).get_json()
    assert body["items"] == []
    assert body["total"] == 0
    response = await client.get(f"{path}?status=failed", headers=admin)
    assert response.status_code == 200
    await problem(
        await client.get(f"{path}?status=maybe", headers=admin), 422, "validation_error"
    )


async def test_delivery_reads_secrets_only_under_the_key_that_sealed_them(
    app: Quart, client: Client, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    rotated = await client.post(f"{URL}/{created['id']}/rotate-secret", headers=admin)
    new_secret = (await rotated.get_json())["secret"]
    async with extensions.database(app).session() as session:
        customer = await make_user(session, app)
        event = await record_order(session, customer.id)
    payload = DeliveryPayload(endpoint_id=created["id"], event_id=event.id)
    settings = extensions.settings(app)
    message = await load_message(extensions.database(app), settings, payload)
    assert message is not None
    assert message.secrets == [new_secret, created["secret"]]
    other_key = settings.model_copy(update={"secret_key": "rotated-" * 8})
    with pytest.raises(JobFailed, match="rotate it"):
        await load_message(extensions.database(app), other_key, payload)
