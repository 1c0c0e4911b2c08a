"""`/docs`: Swagger UI, served entirely by this service so it works offline.

quart-schema's own page loads Swagger UI from a CDN (a blank page without
internet) and is not a complete HTML document. Here the page is ours and the
assets come from the `flask-swagger-ui` distribution on PyPI: its version is
the Swagger UI release it ships (5.34.0), it follows upstream releases, and
it is a plain wheel of the official `dist/` files. Only those files are read;
Flask itself is never imported. Asset URLs carry that version, so browsers may
cache them for good and an upgrade changes every URL.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from quart import Blueprint, Response, abort, send_from_directory, url_for
from quart_schema import hide


def _dist() -> Path:
    # find_spec locates the package without running its __init__ (which imports
    # Flask for its blueprint).
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


DIST = _dist()
VERSION = (DIST / "VERSION").read_text().strip().removeprefix("v")
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})
# Our start-up script: a file, not inline, so the page's CSP needs no
# 'unsafe-inline' for scripts.
INIT_SCRIPT = """\
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""
PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/png" href="{icon}">
</head>
<body data-openapi-url="{openapi}">
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""
# Assets never change under a versioned URL.
_IMMUTABLE = "public, max-age=31536000, immutable"

blueprint = Blueprint("docs", __name__)


def _asset(name: str) -> str:
    return url_for("docs.asset", version=VERSION, name=name)


@blueprint.get("/docs")
@hide
async def swagger_ui() -> Response:
    page = PAGE.format(
        title="Shop backend API",
        css=_asset("swagger-ui.css"),
        icon=_asset("favicon-32x32.png"),
        openapi=url_for("openapi"),
        bundle=_asset("swagger-ui-bundle.js"),
        init=_asset("init.js"),
    )
    return Response(page, content_type="text/html; charset=utf-8")


@blueprint.get("/docs/assets/<version>/<name>")
@hide
async def asset(version: str, name: str) -> Response:
    if version != VERSION:
        abort(404)
    if name == "init.js":
        response = Response(INIT_SCRIPT, content_type="text/javascript")
    elif name in ASSETS:
        response = await send_from_directory(DIST, name)
    else:
        abort(404)
    response.headers["Cache-Control"] = _IMMUTABLE
    return response
