"""Password reset by mailed link: one use, time-limited, and silent about which accounts exist."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from marketplace.app import create_app
from marketplace.core.jobs import OutboxMessage
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.notifications.models import SentMessage
from tests.factories import PASSWORD, login, make_user
from tests.jobs_helpers import run_jobs
from tests.page_helpers import english_client, flashes

NEW_PASSWORD = "a-brand-new-passphrase"
LINK = re.compile(r"https?://\S+/reset-password\?token=\S+")


@pytest.fixture
def client(app):
    """A browser that asks for English pages, so the tests can quote the messages."""
    return english_client(app)


def _mailbox(app) -> list[SentMessage]:
    with app.app_context():
        return list(db.session.scalars(select(SentMessage).order_by(SentMessage.id)))


def _reset_link(message: SentMessage) -> str:
    match = LINK.search(message.body)
    assert match is not None, message.body
    return match.group(0)


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _password_hash(app, user: User) -> str:
    with app.app_context():
        return db.session.get(User, user.id).password_hash


def _request_link(app, client, user: User, path: str = "/admin/forgot-password") -> str:
    response = client.post(path, data={"email": user.email})
    assert response.status_code == 302
    client.get(response.headers["Location"])  # the login page shows (and consumes) the notice
    run_jobs(app)
    [message] = _mailbox(app)
    return _reset_link(message)


def _choose_password(client, link: str, password: str = NEW_PASSWORD):
    parts = urlsplit(link)
    return client.post(parts.path, data={"token": _token(link), "password": password, "confirm": password})


def _issued_ago(app, token: str, seconds: int) -> str:
    """The same link's token, signed as if it had been issued ``seconds`` ago."""

    class IssuedEarlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    secret = app.config["SECRET_KEY"]
    payload = URLSafeTimedSerializer(secret, salt="password-reset").loads(token)
    return URLSafeTimedSerializer(secret, salt="password-reset", signer=IssuedEarlier).dumps(payload)


def test_forgot_password_mails_a_reset_link_for_the_admin_portal(app, client):
    admin = make_user(app, UserKind.STAFF, email="ops@example.test")

    response = client.post("/admin/forgot-password", data={"email": "OPS@example.test"})
    run_jobs(app)

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    [message] = _mailbox(app)
    assert (message.channel, message.recipient) == ("email", admin.email)
    assert message.subject == "Reset your password / 重置密码"
    assert urlsplit(_reset_link(message)).path == "/admin/reset-password"
    assert "within 60 minutes" in message.body


def test_storefront_forgot_password_mails_a_storefront_link(app, client):
    shopper = make_user(app, UserKind.SHOPPER)

    response = client.post("/forgot-password", data={"email": shopper.email})
    run_jobs(app)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    [message] = _mailbox(app)
    assert message.recipient == shopper.email
    assert urlsplit(_reset_link(message)).path == "/reset-password"


def test_following_the_link_sets_the_new_password_and_retires_the_old_one(app, client):
    admin = make_user(app, UserKind.STAFF)
    link = _request_link(app, client, admin)

    form = client.get(_path(link))
    response = _choose_password(client, link)

    assert form.status_code == 200
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert flashes(client.get("/admin/login").text) == [
        ("success", "Your password is changed. Sign in with the new one.")
    ]
    assert login(english_client(app), admin, password=PASSWORD).status_code == 401
    assert login(english_client(app), admin, password=NEW_PASSWORD).status_code == 302


def test_reset_signs_out_sessions_opened_with_the_old_password(app, client):
    shopper = make_user(app, UserKind.SHOPPER)
    signed_in = english_client(app)
    login(signed_in, shopper)
    assert signed_in.get("/account").status_code == 200

    _choose_password(client, _request_link(app, client, shopper, "/forgot-password"))

    assert signed_in.get("/account").status_code == 302


def test_a_link_works_only_once(app, client):
    admin = make_user(app, UserKind.STAFF)
    link = _request_link(app, client, admin)
    assert _choose_password(client, link).status_code == 302
    hash_after_first_use = _password_hash(app, admin)

    response = _choose_password(english_client(app), link, password="someone-elses-choice")

    assert response.status_code == 400
    assert flashes(response.text) == [("error", "This link is invalid or has expired. Ask for a new one.")]
    assert _password_hash(app, admin) == hash_after_first_use
    assert login(english_client(app), admin, password=NEW_PASSWORD).status_code == 302


def test_an_expired_link_is_refused_and_the_password_stays(app, client):
    admin = make_user(app, UserKind.STAFF)
    link = _request_link(app, client, admin)
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    stale = _issued_ago(app, _token(link), seconds=max_age + 60)
    old_hash = _password_hash(app, admin)

    response = client.post(
        "/admin/reset-password",
        data={"token": stale, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert response.status_code == 400
    assert flashes(response.text) == [("error", "This link is invalid or has expired. Ask for a new one.")]
    assert _password_hash(app, admin) == old_hash
    assert login(english_client(app), admin, password=PASSWORD).status_code == 302


def test_a_link_for_one_portal_does_not_open_another(app, client):
    """A shopper's token, replayed on the admin portal's reset page, changes nothing."""
    shopper = make_user(app, UserKind.SHOPPER)
    link = _request_link(app, client, shopper, "/forgot-password")
    old_hash = _password_hash(app, shopper)

    response = client.post(
        "/admin/reset-password",
        data={"token": _token(link), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert response.status_code == 400
    assert _password_hash(app, shopper) == old_hash


def test_unknown_email_gets_the_same_answer_and_nothing_is_sent(app, client):
    make_user(app, UserKind.STAFF, email="known@example.test")

    unknown = client.post("/admin/forgot-password", data={"email": "nobody@example.test"})
    unknown_flashes = flashes(client.get(unknown.headers["Location"]).text)
    run_jobs(app)

    assert _mailbox(app) == []
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []
    known = client.post("/admin/forgot-password", data={"email": "known@example.test"})
    known_flashes = flashes(client.get(known.headers["Location"]).text)
    assert (unknown.status_code, unknown.headers["Location"]) == (302, "/admin/login")
    assert (known.status_code, known.headers["Location"]) == (302, "/admin/login")
    assert (
        unknown_flashes
        == known_flashes
        == [("info", "If an account exists for that email, a reset link is on its way.")]
    )


def test_an_account_of_another_portal_gets_no_link(app, client):
    """The admin portal's form only knows staff: a shopper's email there sends nothing."""
    shopper = make_user(app, UserKind.SHOPPER)

    response = client.post("/admin/forgot-password", data={"email": shopper.email})
    run_jobs(app)

    assert response.status_code == 302
    assert _mailbox(app) == []


def test_the_link_points_at_the_public_address_whatever_host_the_request_claims(app, database_url):
    """A forged Host header must not put the sender's domain into the mailed link (reset poisoning)."""
    site = create_app(
        {
            "APP_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": None,
            "WTF_CSRF_ENABLED": False,
            "PUBLIC_BASE_URL": "https://market.example.com/",
        }
    )
    admin = make_user(app, UserKind.STAFF)

    response = site.test_client().post(
        "/admin/forgot-password",
        data={"email": admin.email},
        base_url="http://attacker.example",
        headers={"X-Forwarded-Host": "attacker.example"},
    )

    assert response.status_code == 302
    [message] = _mailbox(app)
    assert _reset_link(message).startswith("https://market.example.com/admin/reset-password?token=")
    assert "attacker.example" not in message.body
