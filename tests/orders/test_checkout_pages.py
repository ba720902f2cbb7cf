"""The cart and checkout as a shopper uses them: guest cart kept at login, htmx edits, pay on the gateway page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from marketplace.checkout.models import CartLine, Checkout
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus
from tests.factories import login, make_merchant
from tests.orders.order_helpers import shopper_with_address, stocked_sku
from tests.page_helpers import english_client
from tests.payments.helpers import assert_books_balance, gift_card

HX = {"HX-Request": "true"}


def _cart_line_ids(app, user_id):
    with app.app_context():
        return db.session.scalars(select(CartLine.id).where(CartLine.user_id == user_id)).all()


def test_guest_cart_joins_the_members_cart_at_login(app):
    sku = stocked_sku(app, make_merchant(app), price=1500, stock=5, title="White tea")
    shopper, _address = shopper_with_address(app)
    browser = english_client(app)
    assert browser.post("/cart/add", data={"sku_id": sku, "quantity": "2"}).status_code == 302
    assert "White tea" in browser.get("/cart").get_data(as_text=True)

    login(browser, shopper)

    with app.app_context():
        line = db.session.scalar(select(CartLine).where(CartLine.user_id == shopper.id))
        assert line is not None and line.quantity == 2 and line.cart_token is None
    assert "White tea" in browser.get("/cart").get_data(as_text=True)


def test_quantity_change_and_removal_with_htmx_rerender_the_cart(app):
    sku = stocked_sku(app, make_merchant(app), price=1000, stock=5, title="Green tea")
    shopper, _address = shopper_with_address(app)
    browser = english_client(app)
    login(browser, shopper)
    browser.post("/cart/add", data={"sku_id": sku, "quantity": "1"})
    (line_id,) = _cart_line_ids(app, shopper.id)

    page = browser.post(f"/cart/lines/{line_id}", data={"quantity": "3"}, headers=HX).get_data(as_text=True)
    assert page.startswith('<div id="cart"') or 'id="cart"' in page[:200]
    assert "¥30.00" in page

    refused = browser.post(f"/cart/lines/{line_id}", data={"quantity": "0"}, headers=HX).get_data(
        as_text=True
    )
    assert "Quantity must be between 1 and 999" in refused
    with app.app_context():
        assert db.session.get(CartLine, line_id).quantity == 3  # nothing changed

    asking_too_much = browser.post(f"/cart/lines/{line_id}", data={"quantity": "9"}, headers=HX)
    assert "Not enough stock" in asking_too_much.get_data(as_text=True)  # flagged, kept, not dropped

    browser.post(f"/cart/lines/{line_id}/remove", headers=HX)
    assert _cart_line_ids(app, shopper.id) == []


def test_checkout_with_gift_card_and_gateway_pays_two_shops(app):
    tea = stocked_sku(app, make_merchant(app, "Tea House"), price=8000, stock=5, title="Pu'er cake")
    cups = stocked_sku(app, make_merchant(app, "Cup Works"), price=4000, stock=5, title="Celadon cup")
    gift_card(app, "GC-TEST-0001", 5000, pin="246810")
    shopper, address_id = shopper_with_address(app)
    browser = english_client(app)
    login(browser, shopper)
    browser.post("/cart/add", data={"sku_id": tea, "quantity": "1"})
    browser.post("/cart/add", data={"sku_id": cups, "quantity": "1"})

    page = browser.get("/checkout").get_data(as_text=True)
    assert "Tea House" in page and "Cup Works" in page
    total = int(re.search(r'name="expected_total" value="(\d+)"', page).group(1))
    key = re.search(r'name="idempotency_key" value="(\w+)"', page).group(1)
    form = {
        "address_id": str(address_id),
        "idempotency_key": key,
        "expected_total": str(total),
        "invoice_type": "none",
        "gift_card_code": "GC-TEST-0001",
        "gift_card_pin": "246810",
    }
    first = browser.post("/checkout", data=form)
    again = browser.post("/checkout", data=form)  # a double click
    assert first.status_code == again.status_code == 302
    assert "/gateway/simulated/" in first.location
    assert first.location.split(".")[1] == again.location.split(".")[1]  # the same payment, freshly signed
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checkout)) == 1
        payment = db.session.scalar(select(Payment))
        assert payment.amount == total
        assert [t.kind.value for t in payment.tenders] == ["gift_card", "gateway"]
        assert payment.tenders[0].amount == 5000 and payment.tenders[1].amount == total - 5000

    hosted = browser.get(first.location)
    assert hosted.status_code == 200
    back = browser.post(first.location, data={"action": "pay"})
    assert back.status_code == 302 and "/checkout/done/" in back.location
    done = browser.get(back.location).get_data(as_text=True)
    assert "your payment is complete" in done
    with app.app_context():
        assert db.session.scalar(select(Payment)).status is PaymentStatus.PAID
        statuses = db.session.scalars(select(Order.status)).all()
        assert statuses == [OrderStatus.AWAITING_SHIPMENT] * 2
        assert_books_balance(db.session)


def test_checkout_refuses_a_bad_gift_card_pin_and_changes_nothing(app):
    sku = stocked_sku(app, make_merchant(app), price=3000, stock=5)
    gift_card(app, "GC-TEST-0002", 5000, pin="111111")
    shopper, address_id = shopper_with_address(app)
    browser = english_client(app)
    login(browser, shopper)
    browser.post("/cart/add", data={"sku_id": sku, "quantity": "1"})
    page = browser.get("/checkout").get_data(as_text=True)
    total = re.search(r'name="expected_total" value="(\d+)"', page).group(1)
    response = browser.post(
        "/checkout",
        data={
            "address_id": str(address_id),
            "idempotency_key": "abc",
            "expected_total": total,
            "gift_card_code": "GC-TEST-0002",
            "gift_card_pin": "999999",
        },
    )
    assert response.status_code in (400, 401, 403, 409, 422)
    assert "PIN" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
        assert len(_cart_line_ids(app, shopper.id)) == 1


def test_the_summary_shows_each_tender_and_what_is_left_to_pay_online(app):
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.payments.wallet import grant_points, top_up_balance

    sku = stocked_sku(app, make_merchant(app), price=5000, stock=5)
    shopper, address_id = shopper_with_address(app)
    with app.app_context(), acting_as(SYSTEM):
        top_up_balance(db.session, user_id=shopper.id, amount=1000, reason="test", actor_id=None)
        grant_points(db.session, user_id=shopper.id, points=800, reason="test", actor_id=None)
        db.session.commit()
    browser = english_client(app)
    login(browser, shopper)
    browser.post("/cart/add", data={"sku_id": sku, "quantity": "1"})
    summary = browser.get(
        f"/checkout?address_id={address_id}&points=500&balance=20.00",
        headers={**HX, "HX-Target": "checkout-summary"},
    ).get_data(as_text=True)
    assert summary.lstrip().startswith("{#") or 'id="checkout-summary"' in summary[:300]
    total = int(re.search(r'name="expected_total" value="(\d+)"', summary).group(1))
    assert 'Points</th><td class="num">−¥5.00' in summary  # 500 points at 100 a yuan
    assert 'Balance</th><td class="num">−¥10.00' in summary  # capped by what the shopper has
    online = re.search(r"To pay online</th><td class=\"num\"><strong>¥([\d.,]+)", summary).group(1)
    assert int(round(float(online.replace(",", "")) * 100)) == total - 500 - 1000
