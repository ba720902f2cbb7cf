"""No oversell: concurrent checkouts of the last units, each on its own connection, sell exactly the stock."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.checkout import cart
from marketplace.checkout.errors import LinesUnavailable
from marketplace.checkout.services import CheckoutRequest, place_checkout
from marketplace.extensions import db
from marketplace.identity.models import User
from marketplace.inventory.errors import InsufficientStock
from marketplace.inventory.models import StockLevel
from marketplace.orders.models import Order, OrderLine
from tests.concurrency import race
from tests.factories import make_merchant
from tests.orders.order_helpers import shopper_with_address, stocked_sku


def test_concurrent_checkouts_never_sell_more_than_the_stock(app, postgres_only):
    stock, buyers = 4, 10
    sku = stocked_sku(app, make_merchant(app), price=990, stock=stock)
    shoppers = [shopper_with_address(app, phone=f"1380000{n:04d}") for n in range(buyers)]
    with app.app_context():
        for shopper, _address in shoppers:
            cart.add_line(db.session, cart.CartOwner(user_id=shopper.id), sku_id=sku, quantity=1)
        db.session.commit()
    totals = {}
    with app.app_context():
        from marketplace.checkout.queries import quote
        from marketplace.crm.models import Address

        for shopper, address_id in shoppers:
            owner = cart.CartOwner(user_id=shopper.id)
            totals[shopper.id] = quote(db.session, owner, db.session.get(Address, address_id)).total_amount

    def attempt(n: int) -> None:
        shopper, address_id = shoppers[n]
        place_checkout(
            db.session,
            shopper=db.session.get(User, shopper.id),
            request=CheckoutRequest(
                address_id=address_id, idempotency_key=f"k{n}", expected_total=totals[shopper.id]
            ),
        )

    outcomes = race(app, buyers, attempt, (InsufficientStock, LinesUnavailable))

    assert sorted(outcomes) == ["refused"] * (buyers - stock) + ["won"] * stock
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == stock
        assert db.session.scalar(select(func.sum(OrderLine.quantity))) == stock
        level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == sku))
        assert (level.on_hand, level.reserved, level.available) == (stock, stock, 0)
