"""Automatic review rules: a paid order that trips one waits under review; a reviewer approves it (to the
warehouse) or rejects it with a reason (cancelled and refunded); rules are kept on their own admin page."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.extensions import db
from marketplace.orders import oms
from marketplace.orders.models import OrderReviewRule, OrderStatus, ReviewRuleKind
from marketplace.payments.models import Payment, PaymentStatus
from tests.factories import make_merchant
from tests.orders.oms_helpers import history, listed, order, staff_client
from tests.orders.order_helpers import place_paid, shopper_with_address, stocked_sku
from tests.page_helpers import flashes


def _rule(app, kind: ReviewRuleKind, threshold: int, window_hours: int = 24) -> int:
    with app.app_context(), acting_as(SYSTEM):
        rule = oms.save_review_rule(db.session, oms.RuleInput(kind, threshold, window_hours))
        db.session.commit()
        return rule.id


def _shop_and_shopper(app, *, price: int = 10000, phone: str = "13800138000"):
    sku = stocked_sku(app, make_merchant(app), price=price, stock=20)
    shopper, address_id = shopper_with_address(app, phone=phone)
    return sku, shopper, address_id


def test_a_rule_added_on_the_page_sends_a_paid_order_above_it_to_review(app):
    client, _staff = staff_client(app)
    added = client.post(
        "/admin/orders/review-rules",
        data={"kind": "amount_over", "threshold": "500.00", "window_hours": "24"},
        follow_redirects=True,
    )
    assert ("success", "Rule added: it applies to orders paid from now on.") in flashes(added.text)
    sku, shopper, address_id = _shop_and_shopper(app, price=30000)

    big = place_paid(app, shopper, address_id, [(sku, 2)]).order_ids[0]  # 600 yuan
    small = place_paid(app, shopper, address_id, [(sku, 1)]).order_ids[0]  # 300 yuan

    assert order(app, big).status is OrderStatus.UNDER_REVIEW
    assert order(app, big).review_reason == "amount 600.00 above 500.00"
    assert history(app, big)[-1] == (
        "hold_for_review",
        "paid",
        "under_review",
        "amount 600.00 above 500.00",
        "system",
    )
    assert order(app, small).status is OrderStatus.AWAITING_SHIPMENT
    assert listed(client.get("/admin/orders?tab=review").text) == [big]
    assert "Held for review: amount 600.00 above 500.00" in client.get(f"/admin/orders/{big}").text


def test_approving_sends_the_order_to_the_warehouse(app):
    _rule(app, ReviewRuleKind.AMOUNT_OVER, 5000)
    sku, shopper, address_id = _shop_and_shopper(app)
    held = place_paid(app, shopper, address_id, [(sku, 1)]).order_ids[0]
    client, staff = staff_client(app, role="customer_service")

    approved = client.post(f"/admin/orders/{held}/approve", data={"reason": ""}, follow_redirects=True)

    assert ("success", "Approved: the order goes to the warehouse.") in flashes(approved.text)
    assert order(app, held).status is OrderStatus.AWAITING_SHIPMENT
    assert history(app, held)[-1] == (
        "release_to_warehouse",
        "under_review",
        "awaiting_shipment",
        "review approved",
        staff.name,
    )

    again = client.post(f"/admin/orders/{held}/approve", follow_redirects=True)

    assert (
        "error",
        f"Order {order(app, held).number} is awaiting shipment; it cannot be released to the warehouse now.",
    ) in flashes(again.text)


def test_rejecting_needs_a_reason_and_cancels_and_refunds_with_it_in_the_history(app):
    _rule(app, ReviewRuleKind.AMOUNT_OVER, 5000)
    sku, shopper, address_id = _shop_and_shopper(app)
    placed = place_paid(app, shopper, address_id, [(sku, 1)])
    held = placed.order_ids[0]
    client, staff = staff_client(app, role="customer_service")

    refused = client.post(f"/admin/orders/{held}/reject", data={"reason": " "}, follow_redirects=True)

    assert ("error", "Give a reason.") in flashes(refused.text)
    assert order(app, held).status is OrderStatus.UNDER_REVIEW

    client.post(f"/admin/orders/{held}/reject", data={"reason": "stolen card"})

    rejected = order(app, held)
    assert rejected.status is OrderStatus.CANCELLED and rejected.refunded_amount == rejected.total_amount
    assert history(app, held)[-1] == ("cancel", "under_review", "cancelled", "stolen card", staff.name)
    with app.app_context():
        assert db.session.get(Payment, placed.payment_id).status is PaymentStatus.REFUNDED


def test_orders_to_one_phone_and_new_accounts_trip_their_rules(app):
    _rule(app, ReviewRuleKind.ORDERS_PER_PHONE, 1, window_hours=24)
    sku, shopper, address_id = _shop_and_shopper(app, price=1000, phone="13700000007")

    first = place_paid(app, shopper, address_id, [(sku, 1)]).order_ids[0]
    second = place_paid(app, shopper, address_id, [(sku, 1)]).order_ids[0]

    assert order(app, first).status is OrderStatus.AWAITING_SHIPMENT
    assert order(app, second).status is OrderStatus.UNDER_REVIEW
    assert order(app, second).review_reason == "2 orders to 13700000007 within 24 h"

    with app.app_context(), acting_as(SYSTEM):
        for rule in db.session.scalars(select(OrderReviewRule)):
            oms.set_review_rule_active(db.session, rule, active=False)
        db.session.commit()
    _rule(app, ReviewRuleKind.NEW_ACCOUNT_VALUE, 500, window_hours=72)
    newcomer = place_paid(app, shopper, address_id, [(sku, 1)]).order_ids[0]

    assert order(app, newcomer).review_reason == "account younger than 72 h, amount 10.00"


def test_a_switched_off_rule_holds_nothing_and_its_changes_are_audited(app):
    rule_id = _rule(app, ReviewRuleKind.AMOUNT_OVER, 5000)
    client, _staff = staff_client(app)

    client.post(f"/admin/orders/review-rules/{rule_id}", data={"threshold": "80", "window_hours": "24"})
    client.post(f"/admin/orders/review-rules/{rule_id}/active", data={"active": "0"})
    sku, shopper, address_id = _shop_and_shopper(app)
    paid = place_paid(app, shopper, address_id, [(sku, 1)]).order_ids[0]

    assert order(app, paid).status is OrderStatus.AWAITING_SHIPMENT
    with app.app_context():
        rule = db.session.get(OrderReviewRule, rule_id)
        assert (rule.threshold, rule.is_active) == (8000, False)
        changes = db.session.scalars(
            select(AuditEntry.changes).where(
                AuditEntry.object_type == "order_review_rules",
                AuditEntry.action == "order_review_rules.update",
            )
        ).all()
        assert {"threshold": [5000, 8000]} in changes and {"is_active": [True, False]} in changes
    bad = client.post(
        "/admin/orders/review-rules",
        data={"kind": "orders_per_phone", "threshold": "0", "window_hours": "24"},
        follow_redirects=True,
    )
    assert ("error", "Enter a number of orders from 1 to 100000.") in flashes(bad.text)


def test_customer_service_sees_the_rules_but_cannot_change_them(app):
    rule_id = _rule(app, ReviewRuleKind.AMOUNT_OVER, 5000)
    client, _agent = staff_client(app, role="customer_service")

    assert client.get("/admin/orders/review-rules").status_code == 200
    assert (
        client.post(f"/admin/orders/review-rules/{rule_id}/active", data={"active": "0"}).status_code == 403
    )
    assert (
        client.post("/admin/orders/review-rules", data={"kind": "amount_over", "threshold": "1"}).status_code
        == 403
    )
