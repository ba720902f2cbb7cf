"""Browser tests: the real app served on a free 127.0.0.1 port, driven by Debian's Chromium via Playwright.

One browser and one server per test session (per xdist worker); a fresh browser context (cookies,
storage) per test. The app here has CSRF protection ON and no SERVER_NAME, like production. It
overrides the ``app`` fixture of tests/conftest.py, so that file's ``_clean_state`` empties the
worker's database after each browser test, as it does for every other test; the demo data is seeded
again (idempotently) before each one.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from marketplace.app import create_app
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from tests.conftest import _redis_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORDS = {
    "admin@demo.test": "admin-demo-pass",
    "merchant@demo.test": "merchant-demo-pass",
    "picker@demo.test": "picker-demo-pass",
    "supervisor@demo.test": "supervisor-demo-pass",
    "shopper@demo.test": "shopper-demo-pass",
}
LOGIN_PATHS = {
    "admin": "/admin/login",
    "merchant": "/merchant/login",
    "wms": "/wms/login",
    "storefront": "/login",
}


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The app as a browser meets it: CSRF on, no SERVER_NAME, plain-HTTP cookies for 127.0.0.1."""
    from flask_migrate import upgrade

    app = create_app(
        {
            "APP_ENV": "test",
            "SECRET_KEY": "e2e-secret-key-with-enough-length-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": _redis_url(),
            "WTF_CSRF_ENABLED": True,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "WEBHOOK_ALLOW_LOOPBACK": True,
            "MEDIA_DIR": tempfile.mkdtemp(prefix="marketplace-e2e-media-"),
        }
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app


@pytest.fixture(scope="session")
def base_url(app: Flask) -> Iterator[str]:
    """Serve the app with werkzeug in a background thread on a free port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(autouse=True)
def demo_data(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo shops and accounts, committed (the previous test's data was emptied after it).

    Hashed at a low argon2 cost while seeding (the app rehashes them at the first sign-in): five
    hashes at the production cost would take most of each test's time.
    """
    from argon2 import PasswordHasher

    from marketplace.demo import seed
    from marketplace.identity import passwords

    with monkeypatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024), raising=False)
        with app.app_context(), acting_as(SYSTEM):
            seed(db.session)
            db.session.commit()
            db.session.remove()


@pytest.fixture
def viewport() -> dict[str, int]:
    return {"width": 1280, "height": 800}


@pytest.fixture
def context(browser, base_url: str, viewport: dict[str, int]):
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="en-US")
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def sign_in():
    """``sign_in(page, portal, email)``: the portal's real login form (with its CSRF token), then off it."""

    def sign_in(page, portal: str, email: str) -> None:
        login_path = LOGIN_PATHS[portal]
        page.goto(login_path)
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", DEMO_PASSWORDS[email])
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert urlsplit(page.url).path != login_path, page.inner_text("main")

    return sign_in
