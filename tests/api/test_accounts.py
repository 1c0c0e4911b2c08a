"""Password reset and email verification through the API, asserting on job rows.

The `app` fixture runs no jobs: each test reads the `account_email` job its
request wrote and unseals the token the way the mailer will.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import extensions
from backend.app import create_app
from backend.config import Settings
from backend.models import AccountToken, Job, Order, User
from backend.models.base import utcnow
from backend.security.account_tokens import hash_token, unseal
from tests.api.helpers import PASSWORD, login, new_account, problem, register
from tests.conftest import make_settings
from tests.support.factories import bearer, make_product

NEW_PASSWORD = "Brand-New-Pass-77"
RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/auth/verify-email/resend"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Roomy limits: the limits have tests of their own below.
    return make_settings(
        database_url,
        rate_limit_login="1000/minute",
        rate_limit_register="1000/minute",
        rate_limit_password_reset="1000/hour",
    )


async def token_jobs(app: Quart) -> list[dict[str, Any]]:
    async with extensions.database(app).session(readonly=True) as session:
        jobs = await session.scalars(
            select(Job).where(Job.kind == "account_email").order_by(Job.id)
        )
        return [job.payload for job in jobs]


async def emailed_token(app: Quart, to: str, purpose: str) -> str:
    """The newest token mailed to `to` for `purpose`, unsealed like the mailer."""
    payloads = [
        p for p in await token_jobs(app) if (p["to"], p["purpose"]) == (to, purpose)
    ]
    assert payloads, f"no {purpose} email to {to}"
    return unseal(
        extensions.settings(app).secret_key,
        payloads[-1]["token_hash"],
        payloads[-1]["sealed"],
    )


async def reset_token(app: Quart, client: Client, email: str) -> str:
    response = await client.post(RESET, json={"email": email})
    assert response.status_code == 202
    return await emailed_token(app, email, "password_reset")


def confirm_body(token: str, password: str = NEW_PASSWORD) -> dict[str, str]:
    return {"token": token, "new_password": password, "new_password_confirm": password}


async def test_reset_for_an_account_writes_a_token_and_its_email_job(
    app: Quart, client: Client
) -> None:
    user = (await register(client))["user"]
    response = await client.post(RESET, json={"email": user["email"].upper()})
    assert response.status_code == 202
    assert await response.get_json() == {"status": "accepted"}
    assert response.headers["Cache-Control"] == "no-store"
    token = await emailed_token(app, user["email"], "password_reset")
    assert len(token) >= 43  # 256 random bits, URL-safe base64
    async with extensions.database(app).session(readonly=True) as session:
        row = await session.scalar(
            select(AccountToken).where(AccountToken.purpose == "password_reset")
        )
    assert row is not None
    assert row.token_hash == hash_token(token)
    assert row.expires_at - row.created_at == timedelta(seconds=3600)
    # Neither the token row nor the job row holds the token itself.
    assert token not in json.dumps(await token_jobs(app))
    assert token not in (row.token_hash, row.email)


@pytest.mark.parametrize("who", ["unknown", "deactivated"])
async def test_reset_answers_the_same_without_an_active_account(
    app: Quart, client: Client, who: str
) -> None:
    known = (await register(client))["user"]
    other = (await register(client))["user"]
    if who == "deactivated":
        email = other["email"]
        async with extensions.database(app).session() as session:
            await session.execute(
                update(User).where(User.id == other["id"]).values(is_active=False)
            )
    else:
        email = "nobody-here@example.com"
    jobs_before = len(await token_jobs(app))
    answers = []
    for address in (known["email"], email):
        response = await client.post(RESET, json={"email": address})
        headers = {
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("x-request-id", "date")
        }
        answers.append((response.status_code, await response.get_data(), headers))
    assert answers[0] == answers[1]
    assert answers[0][0] == 202
    jobs = await token_jobs(app)
    assert [(p["to"], p["purpose"]) for p in jobs[jobs_before:]] == [
        (known["email"], "password_reset")
    ]


async def test_reset_changes_the_password_and_ends_every_session(
    app: Quart, client: Client
) -> None:
    first = await register(client)
    email = first["user"]["email"]
    second = await (await login(client, email)).get_json()
    token = await reset_token(app, client, email)
    assert (await client.post(CONFIRM, json=confirm_body(token))).status_code == 204
    for pair in (first, second):
        me = await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
        await problem(me, 401, "unauthorized")
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        await problem(refreshed, 401, "unauthorized")
    await problem(await login(client, email), 401, "invalid_credentials")
    assert (await login(client, email, NEW_PASSWORD)).status_code == 200


async def test_a_reset_token_works_once(app: Quart, client: Client) -> None:
    email = (await register(client))["user"]["email"]
    token = await reset_token(app, client, email)
    assert (await client.post(CONFIRM, json=confirm_body(token))).status_code == 204
    again = await client.post(CONFIRM, json=confirm_body(token, "Other-Pass-99"))
    await problem(again, 400, "invalid_token")
    assert (await login(client, email, NEW_PASSWORD)).status_code == 200


async def test_a_newer_reset_supersedes_the_older_token(
    app: Quart, client: Client
) -> None:
    email = (await register(client))["user"]["email"]
    older = await reset_token(app, client, email)
    newer = await reset_token(app, client, email)
    assert older != newer
    await problem(
        await client.post(CONFIRM, json=confirm_body(older)), 400, "invalid_token"
    )
    assert (await client.post(CONFIRM, json=confirm_body(newer))).status_code == 204


async def _void(app: Quart, user_id: int, **values: Any) -> None:
    async with extensions.database(app).session() as session:
        await session.execute(update(User).where(User.id == user_id).values(**values))


@pytest.mark.parametrize("change", ["expired", "deactivated", "email_changed"])
async def test_a_reset_token_is_void_once(
    app: Quart, client: Client, change: str
) -> None:
    user = (await register(client))["user"]
    token = await reset_token(app, client, user["email"])
    if change == "expired":
        async with extensions.database(app).session() as session:
            await session.execute(
                update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
            )
    elif change == "deactivated":
        await _void(app, user["id"], is_active=False)
    else:
        await _void(app, user["id"], email="moved@example.com")
    await problem(
        await client.post(CONFIRM, json=confirm_body(token)), 400, "invalid_token"
    )


async def test_a_deactivation_voids_the_token_even_after_reactivation(
    app: Quart, client: Client
) -> None:
    user = (await register(client))["user"]
    token = await reset_token(app, client, user["email"])
    admin = await register(client)
    await _void(app, admin["user"]["id"], is_admin=True)
    headers = bearer(admin["access_token"])
    path = f"/api/v1/users/{user['id']}"
    assert (await client.delete(path, headers=headers)).status_code == 204
    revived = await client.patch(path, json={"is_active": True}, headers=headers)
    assert revived.status_code == 200
    await problem(
        await client.post(CONFIRM, json=confirm_body(token)), 400, "invalid_token"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"token": "x", "new_password": "short", "new_password_confirm": "short"},
        {"token": "x", "new_password": NEW_PASSWORD, "new_password_confirm": "other"},
        {"token": "", **confirm_body("")},
        {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
        {**confirm_body("x"), "is_admin": True},
    ],
)
async def test_confirm_refuses_bad_input_and_changes_nothing(
    app: Quart, client: Client, body: dict[str, Any]
) -> None:
    email = (await register(client))["user"]["email"]
    token = await reset_token(app, client, email)
    if "token" in body and body["token"] == "x":
        body = {**body, "token": token}
    await problem(await client.post(CONFIRM, json=body), 422, "validation_error")
    assert (await client.post(CONFIRM, json=confirm_body(token))).status_code == 204


async def test_an_unknown_token_is_invalid(client: Client) -> None:
    await problem(
        await client.post(CONFIRM, json=confirm_body("no-such-token")),
        400,
        "invalid_token",
    )
    await problem(
        await client.post(VERIFY, json={"token": "no-such-token"}),
        400,
        "invalid_token",
    )


async def test_registration_sends_a_verification_that_verifies_once(
    app: Quart, client: Client
) -> None:
    body = await register(client)
    user = body["user"]
    assert user["email_verified"] is False
    token = await emailed_token(app, user["email"], "email_verification")
    verified = await client.post(VERIFY, json={"token": token})
    assert verified.status_code == 200
    assert (await verified.get_json())["email_verified"] is True
    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert (await me.get_json())["email_verified"] is True
    again = await client.post(VERIFY, json={"token": token})
    await problem(again, 400, "invalid_token")


async def test_post_users_also_sends_a_verification(app: Quart, client: Client) -> None:
    account = new_account()
    assert (await client.post("/api/v1/users", json=account)).status_code == 201
    assert await emailed_token(app, account["email"], "email_verification")


async def test_an_email_change_unverifies_and_sends_to_the_new_address(
    app: Quart, client: Client
) -> None:
    body = await register(client)
    user, headers = body["user"], bearer(body["access_token"])
    old_token = await emailed_token(app, user["email"], "email_verification")
    path = f"/api/v1/users/{user['id']}"
    changed = await client.patch(
        path, json={"email": "New.Home@Example.com"}, headers=headers
    )
    assert (await changed.get_json())["email_verified"] is False
    await problem(
        await client.post(VERIFY, json={"token": old_token}), 400, "invalid_token"
    )
    new_token = await emailed_token(app, "new.home@example.com", "email_verification")
    verified = await client.post(VERIFY, json={"token": new_token})
    assert (await verified.get_json())["email_verified"] is True
    # Writing the same address again changes nothing and sends nothing.
    jobs = len(await token_jobs(app))
    same = await client.put(
        path, json={"email": "new.home@example.com"}, headers=headers
    )
    assert (await same.get_json())["email_verified"] is True
    assert len(await token_jobs(app)) == jobs


async def test_a_token_sent_to_an_old_address_is_void(
    app: Quart, client: Client
) -> None:
    # The old address's token stays unused (no resend supersedes it) while
    # the account's address changes behind it.
    user = (await register(client))["user"]
    token = await emailed_token(app, user["email"], "email_verification")
    await _void(app, user["id"], email="elsewhere@example.com")
    await problem(
        await client.post(VERIFY, json={"token": token}), 400, "invalid_token"
    )


async def test_resend_supersedes_and_409_once_verified(
    app: Quart, client: Client
) -> None:
    body = await register(client)
    email, headers = body["user"]["email"], bearer(body["access_token"])
    older = await emailed_token(app, email, "email_verification")
    resent = await client.post(RESEND, headers=headers)
    assert resent.status_code == 202
    assert await resent.get_json() == {"status": "accepted"}
    newer = await emailed_token(app, email, "email_verification")
    assert newer != older
    await problem(
        await client.post(VERIFY, json={"token": older}), 400, "invalid_token"
    )
    assert (await client.post(VERIFY, json={"token": newer})).status_code == 200
    await problem(await client.post(RESEND, headers=headers), 409, "already_verified")


async def test_resend_needs_a_token(client: Client) -> None:
    await problem(await client.post(RESEND), 401, "unauthorized")


async def test_verification_tokens_last_the_configured_day(
    app: Quart, client: Client
) -> None:
    await register(client)
    async with extensions.database(app).session(readonly=True) as session:
        row = await session.scalar(select(AccountToken))
    assert row is not None
    assert row.purpose == "email_verification"
    assert row.expires_at - row.created_at == timedelta(seconds=86400)


LimitedApp = Callable[..., AbstractAsyncContextManager[Quart]]


@pytest.fixture
def limited_app(database_url: str, connection: AsyncConnection) -> LimitedApp:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Quart]:
        settings = make_settings(
            database_url,
            rate_limit_register="1000/minute",
            rate_limit_password_reset="3/hour",
            **overrides,
        )
        app = create_app(settings)
        extensions.database(app).bind(connection)
        async with app.test_app():
            yield app

    return start


def peer(address: str) -> dict[str, Any]:
    return {"scope_base": {"client": (address, 40000)}}


async def assert_limited(response: Any) -> None:
    await problem(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


async def test_reset_is_limited_per_client_address(limited_app: LimitedApp) -> None:
    async with limited_app() as app:
        client = app.test_client()
        for n in range(3):
            response = await client.post(
                RESET, json={"email": f"a{n}@example.com"}, **peer("10.0.0.1")
            )
            assert response.status_code == 202
        await assert_limited(
            await client.post(
                RESET, json={"email": "a9@example.com"}, **peer("10.0.0.1")
            )
        )
        other = await client.post(
            RESET, json={"email": "b@example.com"}, **peer("10.0.0.2")
        )
        assert other.status_code == 202


async def test_reset_is_limited_per_email_in_any_case(limited_app: LimitedApp) -> None:
    async with limited_app() as app:
        client = app.test_client()
        for n, email in enumerate(
            ["victim@example.com", "VICTIM@example.com", "Victim@Example.com"]
        ):
            response = await client.post(
                RESET, json={"email": email}, **peer(f"10.1.0.{n}")
            )
            assert response.status_code == 202
        await assert_limited(
            await client.post(
                RESET, json={"email": "victim@example.com"}, **peer("10.1.1.1")
            )
        )


async def test_resend_is_limited_per_user(limited_app: LimitedApp) -> None:
    async with limited_app() as app:
        client = app.test_client()
        headers = bearer((await register(client))["access_token"])
        for _ in range(3):
            assert (await client.post(RESEND, headers=headers)).status_code == 202
        await assert_limited(await client.post(RESEND, headers=headers))
        other = bearer((await register(client))["access_token"])
        assert (await client.post(RESEND, headers=other)).status_code == 202


async def _order(client: Client, headers: dict[str, str], product_id: int) -> Any:
    return await client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product_id, "quantity": 1}]},
        headers=headers,
    )


@pytest.mark.parametrize("required", [True, False])
async def test_require_verified_email_guards_orders(
    limited_app: LimitedApp, required: bool
) -> None:
    async with limited_app(require_verified_email=required) as app:
        client = app.test_client()
        async with extensions.database(app).session() as session:
            product = await make_product(session)
        body = await register(client)
        headers = bearer(body["access_token"])
        before = await _order(client, headers, product.id)
        if required:
            await problem(before, 403, "email_not_verified")
            async with extensions.database(app).session(readonly=True) as session:
                placed = await session.scalar(
                    select(func.count())
                    .select_from(Order)
                    .where(Order.user_id == body["user"]["id"])
                )
            assert placed == 0
        else:
            assert before.status_code == 201
        token = await emailed_token(app, body["user"]["email"], "email_verification")
        assert (await client.post(VERIFY, json={"token": token})).status_code == 200
        assert (await _order(client, headers, product.id)).status_code == 201


async def test_password_is_unchanged_by_a_reset_request(
    app: Quart, client: Client
) -> None:
    email = (await register(client))["user"]["email"]
    await reset_token(app, client, email)
    assert (await login(client, email, PASSWORD)).status_code == 200
