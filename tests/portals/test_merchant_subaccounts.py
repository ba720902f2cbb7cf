"""A shop's sub-accounts: created by the owner, confined to the shop, and unable to touch the owner."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.identity.services import role_by_code, save_role
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client, flashes

SUB_PASSWORD = "packing-tape-forever"


@pytest.fixture
def client(app):
    """A browser that asks for English pages, so the tests can quote the messages."""
    return english_client(app)


@pytest.fixture
def shop(app):
    return make_merchant(app, "Tea House")


@pytest.fixture
def owner(app, client, shop):
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True, email="owner@tea.test")
    assert login(client, owner).status_code == 302
    return owner


def _operator_role_id(app) -> int:
    with app.app_context():
        return role_by_code(db.session, UserKind.MERCHANT, "operator").id


def _manager_role_code(app) -> str:
    """A custom merchant role that may manage sub-accounts, as a shop's trusted manager would hold."""
    with app.app_context(), acting_as(SYSTEM):
        role = save_role(
            db.session,
            kind=UserKind.MERCHANT,
            name="Manager",
            permissions=["dashboard.view", "subaccounts.manage"],
        )
        db.session.commit()
        return role.code


def _user(app, user_id: int) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def _snapshot(user: User) -> tuple:
    return (user.name, user.phone, user.is_active, user.session_version, [r.code for r in user.roles])


def test_owner_creates_an_operator_sub_account(app, client, shop, owner):
    response = client.post(
        "/merchant/staff/new",
        data={
            "email": "Packer@Tea.test",
            "name": "Xiao Li",
            "password": SUB_PASSWORD,
            "roles": [_operator_role_id(app)],
        },
    )

    assert response.status_code == 302
    with app.app_context():
        sub = db.session.scalar(select(User).where(User.email == "packer@tea.test"))
    assert response.headers["Location"] == f"/merchant/staff/{sub.id}"
    assert (sub.kind, sub.tenant_id, sub.is_owner, sub.name) == (UserKind.MERCHANT, shop.id, False, "Xiao Li")
    assert [role.code for role in sub.roles] == ["operator"]


def test_the_sub_account_signs_in_to_its_shop(app, client, shop, owner):
    client.post(
        "/merchant/staff/new",
        data={
            "email": "packer@tea.test",
            "name": "Xiao Li",
            "password": SUB_PASSWORD,
            "roles": [_operator_role_id(app)],
        },
    )
    with app.app_context():
        sub = db.session.scalar(select(User).where(User.email == "packer@tea.test"))
    browser = english_client(app)

    response = login(browser, sub, password=SUB_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/merchant/"
    page = browser.get("/merchant/")
    assert page.status_code == 200
    assert "Tea House" in page.text


def test_another_shops_account_is_not_found_and_cannot_be_changed(app, client, owner):
    other_shop = make_merchant(app, "Coffee Corner")
    other_owner = make_user(app, UserKind.MERCHANT, tenant=other_shop, is_owner=True)
    other_clerk = make_user(app, UserKind.MERCHANT, tenant=other_shop, role="operator")
    before = {u.id: _snapshot(_user(app, u.id)) for u in (other_owner, other_clerk)}

    pages = [client.get(f"/merchant/staff/{u.id}").status_code for u in (other_owner, other_clerk)]
    posts = [
        client.post(f"/merchant/staff/{u.id}", data={"name": "Hijacked", "phone": "110"}).status_code
        for u in (other_owner, other_clerk)
    ]

    assert pages == [404, 404]
    assert posts == [404, 404]
    assert {u.id: _snapshot(_user(app, u.id)) for u in (other_owner, other_clerk)} == before
    assert client.get("/merchant/staff/999999").status_code == 404


def test_another_shops_accounts_are_not_listed(app, client, owner):
    other_shop = make_merchant(app, "Coffee Corner")
    make_user(app, UserKind.MERCHANT, tenant=other_shop, email="barista@coffee.test", role="operator")

    page = client.get("/merchant/staff")

    assert page.status_code == 200
    assert "owner@tea.test" in page.text
    assert "barista@coffee.test" not in page.text


def test_a_sub_account_without_subaccounts_manage_gets_403(app, shop, owner):
    clerk = make_user(app, UserKind.MERCHANT, tenant=shop, role="operator")
    browser = english_client(app)
    login(browser, clerk)

    listing = browser.get("/merchant/staff")
    new_page = browser.get("/merchant/staff/new")
    post = browser.post(
        "/merchant/staff/new",
        data={"email": "sneaky@tea.test", "name": "Sneaky", "password": SUB_PASSWORD, "roles": []},
    )
    edit_owner = browser.post(f"/merchant/staff/{owner.id}", data={"name": "Demoted"})

    assert [listing.status_code, new_page.status_code, post.status_code, edit_owner.status_code] == [
        403,
        403,
        403,
        403,
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 2
    assert _user(app, owner.id).name == owner.name


def test_a_manager_sub_account_cannot_deactivate_the_owner(app, shop, owner):
    manager = make_user(app, UserKind.MERCHANT, tenant=shop, role=_manager_role_code(app))
    browser = english_client(app)
    login(browser, manager)
    before = _snapshot(_user(app, owner.id))

    response = browser.post(
        f"/merchant/staff/{owner.id}",
        data={"name": owner.name, "roles": [r.id for r in owner.roles]},  # is_active unticked
    )

    assert response.status_code == 422
    assert flashes(response.text) == [("error", "The shop owner's account can only be changed by the owner.")]
    assert _snapshot(_user(app, owner.id)) == before
    assert login(english_client(app), owner).status_code == 302


def test_a_manager_sub_account_manages_other_sub_accounts(app, shop, owner):
    manager = make_user(app, UserKind.MERCHANT, tenant=shop, role=_manager_role_code(app))
    clerk = make_user(app, UserKind.MERCHANT, tenant=shop, role="operator")
    browser = english_client(app)
    login(browser, manager)

    response = browser.post(
        f"/merchant/staff/{clerk.id}",
        data={"name": "Renamed clerk", "roles": [_operator_role_id(app)]},  # is_active unticked
    )

    assert response.status_code == 302
    after = _user(app, clerk.id)
    assert (after.name, after.is_active) == ("Renamed clerk", False)


def test_a_sub_account_manager_cannot_create_an_owner(app, client):
    """Someone allowed to manage sub-accounts still cannot hand out permissions they lack."""
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.identity.models import Role, User, UserKind
    from marketplace.identity.services import save_role
    from tests.factories import login, make_merchant, make_user

    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        from marketplace.extensions import db

        manager_role = save_role(
            db.session,
            kind=UserKind.MERCHANT,
            name="Staff manager",
            permissions=["subaccounts.manage", "dashboard.view"],
        )
        db.session.commit()
    manager = make_user(app, UserKind.MERCHANT, tenant=shop, role=manager_role.code)
    with app.app_context():
        owner_role_id = db.session.query(Role.id).filter_by(kind=UserKind.MERCHANT, code="owner").scalar()
    login(client, manager)

    response = client.post(
        "/merchant/staff/new",
        data={
            "email": "sneaky@example.test",
            "name": "Sneaky",
            "password": "long-enough-pass",
            "roles": [owner_role_id],
        },
    )

    assert response.status_code == 422, response.headers.get("Location")
    with app.app_context():
        assert db.session.query(User).filter_by(email="sneaky@example.test").count() == 0
