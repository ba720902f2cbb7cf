"""Staff accounts and roles: what a role opens, what it doesn't, and the roles that cannot go away."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import Role, User, UserKind
from marketplace.identity.services import role_by_code, save_role
from tests.factories import login, make_user
from tests.page_helpers import english_client, field_errors, flashes

FINANCE_PASSWORD = "ledger-and-ledger-again"


@pytest.fixture
def client(app):
    """A browser that asks for English pages, so the tests can quote the messages."""
    return english_client(app)


@pytest.fixture
def super_admin(app, client):
    admin = make_user(app, UserKind.STAFF, email="root@example.test")
    assert login(client, admin).status_code == 302
    return admin


def _role_id(app, kind: UserKind, code: str) -> int:
    with app.app_context():
        return role_by_code(db.session, kind, code).id


def _custom_role(app, name: str, permissions: list[str]) -> Role:
    with app.app_context(), acting_as(SYSTEM):
        role = save_role(db.session, kind=UserKind.STAFF, name=name, permissions=permissions)
        db.session.commit()
        return role


def _role_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Role.name).order_by(Role.id)))


def _user(app, user_id: int) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def _create_finance_account(app, client) -> User:
    response = client.post(
        "/admin/staff/new",
        data={
            "email": "Cashier@Example.test",
            "name": "Cai Wu",
            "password": FINANCE_PASSWORD,
            "roles": [_role_id(app, UserKind.STAFF, "finance")],
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "cashier@example.test"))
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    return user


def test_super_admin_creates_a_finance_staff_account(app, client, super_admin):
    user = _create_finance_account(app, client)

    assert (user.kind, user.name, user.tenant_id, user.is_owner, user.is_active) == (
        UserKind.STAFF,
        "Cai Wu",
        None,
        False,
        True,
    )
    assert [role.code for role in user.roles] == ["finance"]
    assert flashes(client.get(f"/admin/users/{user.id}").text) == [
        ("success", "Account cashier@example.test created.")
    ]


def test_finance_staff_opens_the_pages_of_their_role_and_no_others(app, client, super_admin):
    user = _create_finance_account(app, client)
    finance = english_client(app)
    assert login(finance, user, password=FINANCE_PASSWORD).status_code == 302
    allowed = ("/admin/", "/admin/merchants", "/admin/account")
    denied = ("/admin/roles", "/admin/staff", "/admin/staff/new", "/admin/audit", "/admin/queues")

    statuses = {path: finance.get(path).status_code for path in allowed + denied}

    assert statuses == {**dict.fromkeys(allowed, 200), **dict.fromkeys(denied, 403)}


def test_a_denied_post_creates_nothing(app, client, super_admin):
    user = _create_finance_account(app, client)
    finance = english_client(app)
    login(finance, user, password=FINANCE_PASSWORD)
    roles_before = _role_names(app)

    role_post = finance.post("/admin/roles/new", data={"kind": "staff", "name": "Mine", "permissions": ["*"]})
    staff_post = finance.post(
        "/admin/staff/new", data={"email": "x@example.test", "name": "X", "password": FINANCE_PASSWORD}
    )

    assert (role_post.status_code, staff_post.status_code) == (403, 403)
    assert _role_names(app) == roles_before
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 2


def test_menu_shows_only_the_sections_the_role_allows(app, client, super_admin):
    user = _create_finance_account(app, client)
    finance = english_client(app)
    login(finance, user, password=FINANCE_PASSWORD)

    page = finance.get("/admin/").text

    assert 'href="/admin/merchants"' in page
    assert 'href="/admin/roles"' not in page
    assert 'href="/admin/staff"' not in page


def test_a_custom_role_with_an_unknown_permission_is_refused(app, client, super_admin):
    roles_before = _role_names(app)

    response = client.post(
        "/admin/roles/new",
        data={"kind": "staff", "name": "Teleporters", "permissions": ["dashboard.view", "orders.teleport"]},
    )

    assert response.status_code == 422
    assert field_errors(response.text) == ["'orders.teleport' is not a valid choice for this field."]
    assert _role_names(app) == roles_before


def test_a_permission_of_another_kind_is_refused_for_a_merchant_role(app, client, super_admin):
    roles_before = _role_names(app)

    response = client.post(
        "/admin/roles/new", data={"kind": "merchant", "name": "Sneaky", "permissions": ["staff.manage"]}
    )

    assert response.status_code == 422
    assert field_errors(response.text) == ["'staff.manage' is not a valid choice for this field."]
    assert _role_names(app) == roles_before


def test_a_custom_role_with_known_permissions_is_created(app, client, super_admin):
    response = client.post(
        "/admin/roles/new",
        data={"kind": "staff", "name": "Auditors", "permissions": ["audit.view", "dashboard.view"]},
    )

    assert response.status_code == 302
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "Auditors"))
        assert (role.kind, role.permissions, role.is_system) == (
            UserKind.STAFF,
            ["audit.view", "dashboard.view"],
            False,
        )


def test_a_system_role_cannot_be_deleted(app, client, super_admin):
    finance_id = _role_id(app, UserKind.STAFF, "finance")
    roles_before = _role_names(app)

    response = client.post(f"/admin/roles/{finance_id}/delete")

    assert response.status_code == 302
    assert flashes(client.get("/admin/roles").text) == [("error", "System roles cannot be deleted.")]
    assert _role_names(app) == roles_before


def test_a_role_in_use_cannot_be_deleted(app, client, super_admin):
    role = _custom_role(app, "Auditors", ["audit.view"])
    auditor = make_user(app, UserKind.STAFF, role=role.code)
    roles_before = _role_names(app)

    response = client.post(f"/admin/roles/{role.id}/delete")

    assert response.status_code == 302
    assert flashes(client.get("/admin/roles").text) == [("error", "The role is still assigned to 1 user(s).")]
    assert _role_names(app) == roles_before
    assert [r.id for r in _user(app, auditor.id).roles] == [role.id]


def test_an_unused_custom_role_can_be_deleted(app, client, super_admin):
    role = _custom_role(app, "Auditors", ["audit.view"])

    response = client.post(f"/admin/roles/{role.id}/delete")

    assert response.status_code == 302
    assert flashes(client.get("/admin/roles").text) == [("success", "Role deleted.")]
    assert "Auditors" not in _role_names(app)


def test_an_admin_cannot_deactivate_themself(app, client, super_admin):
    own_roles = [role.id for role in super_admin.roles]

    response = client.post(
        f"/admin/users/{super_admin.id}", data={"name": "Root", "phone": "", "roles": own_roles}
    )

    assert response.status_code == 422
    assert flashes(response.text) == [
        ("error", "You cannot deactivate yourself or remove your own administration rights.")
    ]
    after = _user(app, super_admin.id)
    assert (after.is_active, after.name, after.session_version) == (True, super_admin.name, 1)
    assert client.get("/admin/").status_code == 200


def test_an_admin_cannot_drop_their_own_admin_role(app, client, super_admin):
    finance_id = _role_id(app, UserKind.STAFF, "finance")

    response = client.post(
        f"/admin/users/{super_admin.id}",
        data={"name": super_admin.name, "roles": [finance_id], "is_active": "y"},
    )

    assert response.status_code == 422
    assert [role.code for role in _user(app, super_admin.id).roles] == ["super_admin"]


def test_an_admin_deactivates_another_staff_account_and_its_sessions_end(app, client, super_admin):
    colleague = make_user(app, UserKind.STAFF, role="finance")
    colleague_browser = english_client(app)
    login(colleague_browser, colleague)
    finance_id = _role_id(app, UserKind.STAFF, "finance")

    response = client.post(
        f"/admin/users/{colleague.id}", data={"name": colleague.name, "roles": [finance_id]}
    )

    assert response.status_code == 302
    after = _user(app, colleague.id)
    assert (after.is_active, after.session_version) == (False, 2)
    assert colleague_browser.get("/admin/").status_code == 302
    assert login(english_client(app), colleague).status_code == 401


def test_an_admin_cannot_strip_their_own_role_of_its_administration_rights(app, client, super_admin):
    """Editing the role they hold is the other way to demote oneself; it is refused the same way."""
    role_id = _role_id(app, UserKind.STAFF, "super_admin")
    with app.app_context():
        before = db.session.get(Role, role_id).permissions
    kept = [p for p in before if p not in {"roles.manage", "staff.manage"}]

    response = client.post(
        f"/admin/roles/{role_id}", data={"kind": "staff", "name": "Super admin", "permissions": kept}
    )

    assert response.status_code == 422
    assert field_errors(response.text) == [
        "You cannot deactivate yourself or remove your own administration rights."
    ]
    with app.app_context():
        assert db.session.get(Role, role_id).permissions == before
    assert client.get("/admin/roles").status_code == 200


def test_an_admin_edits_the_permissions_of_a_role_they_do_not_hold(app, client, super_admin):
    role_id = _role_id(app, UserKind.STAFF, "finance")

    response = client.post(
        f"/admin/roles/{role_id}",
        data={"kind": "staff", "name": "Finance", "permissions": ["dashboard.view", "audit.view"]},
    )

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Role, role_id).permissions == ["audit.view", "dashboard.view"]
