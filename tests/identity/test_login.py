"""Sign-in, lockout, throttling and portal separation."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.identity.models import LoginAttempt, User, UserKind
from tests.factories import PASSWORD, login, make_merchant, make_user


def test_staff_signs_in_to_admin_and_sees_dashboard(app, client):
    admin = make_user(app, UserKind.STAFF)

    response = login(client, admin)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Dashboard" in page.text or "工作台" in page.text


def test_wrong_password_is_refused_and_recorded(app, client):
    admin = make_user(app, UserKind.STAFF)

    response = login(client, admin, password="not-the-password")

    assert response.status_code == 401
    assert client.get("/admin/").status_code == 302
    with app.app_context():
        attempts = db.session.scalars(select(LoginAttempt)).all()
        assert [(a.email, a.succeeded, a.reason) for a in attempts] == [
            (admin.email, False, "bad_credentials")
        ]


def test_account_locks_after_repeated_failures_even_with_right_password(app, client):
    admin = make_user(app, UserKind.STAFF)
    limit = app.config["LOGIN_FAILURE_LIMIT"]

    for _ in range(limit):
        assert login(client, admin, password="wrong-password!").status_code == 401
    response = login(client, admin, password=PASSWORD)

    assert response.status_code == 423
    assert client.get("/admin/").status_code == 302
    with app.app_context():
        user = db.session.get(User, admin.id)
        assert user.locked_until is not None


def test_address_is_throttled_after_many_failures_across_accounts(app, client):
    app.config["IP_LOGIN_FAILURE_LIMIT"] = 3
    try:
        users = [make_user(app, UserKind.SHOPPER) for _ in range(4)]
        for user in users[:3]:
            assert login(client, user, password="wrong-password!").status_code == 401
        response = login(client, users[3])
        assert response.status_code == 429
        assert client.get("/account").status_code == 302
    finally:
        app.config["IP_LOGIN_FAILURE_LIMIT"] = 30


def test_each_portal_admits_only_its_own_kind(app, client):
    shopper = make_user(app, UserKind.SHOPPER)
    assert login(client, shopper).status_code == 302

    for path in ("/admin/", "/merchant/", "/wms/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]
    assert client.get("/account").status_code == 200


def test_shopper_credentials_do_not_open_the_admin_login(app, client):
    shopper = make_user(app, UserKind.SHOPPER, email="same@example.test")

    response = client.post("/admin/login", data={"email": shopper.email, "password": PASSWORD})

    assert response.status_code == 401
    assert client.get("/admin/").status_code == 302


def test_merchant_sees_own_shop_dashboard(app, client):
    shop = make_merchant(app, "Tea House")
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)

    login(client, owner)
    page = client.get("/merchant/")

    assert page.status_code == 200
    assert "Tea House" in page.text


def test_logout_ends_the_session(app, client):
    picker = make_user(app, UserKind.WAREHOUSE)
    login(client, picker)
    assert client.get("/wms/").status_code == 200

    client.post("/wms/logout")

    assert client.get("/wms/").status_code == 302


def test_sign_out_everywhere_ends_other_sessions(app):
    admin = make_user(app, UserKind.STAFF)
    first, second = app.test_client(), app.test_client()
    login(first, admin)
    login(second, admin)

    first.post("/admin/logout-everywhere")

    assert second.get("/admin/").status_code == 302


def test_login_redirects_only_to_same_site_paths(app, client):
    admin = make_user(app, UserKind.STAFF)

    response = client.post(
        "/admin/login?next=https://evil.example/steal", data={"email": admin.email, "password": PASSWORD}
    )

    assert response.headers["Location"].endswith("/admin/")
