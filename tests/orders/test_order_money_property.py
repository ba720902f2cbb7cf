"""Property: whatever happens to orders — placed, paid, cancelled (refunded), timed out, shipped — the books
balance, every shop is owed exactly what its live paid orders are worth, and stock adds up."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from marketplace.checkout import cart
from marketplace.checkout.queries import quote
from marketplace.checkout.services import CheckoutRequest, place_checkout
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.db import utcnow
from marketplace.core.errors import DomainError
from marketplace.crm.models import Address
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.inventory.models import StockLevel, StockMovement
from marketplace.inventory.services import set_on_hand
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import services as payments
from marketplace.payments.ledger import balance
from marketplace.payments.models import Payment, PaymentStatus, TenderKind
from marketplace.payments.services import TenderRequest
from marketplace.payments.wallet import grant_points, top_up_balance
from tests.factories import make_merchant
from tests.orders.order_helpers import stocked_sku
from tests.payments.helpers import assert_books_balance

_ids = itertools.count(1)
_worlds: dict[int, tuple[list[int], list[int]]] = {}
STOCK = 4
LIVE_PAID = {
    OrderStatus.PAID,
    OrderStatus.UNDER_REVIEW,
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.RECEIVED,
    OrderStatus.COMPLETED,
}

steps = st.lists(
    st.tuples(
        st.sampled_from(["place", "pay", "cancel", "timeout", "ship"]),
        st.integers(0, 3),  # which order / payment / SKU
        st.integers(0, 2),  # quantity or tender mix
    ),
    min_size=1,
    max_size=10,
)


def _shopper() -> tuple[User, Address]:
    n = next(_ids)
    user = User(kind=UserKind.SHOPPER, email=f"prop{n}@example.test", name="Prop", password_hash="-")
    db.session.add(user)
    db.session.flush()
    address = Address(
        user_id=user.id,
        recipient="R",
        phone="13800000000",
        province="310000",
        city="SH",
        detail="1 Rd",
        is_default=True,
    )
    db.session.add(address)
    top_up_balance(db.session, user_id=user.id, amount=5000, reason="test", actor_id=None)
    grant_points(db.session, user_id=user.id, points=3000, reason="test", actor_id=None)
    db.session.commit()
    return user, address


def _tenders(mix: int) -> list[TenderRequest]:
    return [
        [],
        [TenderRequest(TenderKind.BALANCE, amount=700)],
        [TenderRequest(TenderKind.POINTS, points=500), TenderRequest(TenderKind.BALANCE, amount=300)],
    ][mix]


def _act(action: str, which: int, arg: int, shopper: User, address: Address, skus: list[int]) -> None:
    mine = db.session.scalars(select(Order).where(Order.shopper_id == shopper.id).order_by(Order.id)).all()
    if action == "place":
        owner = cart.CartOwner(user_id=shopper.id)
        cart.add_line(db.session, owner, sku_id=skus[which % len(skus)], quantity=arg + 1)
        total = quote(db.session, owner, address).total_amount
        place_checkout(
            db.session,
            shopper=shopper,
            request=CheckoutRequest(
                address_id=address.id,
                idempotency_key=f"p{next(_ids)}",
                expected_total=total,
                tenders=_tenders(arg),
            ),
        )
    elif not mine:
        return
    elif action == "pay":
        payment = db.session.get(Payment, mine[which % len(mine)].payment_id)
        payments.capture_payment(db.session, payment, provider_txn_id=f"t{next(_ids)}")
    elif action == "cancel":
        orders.cancel_order(db.session, mine[which % len(mine)], actor=orders.SYSTEM, reason="changed mind")
    elif action == "timeout":
        order = mine[which % len(mine)]
        order.pay_deadline = utcnow() - timedelta(minutes=1)
        db.session.flush()
        orders.expire_unpaid(db.session)
    elif action == "ship":
        orders.ship_order(
            db.session,
            mine[which % len(mine)],
            quantities=None,
            carrier="SF",
            waybill_no="SF1",
            actor=orders.SYSTEM,
        )


def _check(shops: list[int], skus: list[int]) -> None:
    """Over every order of the world (all examples so far), not only this example's."""
    assert_books_balance(db.session)
    everything = db.session.scalars(select(Order).where(Order.tenant_id.in_(shops))).all()
    for shop in shops:
        owed = sum(o.total_amount for o in everything if o.tenant_id == shop and o.status in LIVE_PAID)
        assert balance(db.session, orders.payable_account_code(shop)) == owed
    for sku in skus:
        level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == sku))
        held = sum(
            line.quantity - line.shipped_quantity
            for o in everything
            for line in o.lines
            if line.sku_id == sku and o.status not in (OrderStatus.CANCELLED, OrderStatus.CLOSED)
        )
        moved = db.session.scalar(
            select(func.sum(StockMovement.on_hand_delta)).where(StockMovement.sku_id == sku)
        )
        assert (level.on_hand, level.reserved) == (moved, held)
        assert level.available == level.on_hand - level.reserved >= 0
    for o in everything:
        payment = db.session.get(Payment, o.payment_id)
        if o.status in LIVE_PAID:
            assert payment.status is PaymentStatus.PAID
        if o.status is OrderStatus.PENDING_PAYMENT:
            assert payment.status is PaymentStatus.PENDING


@settings(
    max_examples=15,
    deadline=None,
    report_multiple_bugs=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sequence=steps)
def test_books_and_stock_stay_true_over_any_order_history(app, sequence):
    if id(app) not in _worlds:  # built once: two shops with one SKU each; examples share them
        merchants = [make_merchant(app), make_merchant(app)]
        skus = [stocked_sku(app, m, price=1000 + 500 * n, stock=STOCK) for n, m in enumerate(merchants)]
        _worlds[id(app)] = ([m.id for m in merchants], skus)
    shops, skus = _worlds[id(app)]
    with app.app_context(), acting_as(SYSTEM):
        for sku in skus:  # each example starts with STOCK units free to sell
            level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == sku))
            set_on_hand(db.session, sku_id=sku, tenant_id=level.tenant_id, quantity=level.reserved + STOCK)
        db.session.commit()
        shopper, address = _shopper()
        for action, which, arg in sequence:
            try:
                _act(action, which, arg, shopper, address, skus)
                db.session.commit()
            except DomainError:
                db.session.rollback()
            shopper = db.session.get(User, shopper.id)
            address = db.session.get(Address, address.id)
            _check(shops, skus)
