"""Demo data for `seed-db`: a few users and a realistic catalog. Idempotent."""

from __future__ import annotations

import os
import secrets
from itertools import product as cartesian

from pydantic import TypeAdapter, ValidationError
from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import extensions
from backend.config import Settings
from backend.errors import ValidationFailed
from backend.models import Product, User
from backend.schemas.user import NewPassword
from backend.services import users

DEMO_USERS = (
    ("admin", "admin@example.com", True),
    ("alice", "alice@example.com", False),
    ("bob", "bob@example.com", False),
)
_ITEMS = (
    ("COF", "Coffee beans", "Single-origin beans, roasted weekly.", 1490),
    ("TEA", "Loose-leaf tea", "Whole leaves, packed airtight.", 990),
    ("MUG", "Stoneware mug", "Glazed stoneware, dishwasher safe.", 1800),
    ("KTL", "Pour-over kettle", "Gooseneck spout for a steady pour.", 5400),
    ("GRN", "Burr grinder", "Conical burrs, 40 grind settings.", 12900),
    ("FLT", "Paper filters", "Unbleached, pack of 100.", 650),
)
_VARIANTS = (
    ("S", "small", 1.0),
    ("M", "medium", 1.4),
    ("L", "large", 1.9),
    ("XL", "family size", 2.6),
)


def demo_catalog() -> list[dict[str, object]]:
    """Twenty-four products; a few sold out and one retired, as in a real shop."""
    catalog: list[dict[str, object]] = []
    for index, ((code, name, blurb, cents), (size, label, factor)) in enumerate(
        cartesian(_ITEMS, _VARIANTS)
    ):
        catalog.append(
            {
                "sku": f"{code}-{size}",
                "name": f"{name}, {label}",
                "description": blurb,
                "price_cents": int(cents * factor),
                "stock": 0 if index % 7 == 3 else 25 + (index * 13) % 200,
                "is_active": index != 22,
            }
        )
    return catalog


def _demo_password(settings: Settings) -> tuple[str, bool]:
    """DEMO_PASSWORD from the environment, else a fresh random one (printed once)."""
    given = os.environ.get("DEMO_PASSWORD")
    if given:
        try:
            TypeAdapter(NewPassword).validate_python(given)
        except ValidationError:
            # Demo accounts are real accounts: the registration rules apply.
            raise ValidationFailed(
                [], "DEMO_PASSWORD does not meet the password rules."
            ) from None
        return given, False
    return f"Demo-{secrets.token_urlsafe(9)}1a", True


async def seed_demo_data(
    session: AsyncSession, settings: Settings, app: Quart
) -> list[str]:
    report: list[str] = []
    existing = set(await session.scalars(select(func.lower(User.username))))
    missing = [user for user in DEMO_USERS if user[0] not in existing]
    if missing:
        password, generated = _demo_password(settings)
        for username, email, is_admin in missing:
            await users.create_user(
                session,
                hasher=extensions.hasher(app),
                username=username,
                email=email,
                password=password,
                is_admin=is_admin,
            )
        names = ", ".join(user[0] for user in missing)
        shown = password if generated else "the DEMO_PASSWORD value"
        report.append(f"Created demo users {names} with password {shown}.")
    skus = set(await session.scalars(select(func.lower(Product.sku))))
    new = [item for item in demo_catalog() if str(item["sku"]).lower() not in skus]
    session.add_all(Product(**item) for item in new)
    report.append(
        f"Added {len(new)} demo products." if new else "Demo data already present."
    )
    return report
