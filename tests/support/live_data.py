"""Test data written straight into a live server's database, with working tokens.

A live server runs in another process, so test data cannot come from the app's
session; it is written through a short engine of our own, and tokens are signed
with the same JWT secret the server is started with (tests/support/server.py).

    async with LiveData(url) as data:
        alice = await data.user()
        product = await data.product(stock=50)
        httpx.post(..., headers=alice.headers)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.config import Settings
from backend.db.engines import create_engine
from backend.models import AuthSession, Product, User
from backend.models.base import utcnow
from backend.security.tokens import TokenService
from tests.support.server import TEST_SECRET


def live_settings(database_url: str) -> Settings:
    """Settings matching what `LiveServer` gives the server process."""
    return Settings(
        app_env="testing",
        database_url=database_url,
        secret_key=TEST_SECRET,
        jwt_secret_key=TEST_SECRET + "-jwt",
    )


@dataclass(frozen=True, slots=True)
class LiveUser:
    id: int
    username: str
    is_admin: bool
    headers: dict[str, str]


class LiveData:
    """Users, tokens and products for a database a live server is using."""

    def __init__(self, database_url: str) -> None:
        self.settings = live_settings(database_url)
        self.tokens = TokenService(self.settings)
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    async def __aenter__(self) -> LiveData:
        self._engine = create_engine(self.settings)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    def session(self) -> AsyncSession:
        assert self._sessions is not None, "use `async with LiveData(url)`"
        return self._sessions()

    async def user(self, *, is_admin: bool = False) -> LiveUser:
        """A user (no usable password) with a live login and an access token."""
        name = f"u{uuid.uuid4().hex[:12]}"
        async with self.session() as session, session.begin():
            # Not a valid hash: these users never log in with a password.
            user = User(
                username=name,
                email=f"{name}@example.com",
                password_hash="!",
                is_admin=is_admin,
            )
            session.add(user)
            await session.flush()
            login = AuthSession(
                id=str(uuid.uuid4()),
                user_id=user.id,
                expires_at=utcnow() + timedelta(seconds=self.tokens.refresh_ttl),
            )
            session.add(login)
        token = self.tokens.issue_access(
            user_id=user.id, session_id=login.id, token_version=user.token_version
        )
        return LiveUser(user.id, name, is_admin, {"Authorization": f"Bearer {token}"})

    async def users(self, count: int, *, is_admin: bool = False) -> list[LiveUser]:
        return [await self.user(is_admin=is_admin) for _ in range(count)]

    async def product(self, **fields: Any) -> Product:
        values: dict[str, Any] = {
            "sku": f"LIVE-{uuid.uuid4().hex[:10]}",
            "name": "Live product",
            "price_cents": 1000,
            "stock": 10,
            **fields,
        }
        async with self.session() as session, session.begin():
            product = Product(**values)
            session.add(product)
        return product

    async def stock(self, product_id: int) -> int:
        async with self.session() as session:
            stock = await session.scalar(
                select(Product.stock).where(Product.id == product_id)
            )
        assert stock is not None, f"no product {product_id}"
        return stock
