"""The audit log: every staff and merchant mutation says who, when, from where and what changed."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from marketplace.core.audit import AuditEntry
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.identity.services import role_by_code
from marketplace.merchants.models import Merchant, MerchantStatus
from tests.factories import PASSWORD, login, make_merchant, make_user
from tests.page_helpers import english_client

ADMIN_IP = "203.0.113.5"
ACTION_CELL = re.compile(r"<td><code>([^<]+)</code>")


def _entries(app, *, include_system: bool = False, **where) -> list[AuditEntry]:
    """Entries written by people; with ``include_system`` also the test set-up's (it acts as the system)."""
    with app.app_context():
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if not include_system:
            stmt = stmt.where(AuditEntry.actor_kind != "system")
        for name, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, name) == value)
        return list(db.session.scalars(stmt))


def _row(entry: AuditEntry) -> tuple:
    return (
        entry.actor_id,
        entry.actor_kind,
        entry.actor_label,
        entry.tenant_id,
        entry.ip,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.changes,
        entry.reason,
    )


def _listed_actions(page: str) -> list[str]:
    return ACTION_CELL.findall(page)


@pytest.fixture
def admin(app):
    return make_user(app, UserKind.STAFF, email="auditor@example.test")


@pytest.fixture
def admin_browser(app, admin):
    browser = english_client(app, remote_addr=ADMIN_IP)
    assert login(browser, admin).status_code == 302
    return browser


def test_renaming_a_user_is_logged_with_actor_address_and_old_and_new_value(app, admin, admin_browser):
    shopper = make_user(app, UserKind.SHOPPER)

    response = admin_browser.post(
        f"/admin/users/{shopper.id}", data={"name": "Wang Fang", "phone": "", "is_active": "y"}
    )

    assert response.status_code == 302
    assert [_row(e) for e in _entries(app)] == [
        (
            admin.id,
            "staff",
            "auditor@example.test",
            None,
            ADMIN_IP,
            "users.update",
            "users",
            str(shopper.id),
            {"name": ["shopper user", "Wang Fang"]},
            None,
        )
    ]


def test_suspending_a_merchant_is_logged_with_its_reason_under_the_shop(app, admin, admin_browser):
    shop = make_merchant(app, "Tea House")

    response = admin_browser.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "Fake goods"})

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Merchant, shop.id).status is MerchantStatus.SUSPENDED
    assert [_row(e) for e in _entries(app)] == [
        (
            admin.id,
            "staff",
            admin.email,
            shop.id,
            ADMIN_IP,
            "merchant.suspend",
            "merchants",
            str(shop.id),
            {},
            "Fake goods",
        ),
        (
            admin.id,
            "staff",
            admin.email,
            shop.id,
            ADMIN_IP,
            "merchants.update",
            "merchants",
            str(shop.id),
            {"status": ["active", "suspended"]},
            None,
        ),
    ]


def test_a_refused_suspension_changes_nothing_and_logs_nothing(app, admin, admin_browser):
    shop = make_merchant(app, "Tea House")

    response = admin_browser.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "  "})

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Merchant, shop.id).status is MerchantStatus.ACTIVE
    assert _entries(app) == []


def test_password_hashes_never_reach_the_log(app, admin, admin_browser):
    with app.app_context():
        finance_id = role_by_code(db.session, UserKind.STAFF, "finance").id

    admin_browser.post(
        "/admin/staff/new",
        data={
            "email": "new@example.test",
            "name": "New",
            "password": "initial-password-1",
            "roles": [finance_id],
        },
    )
    admin_browser.post(
        "/admin/account",
        data={"current": PASSWORD, "password": "changed-password-2", "confirm": "changed-password-2"},
    )

    with app.app_context():
        hashes = list(db.session.scalars(select(User.password_hash)))
    entries = _entries(app)
    assert [(e.action, e.changes.get("password_hash")) for e in entries] == [
        ("users.create", "(changed)"),
        ("users.update", "(changed)"),
    ]
    assert entries[1].changes == {"password_hash": "(changed)", "session_version": [1, 2]}
    page = admin_browser.get("/admin/audit").text
    logged = json.dumps([e.changes for e in _entries(app)]) + page
    assert [h for h in hashes if h in logged] == []
    assert "$argon2" not in logged


