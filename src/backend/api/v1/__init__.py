"""The v1 API: every blueprint of this version, in mount order."""

from __future__ import annotations

from quart import Blueprint

blueprints: list[Blueprint] = []

from backend.api.v1 import products  # noqa: E402

blueprints += [products.blueprint]
