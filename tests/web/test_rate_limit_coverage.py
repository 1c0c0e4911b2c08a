"""Architecture: every auth route, and account creation, declares a rate limit."""

from __future__ import annotations

from quart import Blueprint, Quart

from backend.app import create_app
from backend.web.ratelimit import EXEMPT_ATTR, LIMITS_ATTR, rate_limit
from tests.conftest import make_settings

# Routes that must be limited, beyond everything under /api/v1/auth.
ALSO_LIMITED = {("POST", "/api/v1/users")}


def unlimited_routes(app: Quart) -> list[str]:
    missing = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        guarded = rule.rule.startswith("/api/v1/auth/") or any(
            (method, rule.rule) in ALSO_LIMITED for method in methods
        )
        view = app.view_functions[rule.endpoint]
        if guarded and not (hasattr(view, LIMITS_ATTR) or hasattr(view, EXEMPT_ATTR)):
            missing.append(f"{sorted(methods)} {rule.rule}")
    return missing


def test_every_auth_route_has_a_rate_limit(tmp_path: object) -> None:
    app = create_app(make_settings("sqlite+aiosqlite://"))
    assert unlimited_routes(app) == []
    login = app.view_functions["auth.login"]
    scopes = [limit.scope for limit in getattr(login, LIMITS_ATTR)]
    assert scopes == ["login", "login-account"]
    assert getattr(app.view_functions["users.create_user"], LIMITS_ATTR)


def test_the_check_notices_a_new_unlimited_auth_route() -> None:
    app = create_app(make_settings("sqlite+aiosqlite://"))
    extra = Blueprint("extra", __name__)

    @extra.post("/api/v1/auth/magic-link")
    async def magic_link() -> str:
        return ""

    @extra.post("/api/v1/auth/limited")
    @rate_limit()
    async def limited() -> str:
        return ""

    app.register_blueprint(extra)
    assert unlimited_routes(app) == ["['POST'] /api/v1/auth/magic-link"]