def test_a_created_row_is_logged_with_its_id(app, admin, admin_browser):
    admin_browser.post(
        "/admin/staff/new",
        data={"email": "new@example.test", "name": "New", "password": "initial-password-1"},
    )

    with app.app_context():
        created = db.session.scalar(select(User.id).where(User.email == "new@example.test"))
    [entry] = _entries(app, action="users.create")
    assert entry.object_id == str(created)


def test_admin_audit_page_lists_and_filters_by_action(app, admin, admin_browser):
    shopper = make_user(app, UserKind.SHOPPER)
    shop = make_merchant(app)
    admin_browser.post(f"/admin/users/{shopper.id}", data={"name": "Wang Fang", "is_active": "y"})
    admin_browser.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "Fake goods"})

    everything = admin_browser.get("/admin/audit")
    suspensions = admin_browser.get("/admin/audit?action=merchant.suspend")

    assert everything.status_code == 200
    assert _listed_actions(everything.text)[:3] == ["merchants.update", "merchant.suspend", "users.update"]
    assert suspensions.status_code == 200
    assert _listed_actions(suspensions.text) == ["merchant.suspend"]
    assert "Fake goods" in suspensions.text


def test_admin_audit_page_filters_by_actor(app, admin, admin_browser):
    colleague = make_user(app, UserKind.STAFF, email="colleague@example.test")
    colleague_browser = english_client(app, remote_addr="198.51.100.7")
    login(colleague_browser, colleague)
    shopper = make_user(app, UserKind.SHOPPER)
    shop = make_merchant(app)
    admin_browser.post(f"/admin/users/{shopper.id}", data={"name": "Wang Fang", "is_active": "y"})
    colleague_browser.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "Fake goods"})

    by_colleague = admin_browser.get("/admin/audit?actor=colleague@example.test")
    by_admin = admin_browser.get("/admin/audit?actor=auditor@example.test")

    assert _listed_actions(by_colleague.text) == ["merchants.update", "merchant.suspend"]
    assert "198.51.100.7" in by_colleague.text
    assert _listed_actions(by_admin.text) == ["users.update"]


def test_merchant_audit_page_shows_only_its_own_shop(app):
    tea, coffee = make_merchant(app, "Tea House"), make_merchant(app, "Coffee Corner")
    tea_owner = make_user(app, UserKind.MERCHANT, tenant=tea, is_owner=True)
    coffee_owner = make_user(app, UserKind.MERCHANT, tenant=coffee, is_owner=True)
    tea_browser, coffee_browser = english_client(app), english_client(app)
    login(tea_browser, tea_owner)
    login(coffee_browser, coffee_owner)
    tea_browser.post("/merchant/api-keys", data={"name": "Tea ERP", "scopes": ["shop.view"]})
    coffee_browser.post("/merchant/api-keys", data={"name": "Coffee ERP", "scopes": ["shop.view"]})

    page = tea_browser.get("/merchant/audit")
    peek = tea_browser.get(f"/merchant/audit?tenant={coffee.id}")

    assert [(e.tenant_id, e.actor_id, e.action) for e in _entries(app)] == [
        (tea.id, tea_owner.id, "api_keys.create"),
        (coffee.id, coffee_owner.id, "api_keys.create"),
    ]
    tea_log = [e.action for e in reversed(_entries(app, include_system=True, tenant_id=tea.id))]
    assert page.status_code == 200
    assert _listed_actions(page.text) == tea_log
    assert "Tea ERP" in page.text
    assert ("Coffee ERP" in page.text, coffee_owner.email in page.text) == (False, False)
    assert _listed_actions(peek.text) == tea_log
    assert "Coffee ERP" not in peek.text
