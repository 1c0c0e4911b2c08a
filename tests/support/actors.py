"""Test actors: a user in the database with a live login and its bearer headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quart import Quart

from backend import extensions
from backend.models import User
from tests.support.factories import bearer_for, make_user


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone calling the API: the user row and the headers that carry its token."""

    user: User
    headers: dict[str, str]


async def make_actor(app: Quart, *, is_admin: bool = False, **fields: Any) -> Actor:
    """A new user (admin if asked) logged in with a fresh access token."""
    async with extensions.database(app).session() as session:
        user = await make_user(session, app, is_admin=is_admin, **fields)
    return Actor(user, await bearer_for(app, user))
