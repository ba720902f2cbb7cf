"""Test fixtures: a real database (PostgreSQL when it answers, else SQLite) and real Redis (else fakeredis).

On PostgreSQL every xdist worker gets its own database, owned by a role that is neither superuser nor
BYPASSRLS, so row-level security really applies to what the tests do. Tables are emptied after each
test (no rollback-per-test: concurrency tests need committed data and separate connections).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marketplace.app import create_app
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db

APP_ROLE = "marketplace_test"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _run_id() -> str:
    """Tells concurrent test runs apart (xdist's run id, or this process), so they never share a database."""
    return (os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid()))[:8]


def _postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return (
            url.replace("postgresql://", "postgresql+psycopg://", 1)
            if url.startswith("postgresql://")
            else url
        )
    if os.environ.get("TEST_EMBEDDED") != "1" and _answers("127.0.0.1", 5432):
        return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    return None


def _create_postgres_database(admin_url: str) -> str:
    """A fresh database for this worker, owned by a non-superuser, non-BYPASSRLS role."""
    name = f"marketplace_test_{_run_id()}_{_worker()}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE})
        if not exists:
            # Another worker may create it at the same moment.
            with contextlib.suppress(sa.exc.ProgrammingError, sa.exc.IntegrityError):
                conn.execute(sa.text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name} OWNER {APP_ROLE}"))
    engine.dispose()
    url = sa.make_url(admin_url).set(username=APP_ROLE, password=None, database=name)
    return url.render_as_string(hide_password=False)


@functools.cache
def _redis_url() -> str | None:
    """Real Redis when it answers, with a database of its own for this worker (None means fakeredis).

    The database number is claimed with ``SET NX`` in database 0, so concurrent test runs on one machine never
    share (and flush) each other's queues; the claim expires after an hour if a run dies.
    """
    url = os.environ.get("REDIS_URL")
    if not url and os.environ.get("TEST_EMBEDDED") != "1" and _answers("127.0.0.1", 6379):
        url = "redis://127.0.0.1:6379/0"
    if not url:
        return None
    claims = redis.Redis.from_url(urlsplit(url)._replace(path="/0").geturl())
    owner = f"{_run_id()}:{_worker()}:{os.getpid()}"
    for index in range(1, 16):
        if claims.set(f"marketplace:test-redis-db:{index}", owner, nx=True, ex=3600):
            atexit.register(claims.delete, f"marketplace:test-redis-db:{index}")
            return urlsplit(url)._replace(path=f"/{index}").geturl()
    raise RuntimeError("all 15 Redis test databases are claimed by other test runs")


def _drop_postgres_database(admin_url: str, url: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {sa.make_url(url).database} WITH (FORCE)"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin_url = _postgres_admin_url()
    if admin_url:
        url = _create_postgres_database(admin_url)
        yield url
        _drop_postgres_database(admin_url, url)
    else:
        directory = tempfile.mkdtemp(prefix="marketplace-test-")
        yield f"sqlite:///{Path(directory) / f'test_{_worker()}.db'}"


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    from flask_migrate import upgrade

    app = create_app(
        {
            "APP_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-with-enough-length-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": _redis_url(),
            "SERVER_NAME": "localhost",
            "WTF_CSRF_ENABLED": False,
            "WEBHOOK_ALLOW_LOOPBACK": True,
            "MEDIA_DIR": tempfile.mkdtemp(prefix="marketplace-media-"),
        }
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request) -> Iterator[None]:
    """Empty every table and the test Redis database after each test."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(sa.text(f"DELETE FROM {table}"))
        app.extensions["redis"].flushdb()


@pytest.fixture
def is_postgres(app: Flask) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.fixture
def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("needs PostgreSQL (row-level security, real concurrency)")


@pytest.fixture
def session(app: Flask):
    """The app's session inside an app context, acting as the system (like a CLI command)."""
    with app.app_context(), acting_as(SYSTEM):
        yield db.session
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def csrf_app(database_url: str, app: Flask) -> Flask:
    """A second app with CSRF protection on, for the tests that prove CSRF is enforced."""
    csrf_app = create_app(
        {
            "APP_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-with-enough-length-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": None,
            "SERVER_NAME": "localhost",
        }
    )
    return csrf_app
