"""`quart create-admin`: registration's rules, and a clear failure otherwise."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from sqlalchemy import select

from backend.config import Settings
from backend.db.engines import create_engine
from backend.models import User
from tests.test_cli import quart

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]
PASSWORD = "Admin-Pass-123"


async def find(url: str, username: str) -> User | None:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(select(User).where(User.username == username))
            ).first()
    finally:
        await engine.dispose()
    return row  # type: ignore[return-value]


async def test_create_admin_creates_an_administrator(
    fresh_database_url: FreshDatabase,
) -> None:
    url = await fresh_database_url("sqlite")
    result = quart(
        url,
        "create-admin",
        "root",
        "Root@Example.com",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Created admin root." in result.stdout
    admin = await find(url, "root")
    assert admin is not None
    assert admin.is_admin
    assert admin.email == "root@example.com"
    assert admin.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("username", "email", "password", "complaint"),
    [
        ("ab", "a@example.com", PASSWORD, "username"),
        ("bad name", "a@example.com", PASSWORD, "username"),
        ("valid", "not-an-email", PASSWORD, "email"),
        ("valid", "a@example.com", "weakpass", "password"),
    ],
)
async def test_create_admin_refuses_invalid_input(
    fresh_database_url: FreshDatabase,
    username: str,
    email: str,
    password: str,
    complaint: str,
) -> None:
    url = await fresh_database_url("sqlite")
    result = quart(
        url, "create-admin", username, email, "--password-stdin", stdin=password
    )
    assert result.returncode != 0
    assert "invalid admin account" in result.stderr
    assert complaint in result.stderr
    assert password not in result.stderr
    assert await find(url, username) is None


async def test_create_admin_refuses_a_taken_name(
    fresh_database_url: FreshDatabase,
) -> None:
    url = await fresh_database_url("sqlite")
    args = ("--password-stdin",)
    first = quart(url, "create-admin", "root", "a@example.com", *args, stdin=PASSWORD)
    assert first.returncode == 0, first.stderr
    again = quart(url, "create-admin", "ROOT", "b@example.com", *args, stdin=PASSWORD)
    assert again.returncode != 0
    assert "username is taken" in again.stderr
