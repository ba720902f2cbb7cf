"""Every change of an order's state: placing, paying, review, shipping, receipt, completion, cancellation.

Each public function locks the order row first (``FOR UPDATE``), so a merchant shipping and a shopper
cancelling at the same moment are serialised and the second one sees the first one's result. Every transition
writes an :class:`OrderEvent` with who, when and why.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.core.db import utcnow
from marketplace.identity.models import User
from marketplace.inventory import services as stock
from marketplace.orders.drafts import (
    SYSTEM,
    DeliveryAddress,
    OrderActor,
    OrderDraft,
)
from marketplace.orders.errors import (
    FulfilledByPlatform,
    IllegalTransition,
    NothingToShip,
    ReasonRequired,
    ShipQuantityTooLarge,
    WaybillRequired,
)
from marketplace.orders.models import (
    Order,
    OrderChannel,
    OrderEvent,
    OrderLine,
    OrderReviewRule,
    OrderStatus,
    ReviewRuleKind,
    Shipment,
    ShipmentLine,
)
from marketplace.orders.push import order_ready_to_ship
from marketplace.orders.queries import platform_line_ids
from marketplace.orders.states import ACTION_LABELS, EDITABLE, STATUS_LABELS, TRANSITIONS
from marketplace.payments import ledger
from marketplace.payments import services as payments
from marketplace.payments.models import AccountKind, Payment, PaymentStatus


def new_order_number(now: datetime | None = None) -> str:
    """Time-ordered and unguessable enough not to enumerate: 14 digits of time, 6 random."""
    now = now or utcnow()
    return now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**6):06d}"


def _locked(session: Session, order: Order) -> Order:
    """The order re-read under ``FOR UPDATE`` (and refreshed: another transaction may have changed it)."""
    return session.scalars(
        select(Order).where(Order.id == order.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def _transition(session: Session, order: Order, action: str, *, actor: OrderActor, reason: str = "") -> None:
    sources, target = TRANSITIONS[action]
    if order.status not in sources:
        raise IllegalTransition(
            number=order.number, current=str(STATUS_LABELS[order.status]), action=str(ACTION_LABELS[action])
        )
    session.add(
        OrderEvent(
            tenant_id=order.tenant_id,
            order_id=order.id,
            from_status=order.status.value,
            to_status=target.value,
            action=action,
            reason=reason[:500],
            actor_id=actor.id,
            actor_label=actor.label[:100],
        )
    )
    order.status = target
    now = utcnow()
    stamp = {
        OrderStatus.PAID: "paid_at",
        OrderStatus.SHIPPED: "shipped_at",
        OrderStatus.RECEIVED: "received_at",
        OrderStatus.COMPLETED: "completed_at",
        OrderStatus.CANCELLED: "cancelled_at",
    }.get(target)
    if stamp:
        setattr(order, stamp, now)


def note(session: Session, order: Order, action: str, *, actor: OrderActor, reason: str) -> None:
    """A history entry that is not a status change (address changed, marked invalid, restored...)."""
    session.add(
        OrderEvent(
            tenant_id=order.tenant_id,
            order_id=order.id,
            action=action,
            reason=reason[:500],
            actor_id=actor.id,
            actor_label=actor.label[:100],
        )
    )


# --- placing ----------------------------------------------------------------------------------


def create_order(
    session: Session,
    draft: OrderDraft,
    *,
    shopper_id: int | None,
    checkout_id: int | None,
    channel: OrderChannel,
    pay_deadline: datetime | None,
    actor: OrderActor,
) -> Order:
    """Write one shop's order in status pending payment. Stock is reserved separately, last (see reserve_stock)."""
    address = draft.address
    order = Order(
        tenant_id=draft.tenant_id,
        number=new_order_number(),
        checkout_id=checkout_id,
        shopper_id=shopper_id,
        channel=channel,
        status=OrderStatus.PENDING_PAYMENT,
        goods_amount=draft.goods_amount,
        shipping_amount=draft.shipping_amount,
        discount_amount=draft.discount_amount,
        total_amount=draft.total_amount,
        recipient=address.recipient,
        phone=address.phone,
        email=draft.email,
        province=address.province,
        city=address.city,
        district=address.district,
        address_detail=address.detail,
        postal_code=address.postal_code,
        shipping_method=draft.shipping_method,
        note=draft.note[:500],
        invoice_type=draft.invoice.type,
        invoice_title=draft.invoice.title,
        invoice_tax_no=draft.invoice.tax_no,
        search_text=" ".join(line.title for line in draft.lines)[:4000],
        pay_deadline=pay_deadline,
    )
    session.add(order)
    session.flush()
    session.add_all(
        OrderLine(
            tenant_id=draft.tenant_id,
            order_id=order.id,
            product_id=line.product_id,
            sku_id=line.sku_id,
            title=line.title,
            sku_code=line.sku_code,
            spec=line.spec,
            image_key=line.image_key,
            unit_price=line.unit_price,
            quantity=line.quantity,
            amount=line.unit_price * line.quantity,
            weight_grams=line.weight_grams,
        )
        for line in draft.lines
    )
    note(session, order, "placed", actor=actor, reason=channel.value)
    session.flush()
    return order


