"""Checkout: one order per shop and one payment; re-checks at submit; idempotent; stock reserved."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.checkout import cart
from marketplace.checkout.errors import LinesUnavailable, PriceChanged
from marketplace.checkout.models import CartLine, Checkout
from marketplace.checkout.services import CheckoutRequest, place_checkout
from marketplace.extensions import db
from marketplace.identity.models import User
from marketplace.inventory.errors import InsufficientStock
from marketplace.inventory.models import StockLevel
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus
from tests.factories import make_merchant
from tests.orders.order_helpers import pay, place, shopper_with_address, stocked_sku


def _available(app, sku_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.sum(StockLevel.available)).where(StockLevel.sku_id == sku_id))


def test_two_shops_one_checkout_makes_two_orders_and_one_payment(app):
    tea = stocked_sku(app, make_merchant(app), price=2500, stock=5)
    cups = stocked_sku(app, make_merchant(app), price=1200, stock=5)
    shopper, address_id = shopper_with_address(app)

    placed = place(app, shopper, address_id, [(tea, 2), (cups, 1)])

    with app.app_context():
        orders = db.session.scalars(select(Order).where(Order.id.in_(placed.order_ids))).all()
        assert len(orders) == 2 and len({o.tenant_id for o in orders}) == 2
        assert {o.goods_amount for o in orders} == {5000, 1200}
        assert all(
            o.status is OrderStatus.PENDING_PAYMENT and o.payment_id == placed.payment_id for o in orders
        )
        payment = db.session.get(Payment, placed.payment_id)
        assert payment.amount == sum(o.total_amount for o in orders)
        assert (
            db.session.scalar(select(func.count()).select_from(CartLine)) == 0
        )  # bought lines leave the cart
    assert _available(app, tea) == 3 and _available(app, cups) == 4

    pay(app, placed.payment_id)
    with app.app_context():
        statuses = set(db.session.scalars(select(Order.status).where(Order.id.in_(placed.order_ids))))
        assert statuses == {OrderStatus.AWAITING_SHIPMENT}
        assert db.session.get(Payment, placed.payment_id).status is PaymentStatus.PAID


def test_same_idempotency_key_places_the_orders_once(app):
    sku = stocked_sku(app, make_merchant(app), stock=5)
    shopper, address_id = shopper_with_address(app)
    first = place(app, shopper, address_id, [(sku, 1)], key="same-key")
    second = place(app, shopper, address_id, [(sku, 1)], key="same-key")
    assert first.order_ids == second.order_ids
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checkout)) == 1
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def _submit(app, shopper, address_id, expected_total):
    with app.app_context():
        user = db.session.get(User, shopper.id)
        try:
            return place_checkout(
                db.session,
                shopper=user,
                request=CheckoutRequest(
                    address_id=address_id, idempotency_key="k", expected_total=expected_total
                ),
            )
        finally:
            db.session.rollback()


def test_a_changed_total_asks_for_confirmation_and_changes_nothing(app):
    sku = stocked_sku(app, make_merchant(app), price=1000, stock=5)
    shopper, address_id = shopper_with_address(app)
    with app.app_context():
        cart.add_line(db.session, cart.CartOwner(user_id=shopper.id), sku_id=sku, quantity=1)
        db.session.commit()
    try:
        _submit(app, shopper, address_id, expected_total=900)
    except PriceChanged as exc:
        assert exc.facts["amount"] >= 1000
    else:
        raise AssertionError("a different total must be refused")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert _available(app, sku) == 5


def test_too_little_stock_names_the_item_and_what_is_left(app):
    sku = stocked_sku(app, make_merchant(app), price=1000, stock=2, title="Longjing tea")
    shopper, address_id = shopper_with_address(app)
    with app.app_context():
        cart.add_line(db.session, cart.CartOwner(user_id=shopper.id), sku_id=sku, quantity=3)
        db.session.commit()
    try:
        _submit(app, shopper, address_id, expected_total=0)
    except LinesUnavailable as exc:
        assert "Longjing tea" in exc.text and "2" in exc.text
    else:
        raise AssertionError("a cart asking for more than is left must be refused")


def test_stock_taken_between_quote_and_reserve_is_refused_by_the_database(app):
    sku = stocked_sku(app, make_merchant(app), price=1000, stock=1)
    shopper, address_id = shopper_with_address(app)
    other, other_address = shopper_with_address(app, phone="13900139000")
    place(app, other, other_address, [(sku, 1)])
    assert _available(app, sku) == 0
    try:
        place(app, shopper, address_id, [(sku, 1)])
    except (InsufficientStock, LinesUnavailable):
        pass
    else:
        raise AssertionError("the last unit cannot be sold twice")
    assert _available(app, sku) == 0
