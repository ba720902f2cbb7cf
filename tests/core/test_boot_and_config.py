"""Start-up: the embedded default boots, production refuses missing settings, /healthz tells the state."""

from __future__ import annotations

import pytest

from marketplace.app import create_app
from marketplace.config import ConfigError, load_config


def test_embedded_default_uses_sqlite_and_in_process_jobs(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)

    app = create_app()

    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/marketplace.db")
    assert app.extensions["rq_async"] is False


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "GATEWAY_SECRET", "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL"]
)
def test_production_refuses_to_start_without_a_setting(monkeypatch, missing):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("GATEWAY_SECRET", "g" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@db/app")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.com")
    monkeypatch.delenv(missing)

    with pytest.raises(ConfigError, match=missing):
        load_config()


def test_production_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("GATEWAY_SECRET", "g" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@db/app")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.com")

    with pytest.raises(ConfigError, match="32 characters"):
        load_config()


def test_production_sets_secure_cookies(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("GATEWAY_SECRET", "g" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db/app")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.com")

    config = load_config()

    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app@db/app"


def test_healthz_reports_database_and_queue(app, client, is_postgres):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"backend": "postgresql" if is_postgres else "sqlite", "ok": True}
    assert body["queue"]["ok"] is True
    assert body["queue"]["backend"] == (
        "redis" if app.extensions["rq_async"] else "fakeredis (in-process, synchronous)"
    )
