"""Small async factories: test data comes from here, never from seed rows."""

from __future__ import annotations

import itertools
import uuid

from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from backend import extensions
from backend.models import Product, User
from backend.security.tokens import TokenService
from backend.services import logins

DEFAULT_PASSWORD = "Correct-Horse-9"
_counter = itertools.count(1)


async def make_user(
    session: AsyncSession,
    app: Quart,
    *,
    username: str | None = None,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_admin: bool = False,
    is_active: bool = True,
    email_verified: bool = False,
) -> User:
    n = next(_counter)
    username = username or f"user{n}_{uuid.uuid4().hex[:6]}"
    user = User(
        username=username,
        email=(email or f"{username}@example.com").lower(),
        password_hash=await extensions.hasher(app).hash(password),
        is_admin=is_admin,
        is_active=is_active,
        email_verified=email_verified,
    )
    session.add(user)
    await session.flush()
    return user


async def make_product(
    session: AsyncSession,
    *,
    sku: str | None = None,
    name: str | None = None,
    price_cents: int = 1000,
    stock: int = 10,
    is_active: bool = True,
    description: str | None = None,
) -> Product:
    n = next(_counter)
    product = Product(
        sku=sku or f"SKU-{n}-{uuid.uuid4().hex[:6]}",
        name=name or f"Product {n}",
        description=description,
        price_cents=price_cents,
        stock=stock,
        is_active=is_active,
    )
    session.add(product)
    await session.flush()
    return product


async def issue_access_token(session: AsyncSession, app: Quart, user: User) -> str:
    """A live login session for `user` and an access token in it."""
    tokens: TokenService = app.extensions["tokens"]
    issued = await logins.start_login_session(session, tokens=tokens, user=user)
    return issued.access_token


def bearer(token: str) -> dict[str, str]:
    """The headers that present `token`."""
    return {"Authorization": f"Bearer {token}"}


async def bearer_for(app: Quart, user: User) -> dict[str, str]:
    async with extensions.database(app).session() as session:
        token = await issue_access_token(session, app, user)
    return bearer(token)
