"""`create_app`: the only place the application is wired together."""

from __future__ import annotations

from quart import Quart
from quart_cors import cors
from quart_schema import QuartSchema

from backend import cli, events, extensions, mail
from backend.api import asyncapi, docs, health, register_apis
from backend.api.openapi import ShopOpenAPIProvider
from backend.config import Settings
from backend.db import request_scope
from backend.db.database import Database
from backend.jobs import lifecycle as jobs_lifecycle
from backend.metrics import web as metrics_web
from backend.security import totp
from backend.security.passwords import PasswordHasher
from backend.security.tokens import TokenService
from backend.server import gc_tuning, lifecycle, logs, startup, ws_deflate, ws_frames
from backend.web import login_cache, problems, product_cache, requests
from backend.web.json_provider import use_orjson
from backend.web.ratelimit import RateLimiter
from backend.webhooks import lifecycle as webhooks_lifecycle

# Response headers a browser script may read on a cross-origin response.
EXPOSED_HEADERS = (
    "X-Request-ID",
    "ETag",
    "Retry-After",
    "Idempotent-Replayed",
    "WWW-Authenticate",
    "Location",
)


def create_app(settings: Settings | None = None) -> Quart:
    """Build the app from `settings` (read from the environment when omitted)."""
    settings = settings or Settings()
    logs.configure_logging(settings.log_level)

    app = Quart("backend")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        BODY_TIMEOUT=settings.body_timeout,
        TESTING=settings.app_env == "testing",
        SECRET_KEY=settings.secret_key,
    )
    app.extensions[extensions.SETTINGS] = settings
    app.extensions[extensions.TOKENS] = TokenService(settings)
    app.extensions[extensions.SECRET_BOX] = totp.sealer(settings.secret_key)
    hasher = app.extensions[extensions.HASHER] = PasswordHasher(settings)
    app.after_serving(hasher.close)

    QuartSchema(
        app,
        info={"title": "Shop backend API", "version": "1.0.0"},
        security_schemes={
            "bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}
        },
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,  # backend.api.docs serves /docs, offline
        openapi_provider_class=ShopOpenAPIProvider,
    )
    use_orjson(app)  # after QuartSchema, whose provider it wraps
    ws_frames.install()  # 1009 and the close handshake while a client still sends
    ws_deflate.install()  # compression without a compressor per socket
    requests.init_app(app)
    problems.register_error_handlers(app)
    request_scope.init_app(app, Database(settings))
    lifecycle.init_app(app)
    startup.init_app(app)  # a failed start ends the server, not just a worker
    metrics_web.init_app(app)  # after the database, whose pool it watches
    events.init_app(app)
    product_cache.init_app(app)  # after the database it reads
    login_cache.init_app(app)  # likewise
    gc_tuning.init_app(app)  # last: freezes what startup built
    RateLimiter(settings).init_app(app)
    app.extensions[extensions.MAIL_SENDER] = mail.sender_for(settings)
    # Webhooks first: their HTTP client must outlive the job runner's drain.
    webhooks_lifecycle.init_app(app)
    jobs_lifecycle.init_app(app)  # after the bus, whose LISTEN wakes it

    app.register_blueprint(health.blueprint)
    app.register_blueprint(asyncapi.blueprint)
    app.register_blueprint(docs.blueprint)
    register_apis(app)
    cli.init_app(app)

    if settings.cors_origin_list:
        cors(
            app, allow_origin=settings.cors_origin_list, expose_headers=EXPOSED_HEADERS
        )
    return app
