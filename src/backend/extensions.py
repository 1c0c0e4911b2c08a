"""Typed accessors for what `create_app` puts on `app.extensions`.

Each takes the app, or uses the current one; the key strings live only here
and in the `init_app` that stores them. Types are imported for checking only,
so importing this module pulls in nothing but Quart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quart import Quart, current_app

if TYPE_CHECKING:
    from backend.config import Settings
    from backend.db.database import Database
    from backend.events.bus import EventBus
    from backend.events.login_checks import LoginChecker
    from backend.events.watchdog import SendWatchdog
    from backend.mail import EmailSender
    from backend.security.passwords import PasswordHasher
    from backend.security.sealing import Sealer
    from backend.security.tokens import TokenService
    from backend.web.login_cache import LoginCache
    from backend.web.product_cache import ProductCache
    from backend.web.ratelimit import RateLimiter

SETTINGS = "settings"
DATABASE = "database"
TOKENS = "tokens"
HASHER = "passwords"
SECRET_BOX = "secret_box"
MAIL_SENDER = "mail_sender"
RATE_LIMITER = "ratelimit"
BUS = "events"
PRODUCT_CACHE = "product_cache"
LOGIN_CACHE = "login_cache"
SEND_WATCHDOG = "send_watchdog"
LOGIN_CHECKER = "login_checker"


def _get(key: str, app: Quart | None) -> Any:
    return (app or current_app).extensions[key]


def settings(app: Quart | None = None) -> Settings:
    value: Settings = _get(SETTINGS, app)
    return value


def database(app: Quart | None = None) -> Database:
    value: Database = _get(DATABASE, app)
    return value


def tokens(app: Quart | None = None) -> TokenService:
    value: TokenService = _get(TOKENS, app)
    return value


def hasher(app: Quart | None = None) -> PasswordHasher:
    value: PasswordHasher = _get(HASHER, app)
    return value


def secret_box(app: Quart | None = None) -> Sealer:
    """The sealer of TOTP secrets."""
    value: Sealer = _get(SECRET_BOX, app)
    return value


def mail_sender(app: Quart | None = None) -> EmailSender:
    value: EmailSender = _get(MAIL_SENDER, app)
    return value


def rate_limiter(app: Quart | None = None) -> RateLimiter:
    value: RateLimiter = _get(RATE_LIMITER, app)
    return value


def bus(app: Quart | None = None) -> EventBus:
    value: EventBus = _get(BUS, app)
    return value


def send_watchdog(app: Quart | None = None) -> SendWatchdog:
    value: SendWatchdog = _get(SEND_WATCHDOG, app)
    return value


def login_checker(app: Quart | None = None) -> LoginChecker:
    value: LoginChecker = _get(LOGIN_CHECKER, app)
    return value


def login_cache(app: Quart | None = None) -> LoginCache | None:
    """None while the app does not cache logins (tests, size 0, before serving)."""
    value: LoginCache | None = (app or current_app).extensions.get(LOGIN_CACHE)
    return value


def product_cache(app: Quart | None = None) -> ProductCache | None:
    """None while the app does not cache (tests, size 0, before serving)."""
    value: ProductCache | None = (app or current_app).extensions.get(PRODUCT_CACHE)
    return value
