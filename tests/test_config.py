"""Settings: defaults, parsing, and production's refusal of unsafe values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.config import DEVELOPMENT_SECRET, RateLimit, Settings

STRONG = "x" * 40


def production(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    monkeypatch.setenv("APP_ENV", "production")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"JWT_SECRET_KEY": STRONG, "DATABASE_URL": "sqlite+aiosqlite:///x"},
            "SECRET_KEY",
        ),
        (
            {"SECRET_KEY": STRONG, "DATABASE_URL": "sqlite+aiosqlite:///x"},
            "JWT_SECRET_KEY",
        ),
        (
            {
                "SECRET_KEY": "short",
                "JWT_SECRET_KEY": STRONG,
                "DATABASE_URL": "sqlite:///x",
            },
            "SECRET_KEY",
        ),
        (
            {
                "SECRET_KEY": STRONG,
                "JWT_SECRET_KEY": DEVELOPMENT_SECRET,
                "DATABASE_URL": "sqlite+aiosqlite:///x",
            },
            "JWT_SECRET_KEY",
        ),
        ({"SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG}, "DATABASE_URL"),
    ],
)
def test_production_refuses_unsafe_settings(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match=named):
        production(monkeypatch, **env)


def test_production_accepts_safe_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = production(
        monkeypatch,
        SECRET_KEY=STRONG,
        JWT_SECRET_KEY=STRONG + "y",
        DATABASE_URL="postgresql+asyncpg://u@h/db",
    )
    assert settings.cors_origin_list == []


def test_development_defaults_to_sqlite_under_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert "/instance/" in settings.database_url
    assert settings.cors_origin_list == ["*"]


def test_cors_origins_are_comma_separated() -> None:
    settings = Settings(cors_origins="https://a.example, https://b.example")
    assert settings.cors_origin_list == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [("10/minute", 10, 60), ("3/second", 3, 1), ("100/hour", 100, 3600), ("0", 0, 1)],
)
def test_rate_limits_parse(text: str, count: int, period: int) -> None:
    limit = RateLimit.parse(text)
    assert (limit.count, limit.period) == (count, period)


def test_bad_rate_limit_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"N/second"):
        Settings(rate_limit_login="ten per minute")
