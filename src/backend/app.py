"""`create_app`: the only place the application is wired together."""

from __future__ import annotations

from quart import Quart
from quart_cors import cors
from quart_schema import QuartSchema

from backend import (
    asyncapi,
    cli,
    errors,
    events,
    gc_tuning,
    health,
    logs,
    mail,
    product_cache,
    serving,
    web,
)
from backend.api import register_apis
from backend.config import Settings
from backend.db import Database
from backend.jobs import lifecycle as jobs_lifecycle
from backend.json_provider import use_orjson
from backend.openapi import ShopOpenAPIProvider
from backend.ratelimit import RateLimiter
from backend.security.passwords import PasswordHasher
from backend.security.tokens import TokenService
from backend.security.totp import SecretBox


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
    app.extensions["settings"] = settings
    app.extensions["tokens"] = TokenService(settings)
    app.extensions["secret_box"] = SecretBox(settings.secret_key)
    hasher = app.extensions["passwords"] = PasswordHasher(settings)
    app.after_serving(hasher.close)

    QuartSchema(
        app,
        info={"title": "Shop backend API", "version": "1.0.0"},
        security_schemes={
            "bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}
        },
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path="/docs",
        openapi_provider_class=ShopOpenAPIProvider,
    )
    use_orjson(app)  # after QuartSchema, whose provider it wraps
    web.init_app(app)
    errors.register_error_handlers(app)
    Database(settings).init_app(app)
    serving.init_app(app)
    events.init_app(app)
    product_cache.init_app(app)  # after the database it reads
    gc_tuning.init_app(app)  # last: freezes what startup built
    RateLimiter(settings).init_app(app)
    app.extensions["mail_sender"] = mail.sender_for(settings)
    jobs_lifecycle.init_app(app)  # after the bus, whose LISTEN wakes it

    app.register_blueprint(health.blueprint)
    app.register_blueprint(asyncapi.blueprint)
    register_apis(app)
    cli.init_app(app)

    if settings.cors_origin_list:
        cors(
            app, allow_origin=settings.cors_origin_list, expose_headers=["X-Request-ID"]
        )
    return app


def get_settings(app: Quart) -> Settings:
    settings: Settings = app.extensions["settings"]
    return settings
