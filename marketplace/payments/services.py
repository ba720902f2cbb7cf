"""Payments: open (hold the internal tenders), capture, release and refund, every movement through the ledger.

A payment pays one checkout with tenders applied in the order the shopper gave them (gift card, points,
balance, ...); what they leave unpaid becomes the gateway tender. Internal tenders are held when the order is
placed (source → holds), captured when the payment completes (holds → ``sales_clearing``), released if the
gateway part fails or times out (holds → source), and refunded in reverse order (``sales_clearing`` → source).

Points are their own unit: held and captured among the points accounts (``customer_points:<user>`` →
``points_holds`` → ``points_issued``), while the money they stand for comes from ``points_funding``.

Services flush; the caller commits. Each function that changes a payment locks its row first, so a callback, the
timeout job and a refund racing for one payment run one after the other.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core import audit
from marketplace.core.db import Money, utcnow
from marketplace.payments import accounts
from marketplace.payments.callbacks import receive_callback
from marketplace.payments.errors import (
    DuplicateGiftCard,
    GatewayNotPaid,
    GiftCardEmpty,
    InsufficientBalance,
    InsufficientFunds,
    InsufficientPoints,
    InvalidAmount,
    InvalidTender,
    NotRefundable,
    PaymentNotPending,
    ShopperRequired,
    TendersExceedAmount,
)
from marketplace.payments.gateway import get_provider
from marketplace.payments.gift_cards import authenticate_gift_card, normalise_code
from marketplace.payments.ledger import account, balance, post
from marketplace.payments.models import (
    AccountKind,
    GiftCard,
    Payment,
    PaymentStatus,
    PaymentTender,
    Refund,
    TenderKind,
    TenderStatus,
)
from marketplace.payments.signals import payment_captured, payment_released

__all__ = [
    "TenderRequest",
    "capture_payment",
    "gateway_page_url",
    "open_payment",
    "points_for_amount",
    "points_value",
    "receive_callback",
    "refund_payment",
    "release_payment",
]

DEFAULT_PROVIDER = "simulated"
RELEASE_STATUSES = (PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.CANCELLED)


@dataclass
class TenderRequest:
    """One way the shopper chose to pay part of a payment.

    Gift card: ``code`` + ``pin``, takes ``amount`` (or, if None, as much as the card and the amount due allow).
    Points: ``points`` to spend (None: as many as needed and available). Balance: ``amount`` (None: as much as
    the balance and the amount due allow). Gateway: nothing to give; the remainder always goes to the gateway.
    """

    kind: TenderKind
    amount: int | None = None
    points: int | None = None
    code: str = ""
    pin: str = ""


# --- points and money ---------------------------------------------------------------------------


def _points_per_yuan() -> int:
    return int(current_app.config["POINTS_PER_YUAN"])


def points_value(points: int) -> int:
    """What ``points`` are worth in fen (rounded down)."""
    return points * 100 // _points_per_yuan()


def points_for_amount(amount: int) -> int:
    """The fewest points worth at least ``amount`` fen."""
    return -(-amount * _points_per_yuan() // 100)


# --- opening a payment: validate, then hold ------------------------------------------------------


@dataclass
class _Plan:
    kind: TenderKind
    amount: int
    points: int = 0
    card: GiftCard | None = None


def new_payment_number(now: datetime) -> str:
    return "P" + now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


def open_payment(
    session: Session,
    *,
    shopper_id: int | None,
    amount: int,
    checkout_id: int | None,
    tenders: list[TenderRequest],
    expires_at: datetime | None,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> Payment:
    """A pending payment of ``amount`` with its internal tenders held, in the order given; what they leave
    unpaid becomes a gateway tender awaiting the provider. Refused whole (nothing held) on any bad tender.

    Two payments racing for one gift card or balance cannot both spend it: each hold is a conditional UPDATE
    of the source's balance (see ledger.post), and the loser is refused.
    """
    now = now or utcnow()
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise InvalidAmount()
    plans = _plan(session, shopper_id=shopper_id, amount=amount, tenders=tenders, now=now)
    with session.begin_nested():  # a refused hold undoes the ones before it, whatever the caller does next
        payment = Payment(
            number=new_payment_number(now),
            checkout_id=checkout_id,
            shopper_id=shopper_id,
            amount=amount,
            refunded_amount=0,
            status=PaymentStatus.PENDING,
            expires_at=expires_at,
        )
        session.add(payment)
        session.flush()
        sequence = 0
        for plan in plans:
            sequence += 1
            session.add(_hold(session, payment, plan, sequence, shopper_id))
        remainder = amount - sum(plan.amount for plan in plans)
        if remainder > 0:
            session.add(
                PaymentTender(
                    payment_id=payment.id,
                    sequence=sequence + 1,
                    kind=TenderKind.GATEWAY,
                    amount=remainder,
                    points=0,
                    refunded_amount=0,
                    status=TenderStatus.AWAITING,
                    account_code=AccountKind.GATEWAY_CLEARING.value,
                    provider=DEFAULT_PROVIDER,
                )
            )
        session.flush()
    session.refresh(payment, ["tenders"])
    return payment


def _plan(
    session: Session, *, shopper_id: int | None, amount: int, tenders: list[TenderRequest], now: datetime
) -> list[_Plan]:
    """Check every tender before anything is held: amounts, the shopper, gift card codes and PINs."""
    remaining = amount
    plans: list[_Plan] = []
    cards: set[str] = set()
    for request in tenders:
        kind = TenderKind(request.kind)
        if kind is TenderKind.GATEWAY:
            continue  # the remainder always goes to the gateway
        wanted = request.amount
        if wanted is not None and (not isinstance(wanted, int) or isinstance(wanted, bool) or wanted <= 0):
            raise InvalidAmount()
        if remaining == 0 or (wanted is not None and wanted > remaining):
            raise TendersExceedAmount()
        if kind is TenderKind.GIFT_CARD:
            code = normalise_code(request.code)
            if code in cards:
                raise DuplicateGiftCard()
            cards.add(code)
            card = authenticate_gift_card(session, code=code, pin=request.pin, now=now)
            take = min(wanted or remaining, balance(session, card.account_code))
            if take <= 0:
                raise GiftCardEmpty()
            plans.append(_Plan(kind, take, card=card))
        elif kind is TenderKind.BALANCE:
            if shopper_id is None:
                raise ShopperRequired()
            available = balance(session, accounts.balance_code(shopper_id))
            take = wanted if wanted is not None else min(remaining, available)
            if take <= 0 or take > available:
                raise InsufficientBalance()
            plans.append(_Plan(kind, take))
        elif kind is TenderKind.POINTS:
            if shopper_id is None:
                raise ShopperRequired()
            available = balance(session, accounts.points_code(shopper_id))
            if request.points is None:
                take = min(remaining, points_value(available))
            else:
                if not isinstance(request.points, int) or request.points <= 0:
                    raise InvalidTender()
                take = points_value(request.points)
                if take > remaining:
                    raise TendersExceedAmount()
            if take <= 0:
                raise InsufficientPoints() if request.points is None else InvalidTender()
            points = points_for_amount(take)
            if points > available:
                raise InsufficientPoints()
            plans.append(_Plan(kind, take, points=points))
        remaining -= plans[-1].amount
    return plans


def _hold(
    session: Session, payment: Payment, plan: _Plan, sequence: int, shopper_id: int | None
) -> PaymentTender:
    tender = PaymentTender(
        payment_id=payment.id,
        sequence=sequence,
        kind=plan.kind,
        amount=plan.amount,
        points=plan.points,
        refunded_amount=0,
        status=TenderStatus.HELD,
    )
    memo = f"payment {payment.number}"
    try:
        if plan.kind is TenderKind.POINTS:
            source = accounts.shopper_points(session, shopper_id)  # type: ignore[arg-type]
            holds = accounts.platform(session, AccountKind.POINTS_HOLDS)
            amount = plan.points
        else:
            if plan.kind is TenderKind.GIFT_CARD:
                source = account(session, plan.card.account_code, AccountKind.GIFT_CARD)  # type: ignore[union-attr]
                tender.gift_card_id = plan.card.id  # type: ignore[union-attr]
                if shopper_id is not None and plan.card.owner_id is None:  # type: ignore[union-attr]
                    plan.card.owner_id = shopper_id  # type: ignore[union-attr]
            else:
                source = accounts.shopper_balance(session, shopper_id)  # type: ignore[arg-type]
            holds = accounts.platform(session, AccountKind.PAYMENT_HOLDS)
            amount = plan.amount
        post(
            session, kind="hold", lines=[(source, -amount), (holds, amount)], memo=memo, payment_id=payment.id
        )
    except InsufficientFunds:  # another payment spent it between the check and the hold
        raise {
            TenderKind.GIFT_CARD: GiftCardEmpty,
            TenderKind.POINTS: InsufficientPoints,
            TenderKind.BALANCE: InsufficientBalance,
        }[plan.kind]() from None
    tender.account_code = source.code
    return tender


# --- capture, release ------------------------------------------------------------------------------


def _locked(session: Session, payment: Payment) -> Payment:
    """The payment re-read under a row lock (FOR UPDATE), with fresh tenders."""
    locked = session.scalars(
        select(Payment)
        .where(Payment.id == payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    session.refresh(locked, ["tenders"])
    return locked


def capture_payment(session: Session, payment: Payment, *, provider_txn_id: str | None = None) -> bool:
    """Take every held tender and the gateway part into ``sales_clearing``; the payment is PAID and
    ``payment_captured`` is sent. False (nothing happens) if it was already paid."""
    payment = _locked(session, payment)
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return False
    if payment.status is not PaymentStatus.PENDING:
        raise PaymentNotPending(number=payment.number, status=payment.status.value)
    awaiting = [t for t in payment.tenders if t.status is TenderStatus.AWAITING]
    if awaiting and not provider_txn_id:
        raise GatewayNotPaid(number=payment.number)
    provider_txn_id = provider_txn_id[:64] if provider_txn_id else None
    clearing = accounts.platform(session, AccountKind.SALES_CLEARING)
    memo = f"payment {payment.number}"
    for tender in payment.tenders:
        if tender.status is TenderStatus.HELD and tender.kind is TenderKind.POINTS:
            lines = [
                (accounts.platform(session, AccountKind.POINTS_HOLDS), -tender.points),
                (accounts.platform(session, AccountKind.POINTS_ISSUED), tender.points),
                (accounts.platform(session, AccountKind.POINTS_FUNDING), -tender.amount),
                (clearing, tender.amount),
            ]
        elif tender.status is TenderStatus.HELD:
            lines = [
                (accounts.platform(session, AccountKind.PAYMENT_HOLDS), -tender.amount),
                (clearing, tender.amount),
            ]
        elif tender.status is TenderStatus.AWAITING:
            lines = [
                (accounts.platform(session, AccountKind.GATEWAY_CLEARING), -tender.amount),
                (clearing, tender.amount),
            ]
            tender.provider_txn_id = provider_txn_id
        else:
            continue
        post(session, kind="capture", lines=lines, memo=f"{memo} {tender.kind.value}", payment_id=payment.id)
        tender.status = TenderStatus.CAPTURED
    payment.status = PaymentStatus.PAID
    payment.paid_at = utcnow()
    session.flush()
    payment_captured.send(payment, session=session)
    return True


def release_payment(
    session: Session, payment: Payment, *, status: PaymentStatus, reason: str, notify: bool = True
) -> bool:
    """Give every held tender back to where it came from (in reverse order); the gateway part fails.
    ``payment_released`` is sent unless ``notify`` is False. False (nothing happens) if no longer pending."""
    if status not in RELEASE_STATUSES:
        raise ValueError(f"a released payment is failed, expired or cancelled, not {status}")
    payment = _locked(session, payment)
    if payment.status is not PaymentStatus.PENDING:
        return False
    memo = f"payment {payment.number}: {reason}"[:255]
    for tender in reversed(payment.tenders):
        if tender.status is TenderStatus.HELD:
            if tender.kind is TenderKind.POINTS:
                holds = accounts.platform(session, AccountKind.POINTS_HOLDS)
                source = account(session, tender.account_code, AccountKind.CUSTOMER_POINTS)
                amount = tender.points
            else:
                holds = accounts.platform(session, AccountKind.PAYMENT_HOLDS)
                source = account(session, tender.account_code, _SOURCE_KIND[tender.kind])
                amount = tender.amount
            post(
                session,
                kind="release",
                lines=[(holds, -amount), (source, amount)],
                memo=memo,
                payment_id=payment.id,
            )
            tender.status = TenderStatus.RELEASED
        elif tender.status is TenderStatus.AWAITING:
            tender.status = TenderStatus.FAILED
    payment.status = status
    session.flush()
    if notify:
        payment_released.send(payment, session=session)
    return True


_SOURCE_KIND = {
    TenderKind.GIFT_CARD: AccountKind.GIFT_CARD,
    TenderKind.BALANCE: AccountKind.CUSTOMER_BALANCE,
    TenderKind.POINTS: AccountKind.CUSTOMER_POINTS,
}


# --- refunds ---------------------------------------------------------------------------------------


def refund_payment(
    session: Session,
    payment: Payment,
    *,
    amount: int,
    order_id: int | None,
    reason: str,
    actor_id: int | None = None,
) -> Refund:
    """Give ``amount`` back from ``sales_clearing`` to the captured tenders, last applied first (the gateway,
    then the balance, points, gift card, as the payment was sequenced). REFUNDED once everything is back."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount()
    payment = _locked(session, payment)
    refundable = payment.amount - payment.refunded_amount if payment.status is PaymentStatus.PAID else 0
    if amount > refundable:
        raise NotRefundable(refundable=Money(refundable).format(), number=payment.number)
    clearing = accounts.platform(session, AccountKind.SALES_CLEARING)
    left = amount
    memo = f"payment {payment.number}: {reason}"
    for tender in sorted(payment.tenders, key=lambda t: t.sequence, reverse=True):
        if left == 0:
            break
        take = min(left, tender.amount - tender.refunded_amount)
        if tender.status is not TenderStatus.CAPTURED or take <= 0:
            continue
        if tender.kind is TenderKind.GATEWAY:
            reference = get_provider(tender.provider or DEFAULT_PROVIDER).refund(tender, take)
            lines = [(clearing, -take), (accounts.platform(session, AccountKind.GATEWAY_CLEARING), take)]
            line_memo = f"{memo} (gateway refund {reference})"
        elif tender.kind is TenderKind.POINTS:
            points_before = tender.points * tender.refunded_amount // tender.amount
            points_after = tender.points * (tender.refunded_amount + take) // tender.amount
            lines = [(clearing, -take), (accounts.platform(session, AccountKind.POINTS_FUNDING), take)]
            if points_after > points_before:
                lines += [
                    (accounts.platform(session, AccountKind.POINTS_ISSUED), -(points_after - points_before)),
                    (
                        account(session, tender.account_code, AccountKind.CUSTOMER_POINTS),
                        points_after - points_before,
                    ),
                ]
            line_memo = memo
        else:
            lines = [
                (clearing, -take),
                (account(session, tender.account_code, _SOURCE_KIND[tender.kind]), take),
            ]
            line_memo = memo
        post(
            session,
            kind="refund",
            lines=lines,
            memo=line_memo[:255],
            payment_id=payment.id,
            order_id=order_id,
        )
        tender.refunded_amount += take
        left -= take
    payment.refunded_amount += amount
    if payment.refunded_amount == payment.amount:
        payment.status = PaymentStatus.REFUNDED
    refund = Refund(
        payment_id=payment.id, order_id=order_id, amount=amount, reason=reason[:255], actor_id=actor_id
    )
    session.add(refund)
    audit.record(
        session, "payment.refund", payment, changes={"amount": Money(amount).format()}, reason=reason
    )
    session.flush()
    return refund


# --- the gateway ---------------------------------------------------------------------------------


def gateway_page_url(payment: Payment, return_url: str) -> str | None:
    """Where to send the shopper to pay the gateway part; None if there is nothing left to pay there."""
    for tender in payment.tenders:
        if tender.kind is TenderKind.GATEWAY and tender.status is TenderStatus.AWAITING:
            return get_provider(tender.provider or DEFAULT_PROVIDER).hosted_page_url(
                payment, tender, return_url
            )
    return None
