"""Payments with mixed tenders: held when opened, captured, released, refunded in reverse, the books balanced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.db import utcnow
from marketplace.extensions import db
from marketplace.payments import errors
from marketplace.payments.accounts import balance_code, gift_card_code, points_code
from marketplace.payments.gift_cards import PIN_ATTEMPTS, set_gift_card_active, unlock_gift_card
from marketplace.payments.models import (
    GiftCard,
    JournalEntry,
    Payment,
    PaymentStatus,
    TenderKind,
    TenderStatus,
)
from marketplace.payments.services import (
    TenderRequest,
    capture_payment,
    open_payment,
    refund_payment,
    release_payment,
)
from marketplace.payments.signals import payment_captured, payment_released
from tests.payments.helpers import assert_books_balance, balances, funded_shopper, gift_card

CARD = "GC-TEST-0001"


def _mixed(shopper_id: int, amount: int = 20_000):
    """¥50 gift card (all of it), 1,000 points (¥10), ¥30 balance; the rest (¥110) through the gateway."""
    return dict(
        shopper_id=shopper_id,
        amount=amount,
        checkout_id=None,
        tenders=[
            TenderRequest(TenderKind.GIFT_CARD, code=CARD.lower(), pin="123456"),
            TenderRequest(TenderKind.POINTS, points=1_000),
            TenderRequest(TenderKind.BALANCE, amount=3_000),
            TenderRequest(TenderKind.GATEWAY),
        ],
        expires_at=utcnow() + timedelta(minutes=30),
    )


@pytest.fixture
def shopper(app):
    shopper = funded_shopper(app, balance_fen=10_000, points=2_000)
    gift_card(app, CARD, 5_000)
    return shopper


def _sources(session, shopper):
    return balances(session, gift_card_code(CARD), points_code(shopper.id), balance_code(shopper.id))


def test_mixed_tenders_are_held_in_order_and_the_rest_awaits_the_gateway(session, shopper):
    payment = open_payment(session, **_mixed(shopper.id))

    assert [(t.sequence, t.kind, t.amount, t.points, t.status) for t in payment.tenders] == [
        (1, TenderKind.GIFT_CARD, 5_000, 0, TenderStatus.HELD),
        (2, TenderKind.POINTS, 1_000, 1_000, TenderStatus.HELD),
        (3, TenderKind.BALANCE, 3_000, 0, TenderStatus.HELD),
        (4, TenderKind.GATEWAY, 11_000, 0, TenderStatus.AWAITING),
    ]
    assert payment.tenders[3].provider == "simulated"
    assert payment.status is PaymentStatus.PENDING
    assert _sources(session, shopper) == [0, 1_000, 7_000]
    assert balances(session, "payment_holds", "points_holds") == [8_000, 1_000]
    assert session.scalar(select(GiftCard.owner_id).where(GiftCard.code == CARD)) == shopper.id
    assert_books_balance(session)


def test_capture_moves_every_tender_to_sales_clearing_once_and_tells_the_listeners(session, shopper):
    payment = open_payment(session, **_mixed(shopper.id))
    heard = []
    with payment_captured.connected_to(lambda sender, session: heard.append(sender.number)):
        assert capture_payment(session, payment, provider_txn_id="T-1") is True
        assert capture_payment(session, payment, provider_txn_id="T-1") is False

    assert heard == [payment.number]
    assert payment.status is PaymentStatus.PAID and payment.paid_at is not None
    assert {t.status for t in payment.tenders} == {TenderStatus.CAPTURED}
    assert payment.tenders[3].provider_txn_id == "T-1"
    assert balances(session, "sales_clearing", "payment_holds", "points_holds", "gateway_clearing") == [
        20_000,
        0,
        0,
        -11_000,
    ]
    assert balances(session, "points_funding", "points_issued") == [-1_000, -1_000]
    entries = session.scalars(select(JournalEntry).where(JournalEntry.payment_id == payment.id)).all()
    assert [e.kind for e in entries] == ["hold"] * 3 + ["capture"] * 4
    assert_books_balance(session)


def test_a_gateway_part_is_not_captured_without_the_gateways_transaction(session, shopper):
    payment = open_payment(session, **_mixed(shopper.id))

    with pytest.raises(errors.GatewayNotPaid):
        capture_payment(session, payment)


def test_release_gives_every_held_tender_back_and_fails_the_gateway_part(session, shopper):
    payment = open_payment(session, **_mixed(shopper.id))
    heard = []
    with payment_released.connected_to(lambda sender, session: heard.append(sender.number)):
        assert release_payment(session, payment, status=PaymentStatus.FAILED, reason="declined") is True
        assert release_payment(session, payment, status=PaymentStatus.EXPIRED, reason="timeout") is False

    assert heard == [payment.number]
    assert payment.status is PaymentStatus.FAILED
    assert [t.status for t in payment.tenders] == [TenderStatus.RELEASED] * 3 + [TenderStatus.FAILED]
    assert _sources(session, shopper) == [5_000, 2_000, 10_000]
    assert balances(session, "payment_holds", "points_holds") == [0, 0]
    assert_books_balance(session)
    with pytest.raises(errors.PaymentNotPending):
        capture_payment(session, payment, provider_txn_id="late")


def test_the_timeout_job_releases_without_a_signal(session, shopper):
    payment = open_payment(session, **_mixed(shopper.id))
    heard = []
    with payment_released.connected_to(lambda sender, session: heard.append(sender.number)):
        release_payment(session, payment, status=PaymentStatus.EXPIRED, reason="timeout", notify=False)

    assert heard == []
    assert payment.status is PaymentStatus.EXPIRED


def test_refunds_go_back_in_reverse_order_to_where_they_came_from(session, shopper):
    payment = open_payment(session, **_mixed(shopper.id))
    capture_payment(session, payment, provider_txn_id="T-2")

    first = refund_payment(session, payment, amount=12_000, order_id=7, reason="order cancelled")
    assert [t.refunded_amount for t in payment.tenders] == [0, 0, 1_000, 11_000]  # gateway, then balance
    assert (payment.refunded_amount, payment.status, first.order_id) == (12_000, PaymentStatus.PAID, 7)
    assert _sources(session, shopper) == [0, 1_000, 8_000]
    assert_books_balance(session)

    refund_payment(session, payment, amount=8_000, order_id=8, reason="order cancelled")
    assert [t.refunded_amount for t in payment.tenders] == [5_000, 1_000, 3_000, 11_000]
    assert payment.status is PaymentStatus.REFUNDED
    assert _sources(session, shopper) == [5_000, 2_000, 10_000]
    assert balances(session, "sales_clearing", "gateway_clearing", "points_funding") == [0, 0, 0]
    assert_books_balance(session)

    with pytest.raises(errors.NotRefundable):
        refund_payment(session, payment, amount=1, order_id=8, reason="again")


def test_a_partial_points_refund_returns_the_points_in_proportion(session, shopper):
    payment = open_payment(
        session,
        shopper_id=shopper.id,
        amount=1_000,
        checkout_id=None,
        tenders=[TenderRequest(TenderKind.POINTS, points=1_000)],
        expires_at=None,
    )
    capture_payment(session, payment)

    refund_payment(session, payment, amount=333, order_id=None, reason="one item")
    refund_payment(session, payment, amount=667, order_id=None, reason="the rest")

    assert balances(session, points_code(shopper.id)) == [2_000]
    assert_books_balance(session)


def test_more_than_was_paid_cannot_be_refunded(session, shopper):
    payment = open_payment(session, **_mixed(shopper.id))
    with pytest.raises(errors.NotRefundable):  # not captured yet: nothing to refund
        refund_payment(session, payment, amount=1, order_id=None, reason="x")
    capture_payment(session, payment, provider_txn_id="T-3")

    with pytest.raises(errors.NotRefundable):
        refund_payment(session, payment, amount=20_001, order_id=None, reason="x")
    with pytest.raises(errors.InvalidAmount):
        refund_payment(session, payment, amount=0, order_id=None, reason="x")


def test_a_gift_card_pays_up_to_its_balance_and_internal_tenders_alone_need_no_gateway(session, shopper):
    payment = open_payment(
        session,
        shopper_id=shopper.id,
        amount=3_000,
        checkout_id=None,
        tenders=[TenderRequest(TenderKind.GIFT_CARD, code=CARD, pin="123456")],
        expires_at=None,
    )
    assert [(t.kind, t.amount) for t in payment.tenders] == [(TenderKind.GIFT_CARD, 3_000)]
    assert capture_payment(session, payment) is True
    assert balances(session, gift_card_code(CARD), "sales_clearing") == [2_000, 3_000]


def test_a_payment_of_nothing_has_no_tenders_and_is_captured_without_entries(session, shopper):
    payment = open_payment(
        session, shopper_id=shopper.id, amount=0, checkout_id=None, tenders=[], expires_at=None
    )

    assert payment.tenders == []
    assert capture_payment(session, payment) is True
    assert payment.status is PaymentStatus.PAID
    assert (
        session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.payment_id == payment.id)
        )
        == 0
    )


@pytest.mark.parametrize(
    ("tenders", "amount", "refusal"),
    [
        ([TenderRequest(TenderKind.BALANCE, amount=10_001)], 20_000, errors.InsufficientBalance),
        ([TenderRequest(TenderKind.POINTS, points=2_001)], 20_000, errors.InsufficientPoints),
        ([TenderRequest(TenderKind.BALANCE, amount=600)], 500, errors.TendersExceedAmount),
        ([TenderRequest(TenderKind.POINTS, points=1_000)], 500, errors.TendersExceedAmount),
        (
            [
                TenderRequest(TenderKind.GIFT_CARD, code=CARD, pin="123456"),
                TenderRequest(TenderKind.BALANCE, amount=1),
            ],
            5_000,
            errors.TendersExceedAmount,
        ),
        (
            [
                TenderRequest(TenderKind.GIFT_CARD, code=CARD, pin="123456"),
                TenderRequest(TenderKind.GIFT_CARD, code=CARD, pin="123456"),
            ],
            9_000,
            errors.DuplicateGiftCard,
        ),
        ([TenderRequest(TenderKind.GIFT_CARD, code="GC-NOPE", pin="123456")], 500, errors.GiftCardUnknown),
        ([TenderRequest(TenderKind.BALANCE, amount=0)], 500, errors.InvalidAmount),
        ([], -1, errors.InvalidAmount),
    ],
)
def test_a_bad_tender_is_refused_and_nothing_is_held(app, shopper, tenders, amount, refusal):
    with app.app_context(), acting_as(SYSTEM):
        with pytest.raises(refusal):
            open_payment(
                db.session,
                shopper_id=shopper.id,
                amount=amount,
                checkout_id=None,
                tenders=tenders,
                expires_at=None,
            )
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
        assert _sources(db.session, shopper) == [5_000, 2_000, 10_000]
        assert_books_balance(db.session)


def test_a_guest_pays_with_a_gift_card_but_not_with_a_balance(session, shopper):
    with pytest.raises(errors.ShopperRequired):
        open_payment(
            session,
            shopper_id=None,
            amount=500,
            checkout_id=None,
            tenders=[TenderRequest(TenderKind.BALANCE, amount=500)],
            expires_at=None,
        )
    payment = open_payment(
        session,
        shopper_id=None,
        amount=500,
        checkout_id=None,
        tenders=[TenderRequest(TenderKind.GIFT_CARD, code=CARD, pin="123456")],
        expires_at=None,
    )
    assert payment.tenders[0].amount == 500


def _try_pin(app, pin: str) -> Exception | None:
    """One payment attempt in its own transaction, rolled back when refused (as a checkout would)."""
    with app.app_context(), acting_as(SYSTEM):
        try:
            open_payment(
                db.session,
                shopper_id=None,
                amount=100,
                checkout_id=None,
                tenders=[TenderRequest(TenderKind.GIFT_CARD, code=CARD, pin=pin)],
                expires_at=None,
            )
        except errors.DomainError as exc:
            db.session.rollback()
            return exc
        db.session.commit()
        return None


def _failures(app) -> int:
    with app.app_context():
        return db.session.scalar(select(GiftCard.failed_pin_attempts).where(GiftCard.code == CARD))


def test_wrong_pins_are_counted_despite_the_rollback_and_the_fifth_locks_the_card(app, shopper):
    refusals = [_try_pin(app, "000000") for _ in range(PIN_ATTEMPTS)]

    assert [type(r) for r in refusals] == [errors.GiftCardWrongPin] * 4 + [errors.GiftCardLocked]
    assert [r.facts.get("left") for r in refusals[:4]] == [4, 3, 2, 1]
    assert _failures(app) == PIN_ATTEMPTS
    assert isinstance(_try_pin(app, "123456"), errors.GiftCardLocked)  # even the right PIN now

    with app.app_context(), acting_as(SYSTEM):
        unlock_gift_card(db.session, db.session.scalar(select(GiftCard)), reason="owner called")
        db.session.commit()
    assert _try_pin(app, "123456") is None


def test_a_right_pin_resets_the_count(app, shopper):
    _try_pin(app, "000000")
    _try_pin(app, "000001")
    assert _failures(app) == 2

    assert _try_pin(app, "123456") is None
    assert _failures(app) == 0


def test_an_expired_or_deactivated_card_cannot_pay(app, shopper):
    gift_card(app, "GC-OLD-0001", 1_000, days=-1)
    with app.app_context(), acting_as(SYSTEM):
        with pytest.raises(errors.GiftCardExpired):
            open_payment(
                db.session,
                shopper_id=None,
                amount=100,
                checkout_id=None,
                tenders=[TenderRequest(TenderKind.GIFT_CARD, code="GC-OLD-0001", pin="123456")],
                expires_at=None,
            )
        db.session.rollback()
        card = db.session.scalar(select(GiftCard).where(GiftCard.code == CARD))
        set_gift_card_active(db.session, card, active=False, reason="reported stolen")
        db.session.commit()
    assert isinstance(_try_pin(app, "123456"), errors.GiftCardInactive)
