"""Whatever sequence of opens, captures, releases and refunds succeeds or is refused, the books balance and
every payment's tenders account for its money."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.core.errors import DomainError
from marketplace.identity.models import UserKind
from marketplace.payments.ledger import balance
from marketplace.payments.models import Payment, PaymentStatus, TenderKind, TenderStatus
from marketplace.payments.services import (
    TenderRequest,
    capture_payment,
    open_payment,
    refund_payment,
    release_payment,
)
from marketplace.payments.wallet import grant_points, top_up_balance
from tests.factories import make_user
from tests.payments.helpers import assert_books_balance, gift_card

opens = st.tuples(
    st.just("open"),
    st.integers(0, 20_000),  # amount
    st.booleans(),  # with the gift card
    st.sampled_from([None, 0, 500, 4_000]),  # points
    st.sampled_from([None, 0, 1_000, 9_000]),  # balance
)
moves = st.tuples(
    st.sampled_from(["capture", "pay_gateway", "release", "refund"]),
    st.integers(0, 5),  # which payment
    st.integers(1, 20_000),  # refund amount
)


@pytest.fixture
def shopper(app):
    gift_card(app, "GC-PROP-0001", 6_000, pin="111111")  # committed once; each example's spending rolls back
    return make_user(app, UserKind.SHOPPER)


def _tenders(with_card: bool, points: int | None, balance_fen: int | None) -> list[TenderRequest]:
    tenders = []
    if with_card:
        tenders.append(TenderRequest(TenderKind.GIFT_CARD, code="GC-PROP-0001", pin="111111"))
    if points != 0:
        tenders.append(TenderRequest(TenderKind.POINTS, points=points))
    if balance_fen != 0:
        tenders.append(TenderRequest(TenderKind.BALANCE, amount=balance_fen))
    return tenders


def _check(session) -> None:
    assert_books_balance(session)
    held = captured = 0
    for payment in session.scalars(select(Payment)):
        assert sum(t.amount for t in payment.tenders) == payment.amount
        assert sum(t.refunded_amount for t in payment.tenders) == payment.refunded_amount
        held += sum(
            t.amount
            for t in payment.tenders
            if t.status is TenderStatus.HELD and t.kind is not TenderKind.POINTS
        )
        captured += sum(
            t.amount - t.refunded_amount for t in payment.tenders if t.status is TenderStatus.CAPTURED
        )
        if payment.status is PaymentStatus.PENDING:
            assert {t.status for t in payment.tenders} <= {TenderStatus.HELD, TenderStatus.AWAITING}
    assert balance(session, "payment_holds") == held
    assert balance(session, "sales_clearing") == captured


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(opens, moves), min_size=1, max_size=10))
def test_the_books_balance_whatever_happens_to_payments(session, shopper, steps):
    top_up_balance(session, user_id=shopper.id, amount=10_000, reason="test", actor_id=None)
    grant_points(session, user_id=shopper.id, points=5_000, reason="test", actor_id=None)
    payments: list[Payment] = []
    txn = 0
    for step in steps:
        try:
            with session.begin_nested():
                if step[0] == "open":
                    _, amount, with_card, points, balance_fen = step
                    payments.append(
                        open_payment(
                            session,
                            shopper_id=shopper.id,
                            amount=amount,
                            checkout_id=None,
                            tenders=_tenders(with_card, points, balance_fen),
                            expires_at=None,
                        )
                    )
                elif payments:
                    kind, index, amount = step
                    payment = payments[index % len(payments)]
                    if kind == "capture":
                        capture_payment(session, payment)
                    elif kind == "pay_gateway":
                        txn += 1
                        capture_payment(session, payment, provider_txn_id=f"T{txn}")
                    elif kind == "release":
                        release_payment(session, payment, status=PaymentStatus.EXPIRED, reason="timeout")
                    else:
                        refund_payment(session, payment, amount=amount, order_id=None, reason="refund")
        except DomainError:
            pass
        _check(session)
    session.rollback()
