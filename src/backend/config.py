"""Settings: one typed object read from the environment and `.env`."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Deliberately recognisable so production can refuse it.
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production!!"
MIN_SECRET_BYTES = 32
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")
_PERIOD_SECONDS = {"second": 1, "minute": 60, "hour": 3600}


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / 'instance' / 'backend.sqlite3'}"


class RateLimit:
    """A parsed `N/period` limit; `count == 0` disables it."""

    __slots__ = ("count", "period")

    def __init__(self, count: int, period: int) -> None:
        self.count = count
        self.period = period

    @classmethod
    def parse(cls, value: str) -> RateLimit:
        if value.strip() == "0":
            return cls(0, 1)
        match = _RATE_RE.match(value)
        if match is None:
            raise ValueError(
                f"expected 'N/second', 'N/minute', 'N/hour' or '0', not {value!r}"
            )
        return cls(int(match[1]), _PERIOD_SECONDS[match[2]])

    @property
    def enabled(self) -> bool:
        return self.count > 0


class Settings(BaseSettings):
    """Every knob of the service. Names match the contract's configuration table."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    app_env: Literal["development", "testing", "production"] = "development"
    database_url: str = Field(default_factory=default_database_url)
    secret_key: str = DEVELOPMENT_SECRET
    jwt_secret_key: str = DEVELOPMENT_SECRET
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "backend"
    # Clock skew tolerated on `exp` and `iat` between hosts. 0: an expired
    # token is refused at once, as the contract says; raise it only for hosts
    # whose clocks disagree.
    jwt_leeway: int = Field(default=0, ge=0, le=60)
    access_token_ttl: int = Field(default=900, gt=0)
    refresh_token_ttl: int = Field(default=30 * 24 * 3600, gt=0)

    # Issuer shown by authenticator apps next to the account name.
    totp_issuer: str = Field(default="Shop", min_length=1, max_length=100)

    rate_limit_login: str = "10/minute"
    rate_limit_register: str = "5/minute"
    redis_url: str | None = None

    max_content_length: int = Field(default=256 * 1024, gt=0)
    body_timeout: int = Field(default=10, gt=0)
    trusted_proxy_hops: int = Field(default=0, ge=0)
    cors_origins: str | None = None
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    smtp_url: str | None = None
    mail_from: str = "shop@localhost"
    # Base of the links in emails (a front end's pages, not this API).
    public_base_url: str = "http://127.0.0.1:5000"
    password_reset_ttl: int = Field(default=3600, gt=0)
    email_verification_ttl: int = Field(default=24 * 3600, gt=0)
    rate_limit_password_reset: str = "5/hour"
    require_verified_email: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    password_hash_concurrency: int = Field(
        default_factory=lambda: os.cpu_count() or 1, gt=0
    )
    password_hash_wait: float = Field(default=2.0, gt=0)
    # OWASP's floor for Argon2id is m=19 MiB, t=2, p=1; we sit above it.
    argon2_memory_kib: int = Field(default=19 * 1024, ge=19 * 1024)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)

    ws_queue_size: int = Field(default=1000, gt=0)
    ws_send_timeout: float = Field(default=10.0, gt=0)
    # Event sockets one user may hold open on one worker; more are refused (429).
    # Server-Sent Events streams count against the same limit.
    ws_max_connections_per_user: int = Field(default=20, gt=0)
    # Seconds an idle event stream waits before a comment line keeps it open
    # (the contract promises one at least every 15 s; tests shorten it).
    sse_heartbeat: float = Field(default=15.0, gt=0, le=15)

    # Product responses cached per worker (0 turns the cache off); changes made
    # outside the service are seen within the TTL (see backend.web.product_cache).
    product_cache_size: int = Field(default=20_000, ge=0)
    product_cache_ttl: float = Field(default=300.0, gt=0)
    # Live logins remembered per worker (0 turns the cache off); revocations
    # through the service are immediate, changes made outside it (psql) are
    # seen within the TTL (see backend.web.login_cache).
    login_cache_size: int = Field(default=20_000, ge=0)
    login_cache_ttl: float = Field(default=60.0, gt=0)

    # PostgreSQL pool; sized per worker process. No overflow by default: under
    # sustained load above the pool size, overflow connections are opened and
    # closed over and over (a new server process and a cold statement cache
    # each time), which cost more than the extra concurrency gained.
    db_pool_size: int = Field(default=10, gt=0)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout: float = Field(default=5.0, gt=0)
    db_pool_recycle: int = Field(default=1800, gt=0)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=15_000, gt=0)
    db_idle_in_transaction_timeout_ms: int = Field(default=30_000, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=5_000, gt=0)

    # Durable jobs (see backend.jobs): slots per process (0: this process runs
    # none), the lease after which a dead process's job runs again, how long a
    # draining process waits for running jobs, and retention.
    job_concurrency: int = Field(default=4, ge=0)
    job_lease: int = Field(default=60, ge=5)
    job_drain_timeout: float = Field(default=10.0, ge=0)
    job_retention: int = Field(default=7 * 24 * 3600, gt=0)
    cleanup_interval: int = Field(default=300, gt=0)
    event_retention: int = Field(default=30 * 24 * 3600, gt=0)
    # Bearer token for /metrics; unset: open in development, 404 in production.
    metrics_token: str | None = None
    # false: no /metrics and no per-request recording (`make bench` measures
    # read-one both ways to keep what metrics cost in view).
    metrics_enabled: bool = True

    # Webhooks (see backend.webhooks): a delivery's HTTP timeout (the delivery
    # kind's job timeout is 60 s, so it must stay below that), the retry
    # schedule in seconds, how long an endpoint may fail before it is disabled,
    # how long a rotated-out secret still signs, and whether URLs may point at
    # loopback or private addresses (off everywhere unless set: SSRF).
    webhook_timeout: float = Field(default=10.0, gt=0, le=50)
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    webhook_disable_after: int = Field(default=432_000, gt=0)
    webhook_secret_overlap: int = Field(default=86_400, ge=0)
    webhook_allow_private: bool = False

    # Orders that cannot hoard stock (see backend.services.order_rules): an
    # unpaid order gives its stock back after the TTL, one user holds at most
    # `order_max_pending` pending orders and places at most `rate_limit_orders`.
    order_pending_ttl: int = Field(default=1800, gt=0)
    order_max_pending: int = Field(default=10, gt=0)
    rate_limit_orders: str = "30/minute"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        RateLimit.parse(self.rate_limit_login)
        RateLimit.parse(self.rate_limit_register)
        _ = self.webhook_retry_delays
        RateLimit.parse(self.rate_limit_password_reset)
        RateLimit.parse(self.rate_limit_orders)
        if self.app_env != "production":
            return self
        for name in ("secret_key", "jwt_secret_key"):
            value: str = getattr(self, name)
            if value == DEVELOPMENT_SECRET or len(value.encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"{name.upper()} must be set to a random value of at least "
                    f"{MIN_SECRET_BYTES} bytes in production"
                )
        if (
            "DATABASE_URL" not in os.environ
            and "database_url" not in self.model_fields_set
        ):
            raise ValueError("DATABASE_URL must be set in production")
        return self

    @cached_property
    def webhook_retry_delays(self) -> tuple[float, ...]:
        """`WEBHOOK_RETRY_SCHEDULE` parsed: one delay per retry, in seconds."""
        try:
            parts = self.webhook_retry_schedule.split(",")
            delays = tuple(float(part) for part in parts)
        except ValueError:
            delays = ()
        if not delays or any(delay < 0 for delay in delays) or len(delays) > 50:
            raise ValueError(
                "WEBHOOK_RETRY_SCHEDULE must be 1 to 50 comma-separated seconds >= 0"
            )
        return delays

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def cors_origin_list(self) -> list[str]:
        if self.cors_origins is None:
            return [] if self.app_env == "production" else ["*"]
        return [
            origin.strip() for origin in self.cors_origins.split(",") if origin.strip()
        ]

    @cached_property
    def login_limit(self) -> RateLimit:
        return RateLimit.parse(self.rate_limit_login)

    @cached_property
    def register_limit(self) -> RateLimit:
        return RateLimit.parse(self.rate_limit_register)

    @cached_property
    def password_reset_limit(self) -> RateLimit:
        return RateLimit.parse(self.rate_limit_password_reset)

    @cached_property
    def orders_limit(self) -> RateLimit:
        return RateLimit.parse(self.rate_limit_orders)
