"""Settings from the environment, with the embedded defaults a newcomer needs.

Development (the default) runs on SQLite under ``instance/`` and runs jobs in-process on fakeredis.
Production (``APP_ENV=production``) refuses to start without real settings: a missing secret or
database must be a loud start-up failure, never a silent fallback to a throwaway default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"  # noqa: S105 - development default, refused in production
DEV_GATEWAY_SECRET = "dev-only-gateway-secret-not-for-production"  # noqa: S105 - refused in production


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message says which and how to fix it."""


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def load_config() -> dict[str, Any]:
    """Read every setting from the environment; validate the production ones."""
    env = os.environ.get("APP_ENV", "development").strip().lower()
    if env not in {"development", "production", "test"}:
        raise ConfigError(f"APP_ENV must be development, production or test, got {env!r}")
    database_url = os.environ.get("DATABASE_URL", "").strip()
    redis_url = os.environ.get("REDIS_URL", "").strip()
    secret_key = os.environ.get("SECRET_KEY", "").strip()
    gateway_secret = os.environ.get("GATEWAY_SECRET", "").strip()

    if env == "production":
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", secret_key),
                ("GATEWAY_SECRET", gateway_secret),
                ("DATABASE_URL", database_url),
                ("REDIS_URL", redis_url),
                ("PUBLIC_BASE_URL", os.environ.get("PUBLIC_BASE_URL", "").strip()),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                "APP_ENV=production needs these environment variables: "
                + ", ".join(missing)
                + ". See docs/operations.md."
            )
        if len(secret_key) < 32 or secret_key == DEV_SECRET_KEY:
            raise ConfigError("SECRET_KEY must be a random string of at least 32 characters in production")
        if len(gateway_secret) < 32 or gateway_secret == DEV_GATEWAY_SECRET:
            raise ConfigError(
                "GATEWAY_SECRET must be a random string of at least 32 characters in production"
            )
    if database_url.startswith("postgres://"):
        raise ConfigError("DATABASE_URL must use the postgresql+psycopg:// scheme, not postgres://")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    if not database_url:
        INSTANCE_DIR.mkdir(exist_ok=True)
        database_url = f"sqlite:///{INSTANCE_DIR / 'marketplace.db'}"

    secure_cookies = _env_bool(os.environ.get("SECURE_COOKIES", "1" if env == "production" else "0"))
    return {
        "APP_ENV": env,
        "SECRET_KEY": secret_key or DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url or None,
        # Links in e-mails are built on this address, never on the request's Host header (reset poisoning).
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").strip() or None,
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _env_int("SMTP_PORT", 25),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "no-reply@marketplace.local"),
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        # Login throttling: lock an account after this many failures, and refuse an address that fails
        # more often than IP_LOGIN_FAILURE_LIMIT within the window.
        "LOGIN_FAILURE_LIMIT": _env_int("LOGIN_FAILURE_LIMIT", 5),
        "LOGIN_LOCKOUT_MINUTES": _env_int("LOGIN_LOCKOUT_MINUTES", 15),
        "IP_LOGIN_FAILURE_LIMIT": _env_int("IP_LOGIN_FAILURE_LIMIT", 30),
        "PASSWORD_RESET_MAX_AGE": _env_int("PASSWORD_RESET_MAX_AGE", 3600),
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _env_int("SESSION_LIFETIME_SECONDS", 8 * 3600),
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "zh_Hans"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ["zh_Hans", "en"],
        "DEFAULT_CURRENCY": os.environ.get("DEFAULT_CURRENCY", "CNY"),
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_BYTES", 24 * 1024 * 1024),
        "MEDIA_DIR": os.environ.get("MEDIA_DIR") or str(INSTANCE_DIR / "media"),
        # Storefront listing counts and filter options are cached in Redis this long (0 = off).
        "STOREFRONT_CACHE_SECONDS": _env_int("STOREFRONT_CACHE_SECONDS", 60),
        # Webhook targets on loopback/private ranges are refused (SSRF) unless a test allows loopback.
        "WEBHOOK_ALLOW_LOOPBACK": _env_bool(os.environ.get("WEBHOOK_ALLOW_LOOPBACK", "0")),
        # The payment gateway signs its callbacks with this (HMAC-SHA256); older than the window = refused.
        "GATEWAY_SECRET": gateway_secret or DEV_GATEWAY_SECRET,
        "GATEWAY_REPLAY_WINDOW_SECONDS": _env_int("GATEWAY_REPLAY_WINDOW_SECONDS", 300),
        # Points redeemed as money: this many points make one yuan.
        "POINTS_PER_YUAN": _env_int("POINTS_PER_YUAN", 100),
        # Unpaid orders are cancelled (stock and held tenders released) after this many minutes.
        "ORDER_PAYMENT_TIMEOUT_MINUTES": _env_int("ORDER_PAYMENT_TIMEOUT_MINUTES", 30),
        # Received orders complete (and their after-sales window starts) after this many days.
        "ORDER_AUTO_COMPLETE_DAYS": _env_int("ORDER_AUTO_COMPLETE_DAYS", 7),
        # The pack station warns when a parcel's weight is off the expected one by more than the larger of
        # this share and this many grams.
        "WMS_WEIGHT_TOLERANCE_PERCENT": _env_int("WMS_WEIGHT_TOLERANCE_PERCENT", 10),
        "WMS_WEIGHT_TOLERANCE_GRAMS": _env_int("WMS_WEIGHT_TOLERANCE_GRAMS", 50),
        "API_TITLE": "Marketplace merchant API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "API key"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    }
