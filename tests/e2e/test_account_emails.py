"""Password reset and email verification end to end: Hypercorn, jobs, real SMTP.

The server runs its own job runner and sends through a real SMTP server
(aiosmtpd) started by the test; tokens are read from the delivered emails,
as a user would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend import extensions
from backend.app import create_app
from tests.conftest import make_settings
from tests.support.factories import make_product
from tests.support.server import LiveServer
from tests.support.smtp import SmtpServer, silent_smtp_port, token_of

pytestmark = pytest.mark.e2e
FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
PASSWORD = "Sturdy-Pass-42"
NEW_PASSWORD = "Brand-New-Pass-77"
BASE_URL = "https://shop.example"
MAIL_FROM = "accounts@shop.example"
RESET_SUBJECT = "Reset your password"
VERIFY_SUBJECT = "Confirm your email address"
UNLIMITED = {
    "RATE_LIMIT_LOGIN": "0",
    "RATE_LIMIT_REGISTER": "0",
    "RATE_LIMIT_PASSWORD_RESET": "0",
}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer().running() as server:
        yield server


async def expire_unused_tokens(url: str) -> None:
    """Move the clock past every unused token's expiry, behind the server's back."""
    past = (
        "'2000-01-01 00:00:00'"
        if url.startswith("sqlite")
        else "now() - interval '1 day'"
    )
    unused = "WHERE used_at IS NULL"
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(f"UPDATE account_token SET expires_at = {past} {unused}")
            )
    finally:
        await engine.dispose()


async def register(http: httpx.AsyncClient) -> dict[str, Any]:
    name = f"u{uuid.uuid4().hex[:10]}"
    response = await http.post(
        "/api/v1/auth/register",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def confirm(token: str, password: str = NEW_PASSWORD) -> dict[str, str]:
    return {"token": token, "new_password": password, "new_password_confirm": password}


async def reset_by_email(http: httpx.AsyncClient, smtp: SmtpServer, email: str) -> str:
    seen = len(smtp.messages())
    response = await http.post("/api/v1/auth/password-reset", json={"email": email})
    assert (response.status_code, response.json()) == (202, {"status": "accepted"})
    message = await smtp.wait_for(email, RESET_SUBJECT, after=seen)
    assert message["From"] == MAIL_FROM
    assert f"{BASE_URL}/reset-password#token=" in message.get_content()
    return token_of(message)


async def login(http: httpx.AsyncClient, email: str, password: str) -> int:
    response = await http.post(
        "/api/v1/auth/login", json={"username": email, "password": password}
    )
    return response.status_code


def start(live_server: Callable[..., LiveServer], url: str, **env: str) -> LiveServer:
    return live_server(
        url,
        env={"PUBLIC_BASE_URL": BASE_URL, "MAIL_FROM": MAIL_FROM, **UNLIMITED, **env},
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_password_reset_by_email(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    smtp: SmtpServer,
    backend: str,
) -> None:
    url = await fresh_database_url(backend)
    server = start(live_server, url, SMTP_URL=smtp.url)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        first = await register(http)
        email = first["user"]["email"]
        second = (
            await http.post(
                "/api/v1/auth/login", json={"username": email, "password": PASSWORD}
            )
        ).json()

        # Unknown address: the same answer, and no email to it.
        unknown = await http.post(
            "/api/v1/auth/password-reset", json={"email": "nobody@example.com"}
        )
        assert (unknown.status_code, unknown.json()) == (202, {"status": "accepted"})
        token = await reset_by_email(http, smtp, email)
        assert all(m["To"] != "nobody@example.com" for m in smtp.messages())

        # The happy path ends every session, the two logins included.
        done = await http.post(
            "/api/v1/auth/password-reset/confirm", json=confirm(token)
        )
        assert done.status_code == 204
        for pair in (first, second):
            assert (
                await http.get("/api/v1/auth/me", headers=bearer(pair))
            ).status_code == 401
            refreshed = await http.post(
                "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
            )
            assert refreshed.status_code == 401
        assert await login(http, email, PASSWORD) == 401
        assert await login(http, email, NEW_PASSWORD) == 200

        # Single use.
        again = await http.post(
            "/api/v1/auth/password-reset/confirm", json=confirm(token, "Third-Pass-33")
        )
        assert (again.status_code, again.json()["code"]) == (400, "invalid_token")

        # Superseded by a newer request.
        older = await reset_by_email(http, smtp, email)
        newer = await reset_by_email(http, smtp, email)
        stale = await http.post(
            "/api/v1/auth/password-reset/confirm", json=confirm(older)
        )
        assert (stale.status_code, stale.json()["code"]) == (400, "invalid_token")
        fresh = await http.post(
            "/api/v1/auth/password-reset/confirm", json=confirm(newer, PASSWORD)
        )
        assert fresh.status_code == 204

        # Expired: the clock moves past the token's hour.
        expiring = await reset_by_email(http, smtp, email)
        await expire_unused_tokens(url)
        late = await http.post(
            "/api/v1/auth/password-reset/confirm", json=confirm(expiring)
        )
        assert (late.status_code, late.json()["code"]) == (400, "invalid_token")

        # Void once the account is deactivated.
        pending = await reset_by_email(http, smtp, email)
        pair = (
            await http.post(
                "/api/v1/auth/login", json={"username": email, "password": PASSWORD}
            )
        ).json()
        gone = await http.delete(
            f"/api/v1/users/{first['user']['id']}", headers=bearer(pair)
        )
        assert gone.status_code == 204
        dead = await http.post(
            "/api/v1/auth/password-reset/confirm", json=confirm(pending)
        )
        assert (dead.status_code, dead.json()["code"]) == (400, "invalid_token")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_reset_answers_alike_and_never_waits_on_mail(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    backend: str,
) -> None:
    url = await fresh_database_url(backend)
    with silent_smtp_port() as port:
        # A mail server that accepts the connection and never answers: sending
        # inline would hold the request for the client's 30 s SMTP timeout.
        server = start(live_server, url, SMTP_URL=f"smtp://127.0.0.1:{port}")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            email = (await register(http))["user"]["email"]
            answers = []
            for address in (email, "nobody@example.com", email.upper()):
                response = await http.post(
                    "/api/v1/auth/password-reset", json={"email": address}
                )
                answers.append(
                    (
                        response.status_code,
                        response.json(),
                        sorted(
                            (k, v)
                            for k, v in response.headers.items()
                            if k not in ("date", "x-request-id")
                        ),
                    )
                )
        assert answers[0][:2] == (202, {"status": "accepted"})
        assert answers[0] == answers[1] == answers[2]
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(
                        text(
                            "SELECT state FROM job WHERE kind = 'account_email' "
                            "AND payload LIKE '%password_reset%'"
                            if backend == "sqlite"
                            else "SELECT state FROM job WHERE kind = 'account_email' "
                            "AND payload->>'purpose' = 'password_reset'"
                        )
                    )
                ).all()
        finally:
            await engine.dispose()
        # Two reset emails for the one account, none for the unknown address;
        # the mail server never answered, so neither has been sent.
        assert len(rows) == 2
        assert all(state in ("queued", "running") for (state,) in rows)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_reset_limits_hold_across_workers(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    backend: str,
) -> None:
    server = live_server(
        await fresh_database_url(backend),
        workers=2,
        env={"RATE_LIMIT_PASSWORD_RESET": "3/hour", "TRUSTED_PROXY_HOPS": "1"},
    )

    async def reset(email: str, client_address: str) -> httpx.Response:
        # A new connection per request, so the kernel spreads them over workers.
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            return await http.post(
                "/api/v1/auth/password-reset",
                json={"email": email},
                headers={"X-Forwarded-For": client_address},
            )

    per_address = [await reset(f"a{n}@example.com", "10.0.0.1") for n in range(5)]
    per_email = [
        await reset(spelling, f"10.0.1.{n}")
        for n, spelling in enumerate(
            [
                "v@example.com",
                "V@example.com",
                "v@EXAMPLE.com",
                "V@Example.COM",
                "v@example.com",
            ]
        )
    ]
    for responses in (per_address, per_email):
        assert [r.status_code for r in responses] == [202] * 3 + [429] * 2
        assert all(1 <= int(r.headers["Retry-After"]) <= 3600 for r in responses[3:])
        assert all(r.json()["code"] == "rate_limited" for r in responses[3:])


async def _seed_product(url: str) -> int:
    app = create_app(make_settings(url))
    async with app.test_app(), extensions.database(app).session() as session:
        product = await make_product(session, stock=100)
        return product.id


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_email_verification_by_email(
    fresh_database_url: FreshDatabase,
    live_server: Callable[..., LiveServer],
    smtp: SmtpServer,
    backend: str,
) -> None:
    url = await fresh_database_url(backend)
    product_id = await _seed_product(url)
    server = start(live_server, url, SMTP_URL=smtp.url, REQUIRE_VERIFIED_EMAIL="true")
    order = {"items": [{"product_id": product_id, "quantity": 1}]}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        pair = await register(http)
        email, user_id, headers = (
            pair["user"]["email"],
            pair["user"]["id"],
            bearer(pair),
        )
        assert pair["user"]["email_verified"] is False

        # Registration sends a welcome and a verification email.
        await smtp.wait_for(email, "Welcome to the shop")
        first = token_of(await smtp.wait_for(email, VERIFY_SUBJECT))
        refused = await http.post("/api/v1/orders", json=order, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (
            403,
            "email_not_verified",
        )

        # Resend: a new token; the older one stops working.
        seen = len(smtp.messages())
        assert (
            await http.post("/api/v1/auth/verify-email/resend", headers=headers)
        ).status_code == 202
        second = token_of(await smtp.wait_for(email, VERIFY_SUBJECT, after=seen))
        stale = await http.post("/api/v1/auth/verify-email", json={"token": first})
        assert (stale.status_code, stale.json()["code"]) == (400, "invalid_token")
        verified = await http.post("/api/v1/auth/verify-email", json={"token": second})
        assert verified.status_code == 200
        assert verified.json()["email_verified"] is True
        assert (
            await http.post("/api/v1/orders", json=order, headers=headers)
        ).status_code == 201
        again = await http.post("/api/v1/auth/verify-email/resend", headers=headers)
        assert (again.status_code, again.json()["code"]) == (409, "already_verified")

        # An email change unverifies; a token sent to an old address is void.
        path = f"/api/v1/users/{user_id}"
        seen = len(smtp.messages())
        moved = await http.patch(path, json={"email": f"one.{email}"}, headers=headers)
        assert moved.json()["email_verified"] is False
        to_old = token_of(
            await smtp.wait_for(f"one.{email}", VERIFY_SUBJECT, after=seen)
        )
        refused = await http.post("/api/v1/orders", json=order, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (
            403,
            "email_not_verified",
        )
        seen = len(smtp.messages())
        await http.put(path, json={"email": f"two.{email}"}, headers=headers)
        to_new = token_of(
            await smtp.wait_for(f"two.{email}", VERIFY_SUBJECT, after=seen)
        )
        old = await http.post("/api/v1/auth/verify-email", json={"token": to_old})
        assert (old.status_code, old.json()["code"]) == (400, "invalid_token")
        current = await http.post("/api/v1/auth/verify-email", json={"token": to_new})
        assert current.json()["email_verified"] is True
        assert current.json()["email"] == f"two.{email}"
        assert (
            await http.post("/api/v1/orders", json=order, headers=headers)
        ).status_code == 201