def reserve_stock(session: Session, orders: Iterable[Order], *, actor: OrderActor) -> None:
    """Reserve every line, in SKU order so two checkouts of the same SKUs never deadlock.

    Call it last in the transaction (the stock rows are the hot rows) and commit right after.
    """
    lines = sorted(
        (line for order in orders for line in order.lines), key=lambda line: (line.sku_id, line.id)
    )
    for line in lines:
        level = stock.reserve(session, sku_id=line.sku_id, quantity=line.quantity, order_id=line.order_id)
        line.warehouse_id = level.warehouse_id


def _release_stock(session: Session, order: Order, *, reason: str) -> None:
    for line in order.lines:
        if line.open_quantity and line.warehouse_id is not None:
            stock.release(
                session,
                sku_id=line.sku_id,
                quantity=line.open_quantity,
                order_id=order.id,
                reason=reason,
                warehouse_id=line.warehouse_id,
            )


# --- money --------------------------------------------------------------------------------------


def payable_account_code(tenant_id: int) -> str:
    return f"merchant_payable:{tenant_id}"


def _allocate(session: Session, order: Order, *, reverse: bool = False) -> None:
    """Move the order's money between the shoppers' clearing account and what the platform owes the shop."""
    if order.total_amount <= 0:
        return
    clearing = ledger.account(session, "sales_clearing", AccountKind.SALES_CLEARING)
    payable = ledger.account(session, payable_account_code(order.tenant_id), AccountKind.MERCHANT_PAYABLE)
    amount = -order.total_amount if reverse else order.total_amount
    ledger.post(
        session,
        kind="order_refund_allocation" if reverse else "order_allocation",
        lines=[(clearing, -amount), (payable, amount)],
        memo=f"order {order.number}",
        payment_id=order.payment_id,
        order_id=order.id,
    )


