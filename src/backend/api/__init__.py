"""Versioned API packages, mounted from this one place.

A `/api/v2` is a new package `backend/api/v2` with its own `blueprints` list,
plus one more entry in `API_VERSIONS`. Beside the versions live the probes
(`health`), the OpenAPI provider (`openapi`) and the AsyncAPI document
(`asyncapi`). The outermost layer: it may import every other package, and
nothing but `app` imports it.
"""

from __future__ import annotations

from quart import Blueprint, Quart

from backend.api import v1

API_VERSIONS: dict[str, list[Blueprint]] = {
    "/api/v1": v1.blueprints,
}


def register_apis(app: Quart) -> None:
    for prefix, blueprints in API_VERSIONS.items():
        for blueprint in blueprints:
            app.register_blueprint(
                blueprint, url_prefix=prefix + (blueprint.url_prefix or "")
            )
