"""Cross-cutting rules that code review alone would let slip."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from quart import Quart
from quart.typing import TestClientProtocol as Client

SOURCE = Path(__file__).resolve().parents[1] / "src" / "backend"
# Routes anyone may call; every other /api/v1 route must demand a token.
PUBLIC_ROUTES = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("POST", "/api/v1/auth/verify-email"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/products"),
    ("GET", "/api/v1/products/{}"),
}


def private_routes(app: Quart) -> list[tuple[str, str]]:
    """(method, path with ids filled in) of every non-public HTTP route."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.websocket:
            continue
        shape = re.sub(r"<[^>]+>", "{}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, shape) not in PUBLIC_ROUTES:
                routes.append((method, shape.replace("{}", "1")))
    return routes


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_services_and_models_do_not_import_quart() -> None:
    offenders = [
        str(path.relative_to(SOURCE))
        for folder in ("services", "models")
        for path in (SOURCE / folder).rglob("*.py")
        if any(name.split(".")[0] == "quart" for name in imported_modules(path))
    ]
    assert offenders == []


async def test_every_private_api_route_requires_a_token(
    app: Quart, client: Client
) -> None:
    open_doors = []
    for method, path in private_routes(app):
        response = await client.open(path, method=method, json={})
        if response.status_code != 401:
            open_doors.append(f"{method} {path} -> {response.status_code}")
    assert open_doors == []
