"""Unpaid orders time out: the scheduled sweep cancels them, gives the stock back and releases held tenders.
Received orders complete after the configured days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.db import utcnow
from marketplace.extensions import db
from marketplace.inventory.models import StockLevel
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from marketplace.orders.tasks import cancel_expired_orders, complete_received_orders
from marketplace.payments import accounts
from marketplace.payments.ledger import balance
from marketplace.payments.models import Payment, PaymentStatus, TenderKind, TenderStatus
from marketplace.payments.services import TenderRequest
from marketplace.payments.wallet import top_up_balance
from tests.factories import make_merchant
from tests.orders.order_helpers import place, place_paid, shopper_with_address, stocked_sku
from tests.payments.helpers import assert_books_balance


def _available(sku_id: int) -> int:
    return db.session.scalar(select(StockLevel.available).where(StockLevel.sku_id == sku_id))


def test_the_sweep_cancels_late_unpaid_orders_and_releases_stock_and_balance(app):
    sku = stocked_sku(app, make_merchant(app), price=3000, stock=5)
    shopper, address_id = shopper_with_address(app)
    with app.app_context(), acting_as(SYSTEM):
        top_up_balance(db.session, user_id=shopper.id, amount=1000, reason="test", actor_id=None)
        db.session.commit()
    late = place(
        app, shopper, address_id, [(sku, 2)], tenders=[TenderRequest(TenderKind.BALANCE, amount=1000)]
    )
    on_time = place(app, shopper, address_id, [(sku, 1)])
    with app.app_context():
        assert _available(sku) == 2
        assert balance(db.session, accounts.balance_code(shopper.id)) == 0  # held for the late order
        db.session.execute(
            update(Order)
            .where(Order.id.in_(late.order_ids))
            .values(pay_deadline=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()

    with app.app_context():  # the scheduler's job, run in this app
        assert cancel_expired_orders() == 1

    with app.app_context():
        cancelled = db.session.get(Order, late.order_ids[0])
        assert cancelled.status is OrderStatus.CANCELLED
        event = db.session.scalar(
            select(OrderEvent).where(OrderEvent.order_id == cancelled.id, OrderEvent.action == "cancel")
        )
        assert event.reason == "payment timeout" and event.actor_label == "system"
        assert db.session.get(Order, on_time.order_ids[0]).status is OrderStatus.PENDING_PAYMENT
        assert _available(sku) == 4
        payment = db.session.get(Payment, late.payment_id)
        assert payment.status is PaymentStatus.EXPIRED
        assert {t.status for t in payment.tenders} == {TenderStatus.RELEASED, TenderStatus.FAILED}
        assert balance(db.session, accounts.balance_code(shopper.id)) == 1000  # the held balance came back
        assert_books_balance(db.session)
    with app.app_context():
        assert cancel_expired_orders() == 0  # safe to run again


def test_a_paid_order_is_never_timed_out(app):
    sku = stocked_sku(app, make_merchant(app), stock=3)
    shopper, address_id = shopper_with_address(app)
    paid = place_paid(app, shopper, address_id, [(sku, 1)])
    with app.app_context():
        db.session.execute(update(Order).values(pay_deadline=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with app.app_context():
        assert cancel_expired_orders() == 0
        assert db.session.get(Order, paid.order_ids[0]).status is OrderStatus.AWAITING_SHIPMENT


def test_cancelling_a_paid_order_refunds_it_and_returns_stock(app):
    sku = stocked_sku(app, make_merchant(app), price=2000, stock=3)
    shopper, address_id = shopper_with_address(app)
    paid = place_paid(app, shopper, address_id, [(sku, 2)])
    with app.app_context(), acting_as(SYSTEM):
        order = db.session.get(Order, paid.order_ids[0])
        orders.cancel_order(db.session, order, actor=orders.SYSTEM, reason="out of stock in the shop")
        db.session.commit()
        order = db.session.get(Order, paid.order_ids[0])
        assert order.status is OrderStatus.CANCELLED and order.refunded_amount == order.total_amount
        assert db.session.get(Payment, paid.payment_id).status is PaymentStatus.REFUNDED
        assert balance(db.session, orders.payable_account_code(order.tenant_id)) == 0
        assert _available(sku) == 3
        assert_books_balance(db.session)


def test_received_orders_complete_after_the_configured_days(app):
    sku = stocked_sku(app, make_merchant(app), stock=3)
    shopper, address_id = shopper_with_address(app)
    paid = place_paid(app, shopper, address_id, [(sku, 1)])
    with app.app_context(), acting_as(SYSTEM):
        order = db.session.get(Order, paid.order_ids[0])
        orders.ship_order(
            db.session, order, quantities=None, carrier="SF", waybill_no="SF100", actor=orders.SYSTEM
        )
        orders.confirm_receipt(db.session, order, actor=orders.SYSTEM)
        db.session.commit()
    with app.app_context():
        assert complete_received_orders() == 0  # received just now
    with app.app_context():
        days = app.config["ORDER_AUTO_COMPLETE_DAYS"]
        db.session.execute(update(Order).values(received_at=utcnow() - timedelta(days=days, minutes=1)))
        db.session.commit()
    with app.app_context():
        assert complete_received_orders() == 1
    with app.app_context():
        assert db.session.get(Order, paid.order_ids[0]).status is OrderStatus.COMPLETED
