"""CSRF on every state-changing request, security headers on every page, cookies out of scripts' reach."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.app import create_app
from marketplace.extensions import db
from marketplace.identity.models import LoginAttempt, UserKind
from marketplace.merchants.models import ApiKey
from tests.factories import PASSWORD, make_merchant, make_user
from tests.page_helpers import csrf_token, english_client


@pytest.fixture
def browser(csrf_app):
    """A browser on the app with CSRF protection switched on."""
    return english_client(csrf_app)


def _login_attempts(app) -> list[tuple[str, bool]]:
    with app.app_context():
        return [(a.email, a.succeeded) for a in db.session.scalars(select(LoginAttempt))]


def _api_key_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(ApiKey.name).order_by(ApiKey.id)))


def _signed_in_merchant(app, browser):
    shop = make_merchant(app, "Tea House")
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    token = csrf_token(browser.get("/merchant/login").text)
    response = browser.post(
        "/merchant/login", data={"email": owner.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return owner


def test_login_without_a_token_is_refused_and_records_nothing(app, browser):
    admin = make_user(app, UserKind.STAFF)

    response = browser.post("/admin/login", data={"email": admin.email, "password": PASSWORD})

    assert response.status_code == 400
    assert "The CSRF token is missing." in response.text
    assert _login_attempts(app) == []
    assert browser.get("/admin/").status_code == 302


def test_login_with_a_forged_token_is_refused(app, browser):
    admin = make_user(app, UserKind.STAFF)
    browser.get("/admin/login")

    response = browser.post(
        "/admin/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": "forged.token"}
    )

    assert response.status_code == 400
    assert _login_attempts(app) == []
    assert browser.get("/admin/").status_code == 302


def test_login_with_the_token_from_the_form_works(app, browser):
    admin = make_user(app, UserKind.STAFF)
    token = csrf_token(browser.get("/admin/login").text)

    response = browser.post(
        "/admin/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert _login_attempts(app) == [(admin.email, True)]
    assert browser.get("/admin/").status_code == 200


def test_a_token_from_another_browser_is_refused(app, csrf_app, browser):
    admin = make_user(app, UserKind.STAFF)
    attackers_token = csrf_token(english_client(csrf_app).get("/admin/login").text)
    browser.get("/admin/login")

    response = browser.post(
        "/admin/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": attackers_token}
    )

    assert response.status_code == 400
    assert _login_attempts(app) == []


def test_creating_an_api_key_without_a_token_is_refused(app, browser):
    _signed_in_merchant(app, browser)

    response = browser.post("/merchant/api-keys", data={"name": "ERP", "scopes": ["shop.view"]})

    assert response.status_code == 400
    assert _api_key_names(app) == []


def test_creating_an_api_key_with_the_forms_token_works(app, browser):
    _signed_in_merchant(app, browser)
    token = csrf_token(browser.get("/merchant/api-keys").text)

    response = browser.post(
        "/merchant/api-keys", data={"name": "ERP", "scopes": ["shop.view"], "csrf_token": token}
    )

    assert response.status_code == 200
    assert 'id="new-secret"' in response.text
    assert _api_key_names(app) == ["ERP"]


def test_an_htmx_request_sends_the_token_in_a_header(app, browser):
    _signed_in_merchant(app, browser)
    token = csrf_token(browser.get("/merchant/api-keys").text)

    response = browser.post(
        "/merchant/api-keys",
        data={"name": "Warehouse sync", "scopes": ["shop.view"]},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )

    assert response.status_code == 200
    assert _api_key_names(app) == ["Warehouse sync"]


def test_every_page_carries_the_token_for_htmx(browser):
    page = browser.get("/").text

    assert csrf_token(page)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_api_calls_with_a_bearer_key_need_no_csrf_token(app, browser):
    _signed_in_merchant(app, browser)
    token = csrf_token(browser.get("/merchant/api-keys").text)
    page = browser.post(
        "/merchant/api-keys", data={"name": "ERP", "scopes": ["shop.view"], "csrf_token": token}
    ).text
    secret = page.split('id="new-secret">', 1)[1].split("<", 1)[0]

    response = english_client(browser.application).get(
        "/api/v1/shop", headers={"Authorization": f"Bearer {secret}"}
    )

    assert response.status_code == 200
    assert response.json["name"] == "Tea House"


@pytest.mark.parametrize("path", ["/", "/admin/login", "/merchant/login", "/wms/login", "/no-such-page"])
def test_security_headers_are_on_every_page(client, path):
    response = client.get(path)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp


def test_the_session_cookie_is_http_only_and_same_site(app, client):
    shopper = make_user(app, UserKind.SHOPPER)

    response = client.post("/login", data={"email": shopper.email, "password": PASSWORD})

    assert response.status_code == 302
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite"} <= attributes
    assert "SameSite=Lax" in cookie


def test_with_secure_cookies_the_session_cookie_is_secure_and_hsts_is_sent(app, database_url):
    secure_app = create_app(
        {
            "APP_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": None,
            "SERVER_NAME": "localhost",
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": True,
            "REMEMBER_COOKIE_SECURE": True,
        }
    )
    shopper = make_user(app, UserKind.SHOPPER)
    client = secure_app.test_client()

    response = client.post(
        "/login",
        data={"email": shopper.email, "password": PASSWORD, "remember": "y"},
        base_url="https://localhost",
    )

    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert {"session", "remember_token"} <= cookies.keys()
    for name in ("session", "remember_token"):
        assert "Secure" in cookies[name], name
        assert "HttpOnly" in cookies[name], name
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
