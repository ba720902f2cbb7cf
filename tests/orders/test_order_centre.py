"""The shopper's order centre: my orders by status, one order's page, and what the shopper may do with it
(cancel while unpaid, change the address or note until shipment, confirm receipt, review once completed).
Anything not allowed from the current state is refused with the state named, and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.crm.services import AddressInput, save_address
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.inventory.models import StockLevel
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus
from marketplace.reviews.models import Review, ReviewStatus
from tests.factories import login, make_merchant, make_user
from tests.orders.order_helpers import pay, place, place_paid, shopper_with_address, stocked_sku
from tests.page_helpers import english_client, field_errors, flashes


def _signed_in(app, shopper):
    client = english_client(app)
    login(client, shopper)
    return client


def _order(app, number: str) -> Order:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        db.session.expunge(order)
        return order


def _events(app, number: str) -> list[tuple[str, str]]:
    with app.app_context():
        order_id = db.session.scalar(select(Order.id).where(Order.number == number))
        rows = db.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
        return [(e.action, e.reason) for e in rows]


def _available(app, sku_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(StockLevel.available).where(StockLevel.sku_id == sku_id))


def _ship(app, number: str) -> None:
    with app.app_context(), acting_as(SYSTEM):
        order = db.session.scalar(select(Order).where(Order.number == number))
        orders.ship_order(
            db.session,
            order,
            quantities=None,
            carrier="SF Express",
            waybill_no="SF1234567890",
            actor=orders.SYSTEM,
        )
        db.session.commit()


def _receive_and_complete(app, number: str) -> None:
    with app.app_context(), acting_as(SYSTEM):
        order = db.session.scalar(select(Order).where(Order.number == number))
        orders.confirm_receipt(db.session, order, actor=orders.SYSTEM)
        db.session.commit()
        orders.complete_received(db.session, older_than=timedelta(0))
        db.session.commit()


def _second_address(app, shopper) -> int:
    with app.app_context(), acting_as(SYSTEM):
        address = save_address(
            db.session,
            user_id=shopper.id,
            data=AddressInput(
                recipient="Han Meimei", phone="13900139000", province="110000", city="Beijing",
                district="Haidian", detail="2 New Street", postal_code="100080",
            ),
        )  # fmt: skip
        db.session.commit()
        return address.id


def test_the_list_shows_only_my_orders_newest_first_and_the_tabs_filter_by_status(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop, title="Green tea")
    me, my_address = shopper_with_address(app)
    other, other_address = shopper_with_address(app)
    unpaid = place(app, me, my_address, [(sku, 1)]).order_numbers[0]
    paid = place_paid(app, me, my_address, [(sku, 2)]).order_numbers[0]
    theirs = place(app, other, other_address, [(sku, 1)]).order_numbers[0]
    client = _signed_in(app, me)

    page = client.get("/account/orders").text
    unpaid_tab = client.get("/account/orders?tab=unpaid").text
    to_ship_tab = client.get(
        "/account/orders?tab=to_ship", headers={"HX-Request": "true", "HX-Target": "order-list"}
    )

    assert unpaid in page and paid in page and theirs not in page
    assert page.index(paid) < page.index(unpaid)  # newest first
    assert "Green tea" in page and "Awaiting payment" in page
    assert unpaid in unpaid_tab and paid not in unpaid_tab
    assert paid in to_ship_tab.text and unpaid not in to_ship_tab.text
    assert (
        "<html" not in to_ship_tab.text and 'id="order-list"' in to_ship_tab.text
    )  # htmx gets the list only


def test_load_more_fetches_the_next_page_of_the_tab(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop, stock=50)
    me, address = shopper_with_address(app)
    numbers = [place(app, me, address, [(sku, 1)]).order_numbers[0] for _ in range(12)]
    client = _signed_in(app, me)

    first = client.get("/account/orders").text
    assert all(n in first for n in numbers[2:]) and numbers[1] not in first and numbers[0] not in first
    more_url = first.split('class="order-more"')[1].split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    more = client.get(more_url, headers={"HX-Request": "true"}).text

    assert numbers[1] in more and numbers[0] in more and numbers[2] not in more
    assert "<html" not in more and "order-more" not in more  # the last page has no "more" button


def test_another_shoppers_order_is_a_404_and_stays_as_it_was(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop)
    owner, address = shopper_with_address(app)
    number = place(app, owner, address, [(sku, 1)]).order_numbers[0]
    stranger = make_user(app, UserKind.SHOPPER)
    client = _signed_in(app, stranger)

    assert client.get(f"/account/orders/{number}").status_code == 404
    assert (
        client.post(f"/account/orders/{number}/cancel", data={"reason_text": "mine now"}).status_code == 404
    )
    assert client.post(f"/account/orders/{number}/note", data={"note": "hello"}).status_code == 404
    assert client.get("/account/orders/00000000000000000000").status_code == 404
    assert _order(app, number).status is OrderStatus.PENDING_PAYMENT
    assert _order(app, number).note == ""


def test_the_order_page_shows_lines_amounts_address_and_history(app):
    shop = make_merchant(app, "Tea House")
    sku = stocked_sku(app, shop, price=1250, title="Oolong")
    me, address = shopper_with_address(app)
    number = place_paid(app, me, address, [(sku, 2)]).order_numbers[0]
    _ship(app, number)
    client = _signed_in(app, me)

    page = client.get(f"/account/orders/{number}").text

    assert "Tea House" in page and "Oolong" in page and "× 2" in page
    assert "¥25.00" in page  # goods = total here (no delivery fee set up)
    assert "Li Lei" in page and "13800138000" in page and "1 Test Road" in page
    assert "SF Express" in page and "SF1234567890" in page  # the shipment and its waybill
    assert "Order placed" in page and "Paid" in page and "Shipped" in page
    assert "Confirm receipt" in page and "Cancel the order" not in page and "Change the address" not in page


def test_cancelling_an_unpaid_order_releases_stock_cancels_its_payment_and_keeps_the_reason(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop, stock=10)
    me, address = shopper_with_address(app)
    placed = place(app, me, address, [(sku, 3)])
    number = placed.order_numbers[0]
    client = _signed_in(app, me)
    assert _available(app, sku) == 7

    page = client.get(f"/account/orders/{number}").text
    assert "Pay now" in page and "Cancel the order" in page
    response = client.post(
        f"/account/orders/{number}/cancel",
        data={"reason": "Ordered by mistake", "reason_text": "wrong colour"},
        follow_redirects=True,
    )

    assert ("success", "The order is cancelled.") in flashes(response.text)
    assert _order(app, number).status is OrderStatus.CANCELLED
    assert _available(app, sku) == 10
    assert ("cancel", "Ordered by mistake: wrong colour") in _events(app, number)
    assert "wrong colour" in response.text  # the history shows the reason
    with app.app_context():
        assert db.session.get(Payment, placed.payment_id).status is PaymentStatus.CANCELLED


def test_orders_paid_together_are_named_and_cancelled_together(app):
    sku_a = stocked_sku(app, make_merchant(app))
    sku_b = stocked_sku(app, make_merchant(app))
    me, address = shopper_with_address(app)
    first, second = place(app, me, address, [(sku_a, 1), (sku_b, 1)]).order_numbers
    client = _signed_in(app, me)

    page = client.get(f"/account/orders/{first}").text
    assert "paid together with this one" in page and second in page
    client.post(f"/account/orders/{first}/cancel", data={"reason": "Found a better price"})

    assert _order(app, first).status is OrderStatus.CANCELLED
    assert _order(app, second).status is OrderStatus.CANCELLED


def test_a_cancel_without_a_reason_is_asked_again_and_changes_nothing(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop)
    me, address = shopper_with_address(app)
    number = place(app, me, address, [(sku, 1)]).order_numbers[0]
    client = _signed_in(app, me)

    response = client.post(f"/account/orders/{number}/cancel", data={"reason": "", "reason_text": "  "})

    assert response.status_code == 422
    assert field_errors(response.text) == ["Choose a reason or write one."]
    assert _order(app, number).status is OrderStatus.PENDING_PAYMENT


def test_cancelling_a_shipped_or_paid_order_is_refused_naming_its_state(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop, stock=10)
    me, address = shopper_with_address(app)
    shipped = place_paid(app, me, address, [(sku, 1)]).order_numbers[0]
    _ship(app, shipped)
    paid = place_paid(app, me, address, [(sku, 1)]).order_numbers[0]
    client = _signed_in(app, me)
    before = _events(app, shipped)

    refused = client.post(f"/account/orders/{shipped}/cancel", data={"reason": "Other"})
    refused_paid = client.post(f"/account/orders/{paid}/cancel", data={"reason": "Other"})

    assert refused.status_code == 409
    assert flashes(refused.text) == [("error", f"Order {shipped} is shipped; it cannot be cancelled now.")]
    assert refused_paid.status_code == 409
    assert flashes(refused_paid.text) == [
        ("error", f"Order {paid} is awaiting shipment; it cannot be cancelled now.")
    ]
    assert _order(app, shipped).status is OrderStatus.SHIPPED and _events(app, shipped) == before
    assert _order(app, paid).status is OrderStatus.AWAITING_SHIPMENT
    assert "Cancel the order" not in client.get(f"/account/orders/{paid}").text


def test_the_address_and_note_change_before_shipment_and_are_refused_after(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop)
    me, address = shopper_with_address(app)
    new_address = _second_address(app, me)
    number = place_paid(app, me, address, [(sku, 1)]).order_numbers[0]
    client = _signed_in(app, me)

    page = client.get(f"/account/orders/{number}").text
    assert "Change the address" in page and "Han Meimei" in page  # the address book to choose from
    moved = client.post(
        f"/account/orders/{number}/address", data={"address_id": str(new_address)}, follow_redirects=True
    )
    noted = client.post(
        f"/account/orders/{number}/note", data={"note": "Leave it at the door"}, follow_redirects=True
    )
    assert ("success", "The delivery address is changed.") in flashes(moved.text)
    assert ("success", "The note is saved.") in flashes(noted.text)
    order = _order(app, number)
    assert (order.recipient, order.phone, order.city, order.address_detail) == (
        "Han Meimei", "13900139000", "Beijing", "2 New Street",
    )  # fmt: skip
    assert order.note == "Leave it at the door"
    actions = [action for action, _reason in _events(app, number)]
    assert "address_changed" in actions and "note_changed" in actions

    _ship(app, number)
    refused = client.post(f"/account/orders/{number}/address", data={"address_id": str(address)})
    refused_note = client.post(f"/account/orders/{number}/note", data={"note": "too late"})

    assert refused.status_code == 409
    assert flashes(refused.text) == [("error", f"Order {number} is shipped; it cannot be changed now.")]
    assert refused_note.status_code == 409
    order = _order(app, number)
    assert order.recipient == "Han Meimei" and order.note == "Leave it at the door"
    assert "Change the address" not in client.get(f"/account/orders/{number}").text


def test_an_address_outside_my_address_book_is_a_404(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop)
    me, address = shopper_with_address(app)
    _other, other_address = shopper_with_address(app, phone="13700137000")
    number = place(app, me, address, [(sku, 1)]).order_numbers[0]
    client = _signed_in(app, me)

    response = client.post(f"/account/orders/{number}/address", data={"address_id": str(other_address)})

    assert response.status_code == 404
    assert _order(app, number).phone == "13800138000"


def test_confirm_receipt_once_shipped_and_refused_before(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop)
    me, address = shopper_with_address(app)
    number = place_paid(app, me, address, [(sku, 1)]).order_numbers[0]
    client = _signed_in(app, me)

    early = client.post(f"/account/orders/{number}/receive")
    assert early.status_code == 409
    assert flashes(early.text) == [
        ("error", f"Order {number} is awaiting shipment; it cannot be marked received now.")
    ]

    _ship(app, number)
    page = client.get(f"/account/orders/{number}").text
    assert "Confirm receipt" in page and 'onsubmit="return confirm(' in page  # asks before confirming
    done = client.post(f"/account/orders/{number}/receive", follow_redirects=True)

    assert ("success", "Thank you! The order is marked as received.") in flashes(done.text)
    assert _order(app, number).status is OrderStatus.RECEIVED
    assert "Receipt confirmed" in done.text and "Confirm receipt" not in done.text


def test_reviews_open_for_completed_orders_only_once_per_product_and_only_for_their_shopper(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop, title="Jasmine tea")
    me, address = shopper_with_address(app)
    number = place_paid(app, me, address, [(sku, 1)]).order_numbers[0]
    client = _signed_in(app, me)
    with app.app_context():
        line_id = db.session.scalar(select(Order).where(Order.number == number)).lines[0].id
    review_url = f"/account/orders/{number}/lines/{line_id}/review"

    _ship(app, number)
    assert "Write a review" not in client.get(f"/account/orders/{number}").text
    assert client.get(review_url).status_code == 404  # not yet completed

    _receive_and_complete(app, number)
    page = client.get(f"/account/orders/{number}").text
    assert "Write a review" in page and review_url in page
    stranger = _signed_in(app, make_user(app, UserKind.SHOPPER))
    assert stranger.get(review_url).status_code == 404

    bad = client.post(review_url, data={"rating": "6", "text": ""})
    assert bad.status_code == 422 and len(field_errors(bad.text)) == 2
    sent = client.post(review_url, data={"rating": "5", "text": "Fragrant and fresh."}, follow_redirects=True)
    again = client.post(review_url, data={"rating": "1", "text": "Twice?"}, follow_redirects=True)

    assert ("success", "Thank you! Your review appears once it is checked.") in flashes(sent.text)
    assert "Reviewed" in sent.text and "Write a review" not in sent.text
    assert ("info", "You have already reviewed this product for this order.") in flashes(again.text)
    with app.app_context():
        written = db.session.scalars(select(Review)).all()
        order_id = db.session.scalar(select(Order.id).where(Order.number == number))
        assert [(r.user_id, r.order_id, r.rating, r.status) for r in written] == [
            (me.id, order_id, 5, ReviewStatus.PENDING)
        ]


def test_pay_now_goes_to_the_gateway_while_unpaid_and_disappears_once_paid(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop)
    me, address = shopper_with_address(app)
    placed = place(app, me, address, [(sku, 1)])
    number = placed.order_numbers[0]
    client = _signed_in(app, me)

    page = client.get(f"/account/orders/{number}").text
    pay_link = re.search(r'<a role="button" href="([^"]+)">Pay now</a>', page)
    assert pay_link is not None and pay_link.group(1).startswith("/gateway/simulated/")
    hosted = client.get(pay_link.group(1))
    assert hosted.status_code == 200 and placed.payment_number in hosted.text

    pay(app, placed.payment_id)
    assert "Pay now" not in client.get(f"/account/orders/{number}").text


def test_the_order_centre_needs_a_signed_in_shopper(app, client):
    response = client.get("/account/orders")
    assert response.status_code in (302, 401)
