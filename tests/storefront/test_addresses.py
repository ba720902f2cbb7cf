"""The shopper's address book: add, edit, one default, delete, and nobody else's addresses."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.crm.models import Address
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from tests.factories import login, make_user

HOME = {
    "recipient": "张伟",
    "phone": "13800138000",
    "province": "310000",
    "city": "上海市",
    "district": "徐汇区",
    "detail": "漕溪北路 88 号 1201 室",
    "postal_code": "200030",
}


def _addresses(app, user_id: int) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(Address).where(Address.user_id == user_id).order_by(Address.id))
        return [(a.recipient, a.city, a.is_default) for a in rows]


def _shopper(app, client):
    shopper = make_user(app, UserKind.SHOPPER)
    login(client, shopper)
    return shopper


def test_the_first_address_becomes_the_default_and_a_new_default_replaces_it(app, client):
    shopper = _shopper(app, client)

    client.post("/account/addresses", data=HOME)
    client.post(
        "/account/addresses",
        data={**HOME, "recipient": "李娜", "city": "杭州市", "province": "浙江", "is_default": "1"},
    )
    page = client.get("/account/addresses")

    assert _addresses(app, shopper.id) == [("张伟", "上海市", False), ("李娜", "杭州市", True)]
    assert page.text.index("李娜") < page.text.index("张伟")  # the default is listed first


def test_bad_input_names_each_field_keeps_what_was_typed_and_saves_nothing(app, client):
    shopper = _shopper(app, client)

    response = client.post(
        "/account/addresses",
        data={**HOME, "phone": "12345", "province": "", "postal_code": "2000", "detail": ""},
    )

    assert response.status_code == 422
    assert response.text.count('class="field-error"') == 4
    assert 'value="漕溪北路' not in response.text and 'value="张伟"' in response.text
    assert _addresses(app, shopper.id) == []


def test_editing_and_deleting_the_default_moves_the_default(app, client):
    shopper = _shopper(app, client)
    client.post("/account/addresses", data=HOME)
    client.post("/account/addresses", data={**HOME, "recipient": "李娜"})
    with app.app_context():
        first, second = db.session.scalars(select(Address.id).order_by(Address.id)).all()

    client.post(f"/account/addresses/{first}", data={**HOME, "city": "苏州市", "province": "320000"})
    assert _addresses(app, shopper.id) == [("张伟", "苏州市", True), ("李娜", "上海市", False)]
    client.post(f"/account/addresses/{first}/delete")

    assert _addresses(app, shopper.id) == [("李娜", "上海市", True)]


def test_another_shoppers_address_is_a_404_and_unchanged(app, client):
    owner = make_user(app, UserKind.SHOPPER)
    other = app.test_client()
    login(other, owner)
    other.post("/account/addresses", data=HOME)
    with app.app_context():
        address_id = db.session.scalar(select(Address.id))
    _shopper(app, client)

    assert client.get(f"/account/addresses/{address_id}").status_code == 404
    assert client.post(f"/account/addresses/{address_id}", data={**HOME, "city": "北京市"}).status_code == 404
    assert client.post(f"/account/addresses/{address_id}/delete").status_code == 404
    assert _addresses(app, owner.id) == [("张伟", "上海市", True)]


def test_the_address_book_needs_a_signed_in_shopper(client):
    response = client.get("/account/addresses")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
