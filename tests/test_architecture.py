"""Cross-cutting rules that code review alone would let slip."""

from __future__ import annotations

import re
from pathlib import Path

from quart import Quart
from quart.typing import TestClientProtocol as Client

from tests.support import import_graph

INNER_LAYERS = ("backend.services", "backend.models", "backend.schemas")
# Background work is plain Python too; only its wiring into the app may not be.
BACKGROUND = ("backend.jobs", "backend.webhooks")
WIRING = ("backend.jobs.lifecycle", "backend.webhooks.lifecycle")
OUTER_LAYERS = ("backend.web", "backend.server", "backend.events")
FRAMEWORK = {"quart", "quart_schema", "quart_cors", "hypercorn"}
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


def in_layer(module: str, layers: tuple[str, ...]) -> bool:
    """Whether `module` is one of `layers` or inside one (`backend.webhooks` is
    not inside `backend.web`)."""
    return any(module == layer or module.startswith(f"{layer}.") for layer in layers)


def test_services_models_and_schemas_never_reach_quart_web_server_or_events() -> None:
    """Followed through every import that runs, package `__init__`s included."""
    assert unwanted_reach(INNER_LAYERS) == {}


def test_jobs_and_webhooks_reach_quart_only_from_their_wiring() -> None:
    assert unwanted_reach(BACKGROUND, exempt=WIRING) == {}


def unwanted_reach(
    layers: tuple[str, ...], exempt: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """Modules of `layers` that reach the framework or the outer layers."""
    graph = import_graph.build()
    offenders = {}
    for module in graph.edges:
        if not in_layer(module, layers) or in_layer(module, exempt):
            continue
        reached = graph.reachable(module)
        bad = sorted(
            name
            for name in reached
            if in_layer(name, OUTER_LAYERS)
            or any(top in FRAMEWORK for top in graph.external[name])
        )
        if bad:
            offenders[module] = bad
    return offenders


def test_no_module_imports_itself_through_others() -> None:
    assert import_graph.build().cycles() == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "backend" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "backend"


def test_the_import_graph_follows_package_reexports_and_skips_type_checking(
    tmp_path: Path,
) -> None:
    source = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "services/__init__.py": "",
            "services/a.py": "from backend import cache\n",
            "cache/__init__.py": "from backend.cache.impl import Cache\n",
            "cache/impl.py": "import quart\nfrom backend.services import a\n",
            "services/b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from quart import Quart\n"
            ),
        },
    )
    graph = import_graph.build(source)
    assert graph.cycles() == [
        ["backend.cache", "backend.cache.impl", "backend.services.a"]
    ]
    assert "quart" in graph.external["backend.cache.impl"]
    assert "backend.cache.impl" in graph.reachable("backend.services.a")
    assert graph.reachable("backend.services.b") == {
        "backend",
        "backend.services",
        "backend.services.b",
    }


async def test_every_private_api_route_requires_a_token(
    app: Quart, client: Client
) -> None:
    open_doors = []
    for method, path in private_routes(app):
        response = await client.open(path, method=method, json={})
        if response.status_code != 401:
            open_doors.append(f"{method} {path} -> {response.status_code}")
    assert open_doors == []
