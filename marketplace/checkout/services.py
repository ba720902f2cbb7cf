"""Turning a cart (or a staff-entered list) into orders, one per shop, paid by one payment.

The order of work inside the one transaction matters: claim the idempotency key first (a double submit stops
there), then write orders and hold the tenders, and reserve stock LAST — the stock rows are the hot rows of a
flash sale, so they are locked for the shortest possible time before the commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.checkout.cart import CartOwner, remove_bought
from marketplace.checkout.errors import CartEmpty, LinesUnavailable, NotFreeOfCharge, PriceChanged
from marketplace.checkout.models import Checkout
from marketplace.checkout.queries import CheckoutQuote, Shortage, quote, shortages
from marketplace.core.db import Money, utcnow
from marketplace.core.errors import DomainError
from marketplace.crm.queries import get_address
from marketplace.identity.models import User
from marketplace.orders import services as orders
from marketplace.orders.drafts import DeliveryAddress, Invoice, LineDraft, OrderActor, OrderDraft
from marketplace.orders.models import Order, OrderChannel
from marketplace.payments import services as payments
from marketplace.payments.models import Payment, TenderKind, TenderStatus
from marketplace.payments.services import TenderRequest


@dataclass
class TenderPreview:
    """How the total would be split, for the checkout summary; nothing is held until the order is placed."""

    lines: list[tuple[TenderKind, int]]
    online: int  # left for the gateway
    error: str = ""


def preview_tenders(
    session: Session, *, shopper_id: int, total: int, tenders: list[TenderRequest]
) -> TenderPreview:
    """Apply the requested tenders in order against ``total`` as open_payment would (gift card up to its balance,
    points by the conversion rate, balance as asked), each capped by what is still left."""
    from marketplace.payments.gift_cards import check_gift_card
    from marketplace.payments.queries import wallet

    mine = wallet(session, shopper_id)
    left, lines = total, []
    try:
        for tender in tenders:
            if tender.kind is TenderKind.GIFT_CARD:
                _card, available = check_gift_card(session, code=tender.code, pin=tender.pin)
            elif tender.kind is TenderKind.POINTS:
                available = payments.points_value(min(tender.points or 0, mine.points))
            else:
                available = min(tender.amount or 0, mine.balance)
            used = min(available, left)
            if used:
                lines.append((tender.kind, used))
                left -= used
    except DomainError as exc:
        return TenderPreview(lines, left, exc.text)
    return TenderPreview(lines, left)


PROBLEM_LABELS = {
    "unavailable": "no longer on sale",
    "sold_out": "sold out",
    "short": "only {available} left",
}


@dataclass
class CheckoutRequest:
    """What the checkout form submits."""

    address_id: int
    idempotency_key: str
    expected_total: int  # the total the shopper saw; a different one now means "confirm the new price"
    notes: dict[int, str] = field(default_factory=dict)  # shop id -> note
    invoice: Invoice = field(default_factory=Invoice)
    tenders: list[TenderRequest] = field(default_factory=list)


@dataclass
class CheckoutResult:
    checkout: Checkout
    orders: list[Order]
    payment: Payment
    created: bool  # False: this idempotency key was submitted before and these are its orders

    @property
    def awaiting_gateway(self) -> bool:
        return any(
            t.kind is TenderKind.GATEWAY and t.status is TenderStatus.AWAITING for t in self.payment.tenders
        )


def _existing(session: Session, shopper_id: int | None, key: str) -> CheckoutResult | None:
    checkout = session.scalar(
        select(Checkout).where(Checkout.shopper_id == shopper_id, Checkout.idempotency_key == key)
    )
    if checkout is None:
        return None
    placed = list(session.scalars(select(Order).where(Order.checkout_id == checkout.id).order_by(Order.id)))
    return CheckoutResult(checkout, placed, session.get(Payment, checkout.payment_id), created=False)


def _claim(session: Session, checkout: Checkout) -> bool:
    """Insert the checkout row in a savepoint: False when a concurrent submit with the same key got there first."""
    try:
        with session.begin_nested():
            session.add(checkout)
            session.flush()
    except IntegrityError:
        return False
    return True


def _line_drafts(shop) -> list[LineDraft]:
    return [
        LineDraft(
            sku_id=item.sku.id,
            product_id=item.product.id,
            title=item.product.title,
            unit_price=item.price,
            quantity=item.line.quantity,
            sku_code=item.sku.code,
            spec=item.sku.spec_label if item.sku.spec_values else "",
            image_key=item.product.images[0].key if item.product.images else None,
            weight_grams=item.weight_g,
        )
        for item in shop.group.chosen
    ]


def _refuse_shortages(found: list[Shortage]) -> None:
    if found:
        details = "; ".join(
            f"{item.title} ({PROBLEM_LABELS[item.problem].format(available=item.available)})"
            for item in found
        )
        raise LinesUnavailable(details=details)


def _check_quote(current: CheckoutQuote, expected_total: int) -> None:
    _refuse_shortages(
        [Shortage(item.product.title, item.problem, item.available) for item in current.cart.problems]
    )
    if not current.shops:
        raise CartEmpty()
    if current.total_amount != expected_total:
        raise PriceChanged(total=Money(current.total_amount).format(), amount=current.total_amount)


def payment_deadline(now: datetime | None = None) -> datetime:
    return (now or utcnow()) + timedelta(minutes=current_app.config["ORDER_PAYMENT_TIMEOUT_MINUTES"])


def place_checkout(session: Session, *, shopper: User, request: CheckoutRequest) -> CheckoutResult:
    """Create one order per shop and one payment from the shopper's chosen cart lines.

    Refused, changing nothing, when a line cannot be bought (named), the total moved since the shopper saw it,
    a tender is refused, or stock ran out (InsufficientStock names the SKU and what is left).
    """
    seen = _existing(session, shopper.id, request.idempotency_key)
    if seen is not None:
        return seen
    owner = CartOwner(user_id=shopper.id)
    _refuse_shortages(shortages(session, owner))  # the cheap answer first: most flash-sale buyers get this
    address = get_address(session, shopper.id, request.address_id)
    current = quote(session, owner, address)
    _check_quote(current, request.expected_total)
    checkout = Checkout(
        number="C" + orders.new_order_number(),
        shopper_id=shopper.id,
        idempotency_key=request.idempotency_key,
        goods_amount=current.goods_amount,
        shipping_amount=current.shipping_amount,
        total_amount=current.total_amount,
    )
    if not _claim(session, checkout):
        return _existing(session, shopper.id, request.idempotency_key)  # the other submit's orders
    delivery = DeliveryAddress(
        recipient=address.recipient,
        phone=address.phone,
        province=address.province,
        city=address.city,
        district=address.district,
        detail=address.detail,
        postal_code=address.postal_code,
    )
    drafts = [
        OrderDraft(
            tenant_id=shop.merchant.id,
            lines=_line_drafts(shop),
            address=delivery,
            shipping_amount=shop.shipping_amount,
            shipping_method=shop.shipping_method,
            note=request.notes.get(shop.merchant.id, "").strip(),
            email=shopper.email,
            invoice=request.invoice,
        )
        for shop in current.shops
    ]
    result = _place(
        session,
        checkout,
        drafts,
        shopper_id=shopper.id,
        channel=OrderChannel.STOREFRONT,
        actor=OrderActor.of(shopper),
        tenders=request.tenders,
    )
    remove_bought(session, owner, {item.sku.id for item in current.cart.chosen})
    _reserve_and_settle(session, result, actor=OrderActor.of(shopper))
    return result


def _place(
    session: Session,
    checkout: Checkout,
    drafts: list[OrderDraft],
    *,
    shopper_id: int | None,
    channel: OrderChannel,
    actor: OrderActor,
    tenders: list[TenderRequest],
) -> CheckoutResult:
    deadline = payment_deadline()
    placed = [
        orders.create_order(
            session,
            draft,
            shopper_id=shopper_id,
            checkout_id=checkout.id,
            channel=channel,
            pay_deadline=deadline,
            actor=actor,
        )
        for draft in drafts
    ]
    total = sum(order.total_amount for order in placed)
    payment = payments.open_payment(
        session,
        shopper_id=shopper_id,
        amount=total,
        checkout_id=checkout.id,
        tenders=tenders,
        expires_at=deadline,
        actor_id=actor.id,
    )
    checkout.payment_id = payment.id
    for order in placed:
        order.payment_id = payment.id
    session.flush()
    return CheckoutResult(checkout, placed, payment, created=True)


def _reserve_and_settle(session: Session, result: CheckoutResult, *, actor: OrderActor) -> None:
    """Stock last; then, if nothing is left for the gateway, capture at once (which marks the orders paid)."""
    orders.reserve_stock(session, result.orders, actor=actor)
    if not result.awaiting_gateway:
        payments.capture_payment(session, result.payment)


def place_orders(
    session: Session,
    drafts: list[OrderDraft],
    *,
    shopper_id: int | None,
    channel: OrderChannel,
    actor: OrderActor,
    settle: str,
    idempotency_key: str | None = None,
    external_reference: str = "",
) -> list[Order]:
    """Orders entered by staff: phone orders (``settle="pending"``: the shopper pays later in the order
    centre), group-buy imports (``"paid_offline"``: the group-buy platform collected the money, recorded here as
    an external receipt) and gift orders (``"free"``: every amount must be 0)."""
    if settle not in {"pending", "paid_offline", "free"}:
        raise ValueError(f"unknown settle mode {settle!r}")
    if not drafts or not all(draft.lines for draft in drafts):
        raise CartEmpty()
    if settle == "free" and any(draft.total_amount or draft.goods_amount for draft in drafts):
        raise NotFreeOfCharge()
    key = idempotency_key or secrets.token_hex(16)
    seen = _existing(session, shopper_id, key)
    if seen is not None:
        return seen.orders
    checkout = Checkout(
        number="C" + orders.new_order_number(),
        shopper_id=shopper_id,
        idempotency_key=key,
        goods_amount=sum(d.goods_amount for d in drafts),
        shipping_amount=sum(d.shipping_amount for d in drafts),
        total_amount=sum(d.total_amount for d in drafts),
    )
    if not _claim(session, checkout):
        return _existing(session, shopper_id, key).orders
    result = _place(
        session, checkout, drafts, shopper_id=shopper_id, channel=channel, actor=actor, tenders=[]
    )
    orders.reserve_stock(session, result.orders, actor=actor)
    if settle == "free":
        payments.capture_payment(session, result.payment)
    elif settle == "paid_offline":
        payments.capture_payment(
            session, result.payment, provider_txn_id=f"offline:{external_reference or key}"
        )
    return result.orders
