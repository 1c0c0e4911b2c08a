"""The v1 API: every blueprint of this version, in mount order."""

from __future__ import annotations

from quart import Blueprint

blueprints: list[Blueprint] = []

from backend.api.v1 import orders, products  # noqa: E402

blueprints += [products.blueprint, orders.blueprint]

from backend.api.v1 import auth, mfa, users  # noqa: E402

blueprints += [auth.blueprint, mfa.blueprint, users.blueprint]

from backend.api.v1 import order_events  # noqa: E402

blueprints += [order_events.blueprint]

from backend.api.v1 import admin_jobs  # noqa: E402

blueprints += [admin_jobs.blueprint]

from backend.api.v1 import webhooks  # noqa: E402

blueprints += [webhooks.blueprint]

from backend.api.v1 import accounts  # noqa: E402

blueprints += [accounts.blueprint]