def mark_payment_paid(session: Session, payment: Payment) -> list[Order]:
    """The payment was captured: each of its orders is paid, its money allocated to its shop, then either held
    for review by a rule or released to the warehouse (which pushes it to the merchant)."""
    orders = session.scalars(
        select(Order)
        .where(Order.payment_id == payment.id, Order.status == OrderStatus.PENDING_PAYMENT)
        .order_by(Order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for order in orders:
        _transition(session, order, "pay", actor=SYSTEM, reason=payment.number)
        _allocate(session, order)
        _route_paid_order(session, order)
    session.flush()
    return list(orders)


def _route_paid_order(session: Session, order: Order) -> None:
    reason = review_reason(session, order)
    if reason:
        order.review_reason = reason
        _transition(session, order, "hold_for_review", actor=SYSTEM, reason=reason)
    else:
        _transition(session, order, "release_to_warehouse", actor=SYSTEM)
        order_ready_to_ship(session, order)


def review_reason(session: Session, order: Order) -> str:
    """The first active review rule this order trips, as a sentence for the reviewer; "" if none."""
    rules = session.scalars(select(OrderReviewRule).where(OrderReviewRule.is_active.is_(True))).all()
    for rule in rules:
        since = utcnow() - timedelta(hours=rule.window_hours)
        if rule.kind is ReviewRuleKind.AMOUNT_OVER and order.total_amount > rule.threshold:
            return f"amount {order.total_amount / 100:.2f} above {rule.threshold / 100:.2f}"
        if rule.kind is ReviewRuleKind.ORDERS_PER_PHONE and order.phone:
            count = session.scalar(
                select(func.count()).where(Order.phone == order.phone, Order.created_at >= since)
            )
            if count > rule.threshold:
                return f"{count} orders to {order.phone} within {rule.window_hours} h"
        if rule.kind is ReviewRuleKind.NEW_ACCOUNT_VALUE and order.shopper_id:
            joined = session.scalar(select(User.created_at).where(User.id == order.shopper_id))
            if joined and joined >= since and order.total_amount > rule.threshold:
                return f"account younger than {rule.window_hours} h, amount {order.total_amount / 100:.2f}"
    return ""


# --- review, shipping, receipt, completion -----------------------------------------------------


def _require_under_review(order: Order, action: str) -> None:
    """Review decisions apply only to held orders (the table also lets a PAID order go to the warehouse)."""
    if order.status is not OrderStatus.UNDER_REVIEW:
        raise IllegalTransition(
            number=order.number, current=str(STATUS_LABELS[order.status]), action=str(ACTION_LABELS[action])
        )


def approve_review(session: Session, order: Order, *, actor: OrderActor, reason: str = "") -> Order:
    order = _locked(session, order)
    _require_under_review(order, "release_to_warehouse")
    _transition(session, order, "release_to_warehouse", actor=actor, reason=reason or "review approved")
    order_ready_to_ship(session, order)
    session.flush()
    return order


def reject_review(session: Session, order: Order, *, actor: OrderActor, reason: str) -> Order:
    """A rejected order is cancelled and refunded like any cancellation before shipment."""
    order = _locked(session, order)
    _require_under_review(order, "cancel")
    return cancel_order(session, order, actor=actor, reason=reason)


def ship_order(
    session: Session,
    order: Order,
    *,
    quantities: dict[int, int] | None,
    carrier: str,
    waybill_no: str,
    actor: OrderActor,
) -> Shipment:
    """Ship some or all open lines (``quantities`` maps line id -> quantity; None ships everything open)."""
    carrier, waybill_no = carrier.strip(), waybill_no.strip()
    if not carrier or not waybill_no:
        raise WaybillRequired()
    order = _locked(session, order)
    sources, _target = TRANSITIONS["ship"]
    if order.status not in sources:
        raise IllegalTransition(
            number=order.number, current=str(STATUS_LABELS[order.status]), action=str(ACTION_LABELS["ship"])
        )
    lines = {line.id: line for line in order.lines}
    wanted = quantities if quantities is not None else {line.id: line.open_quantity for line in order.lines}
    wanted = {line_id: qty for line_id, qty in wanted.items() if qty}
    if not wanted or any(line_id not in lines or qty < 0 for line_id, qty in wanted.items()):
        raise NothingToShip()
    for line_id, qty in wanted.items():
        if qty > lines[line_id].open_quantity:
            raise ShipQuantityTooLarge(line=lines[line_id].title, open=lines[line_id].open_quantity)
    shipment = Shipment(
        tenant_id=order.tenant_id,
        order_id=order.id,
        carrier=carrier[:50],
        waybill_no=waybill_no[:64],
        actor_id=actor.id,
    )
    session.add(shipment)
    session.flush()
    for line_id, qty in sorted(wanted.items()):
        line = lines[line_id]
        stock.ship(
            session, sku_id=line.sku_id, quantity=qty, order_id=order.id, warehouse_id=line.warehouse_id
        )
        line.shipped_quantity += qty
        shipment.warehouse_id = shipment.warehouse_id or line.warehouse_id
        session.add(
            ShipmentLine(
                tenant_id=order.tenant_id, shipment_id=shipment.id, order_line_id=line.id, quantity=qty
            )
        )
    everything = all(line.open_quantity == 0 for line in order.lines)
    _transition(
        session, order, "ship" if everything else "ship_part", actor=actor, reason=f"{carrier} {waybill_no}"
    )
    session.flush()
    return shipment


def ship_by_shop(
    session: Session,
    order: Order,
    *,
    quantities: dict[int, int] | None,
    carrier: str,
    waybill_no: str,
    actor: OrderActor,
) -> Shipment:
    """The shop ships lines from its own stock; lines held in a platform warehouse are shipped by that
    warehouse's pack station (the shop never had those units in hand), so naming one is refused."""
    platform_lines = platform_line_ids(session, order)
    wanted = quantities if quantities is not None else {line.id: line.open_quantity for line in order.lines}
    if any(qty and line_id in platform_lines for line_id, qty in wanted.items()):
        raise FulfilledByPlatform(number=order.number)
    return ship_order(
        session, order, quantities=quantities, carrier=carrier, waybill_no=waybill_no, actor=actor
    )


def confirm_receipt(session: Session, order: Order, *, actor: OrderActor) -> Order:
    order = _locked(session, order)
    _transition(session, order, "receive", actor=actor)
    session.flush()
    return order


def complete_received(session: Session, *, older_than: timedelta, limit: int = 500) -> int:
    """Received orders complete after a while (the after-sales window starts counting from here)."""
    due = session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.RECEIVED, Order.received_at < utcnow() - older_than)
        .order_by(Order.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for order in due:
        _transition(session, order, "complete", actor=SYSTEM, reason="auto-complete")
    session.flush()
    return len(due)


def change_delivery(
    session: Session,
    order: Order,
    *,
    actor: OrderActor,
    address: DeliveryAddress | None = None,
    note_text: str | None = None,
) -> Order:
    """The shopper corrects the address or the note; allowed until the order ships."""
    order = _locked(session, order)
    if order.status not in EDITABLE:
        raise IllegalTransition(
            number=order.number, current=str(STATUS_LABELS[order.status]), action=str(ACTION_LABELS["edit"])
        )
    if address is not None:
        before = f"{order.recipient} {order.phone} {order.city} {order.address_detail}"
        order.recipient, order.phone = address.recipient, address.phone
        order.province, order.city, order.district = address.province, address.city, address.district
        order.address_detail, order.postal_code = address.detail, address.postal_code
        note(session, order, "address_changed", actor=actor, reason=f"was: {before}")
    if note_text is not None and note_text != order.note:
        order.note = note_text[:500]
        note(session, order, "note_changed", actor=actor, reason=note_text[:500])
    session.flush()
    return order


# --- cancellation and timeouts -----------------------------------------------------------------


def cancel_order(session: Session, order: Order, *, actor: OrderActor, reason: str) -> Order:
    """Cancel before shipment. Unpaid: every unpaid order of the same payment is cancelled with it (the
    payment was one) and held tenders go back. Paid: stock goes back and the order's amount is refunded."""
    if not reason.strip():
        raise ReasonRequired()
    order = _locked(session, order)
    sources, _target = TRANSITIONS["cancel"]
    if order.status not in sources:
        raise IllegalTransition(
            number=order.number, current=str(STATUS_LABELS[order.status]), action=str(ACTION_LABELS["cancel"])
        )
    if order.status is OrderStatus.PENDING_PAYMENT:
        payment = _locked_payment(session, order.payment_id)
        if payment is not None and payment.status is PaymentStatus.PENDING:
            payments.release_payment(
                session, payment, status=PaymentStatus.CANCELLED, reason=reason, notify=False
            )
        _cancel_unpaid(session, _unpaid_orders(session, order), actor=actor, reason=reason)
        return order
    _release_stock(session, order, reason=reason)
    if order.total_amount > 0 and order.payment_id is not None:
        _allocate(session, order, reverse=True)
        payment = _locked_payment(session, order.payment_id)
        payments.refund_payment(
            session, payment, amount=order.total_amount, order_id=order.id, reason=reason, actor_id=actor.id
        )
        order.refunded_amount = order.total_amount
    _transition(session, order, "cancel", actor=actor, reason=reason)
    session.flush()
    return order


def _locked_payment(session: Session, payment_id: int | None) -> Payment | None:
    if payment_id is None:
        return None
    return session.scalars(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _unpaid_orders(session: Session, order: Order) -> list[Order]:
    if order.payment_id is None:
        return [order]
    return list(
        session.scalars(
            select(Order)
            .where(Order.payment_id == order.payment_id, Order.status == OrderStatus.PENDING_PAYMENT)
            .order_by(Order.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _cancel_unpaid(session: Session, orders: list[Order], *, actor: OrderActor, reason: str) -> None:
    for each in orders:
        _release_stock(session, each, reason=reason)
        _transition(session, each, "cancel", actor=actor, reason=reason)
    session.flush()


def cancel_for_failed_payment(session: Session, payment: Payment) -> int:
    """The gateway refused the payment (its holds are already released): cancel its orders, free their stock."""
    orders = session.scalars(
        select(Order)
        .where(Order.payment_id == payment.id, Order.status == OrderStatus.PENDING_PAYMENT)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    _cancel_unpaid(session, list(orders), actor=SYSTEM, reason="payment failed")
    return len(orders)


def expire_unpaid(session: Session, *, now: datetime | None = None, limit: int = 200) -> int:
    """Cancel orders whose payment deadline passed: release held tenders, then stock. Returns orders cancelled.

    The payment row is locked with SKIP LOCKED, so a gateway callback capturing that payment right now wins
    (or waits), and the job never cancels a payment being paid.
    """
    now = now or utcnow()
    payment_ids = session.scalars(
        select(Order.payment_id)
        .where(Order.status == OrderStatus.PENDING_PAYMENT, Order.pay_deadline < now)
        .group_by(Order.payment_id)
        .limit(limit)
    ).all()
    cancelled = 0
    for payment_id in payment_ids:
        if payment_id is not None:
            payment = session.scalars(
                select(Payment)
                .where(Payment.id == payment_id)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            ).one_or_none()
            if payment is None or payment.status is not PaymentStatus.PENDING:
                continue  # being paid right now, or already settled one way or the other
            payments.release_payment(
                session, payment, status=PaymentStatus.EXPIRED, reason="timeout", notify=False
            )
        orders = session.scalars(
            select(Order)
            .where(
                Order.payment_id.is_(None) if payment_id is None else Order.payment_id == payment_id,
                Order.status == OrderStatus.PENDING_PAYMENT,
                Order.pay_deadline < now,
            )
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        _cancel_unpaid(session, list(orders), actor=SYSTEM, reason="payment timeout")
        cancelled += len(orders)
    return cancelled
