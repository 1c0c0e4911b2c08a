"""The v1 API: every blueprint of this version, in mount order."""

from __future__ import annotations

from quart import Blueprint

blueprints: list[Blueprint] = []
