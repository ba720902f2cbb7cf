"""No double spend: payments racing on separate connections for one gift card or one balance (PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.payments.accounts import balance_code, gift_card_code
from marketplace.payments.errors import GiftCardEmpty, InsufficientBalance
from marketplace.payments.models import Payment, PaymentTender, TenderKind
from marketplace.payments.services import TenderRequest, open_payment
from tests.concurrency import race
from tests.payments.helpers import assert_books_balance, balances, funded_shopper, gift_card


def _held(app, kind: TenderKind) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(PaymentTender.amount).where(PaymentTender.kind == kind)))


def test_eight_payments_racing_for_one_gift_card_spend_it_once(app, postgres_only):
    """Each payment wants the whole card (¥50): exactly one holds it, the others are refused."""
    gift_card(app, "GC-RACE-0001", 5_000)

    def pay(n: int) -> None:
        open_payment(
            db.session,
            shopper_id=None,
            amount=5_000,
            checkout_id=n,
            tenders=[TenderRequest(TenderKind.GIFT_CARD, code="GC-RACE-0001", pin="123456")],
            expires_at=None,
        )

    outcomes = race(app, 8, pay, GiftCardEmpty)

    assert sorted(outcomes) == ["refused"] * 7 + ["won"]
    assert _held(app, TenderKind.GIFT_CARD) == [5_000]
    with app.app_context():
        assert balances(db.session, gift_card_code("GC-RACE-0001"), "payment_holds") == [0, 5_000]
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
        assert_books_balance(db.session)


def test_ten_payments_racing_for_one_balance_never_overdraw_it(app, postgres_only):
    """A ¥100 balance, ten payments of ¥30 each from it: three are held, seven refused, the balance ¥10."""
    shopper = funded_shopper(app, balance_fen=10_000)

    def pay(n: int) -> None:
        open_payment(
            db.session,
            shopper_id=shopper.id,
            amount=5_000,
            checkout_id=n,
            tenders=[TenderRequest(TenderKind.BALANCE, amount=3_000)],
            expires_at=None,
        )

    outcomes = race(app, 10, pay, InsufficientBalance)

    assert sorted(outcomes) == ["refused"] * 7 + ["won"] * 3
    assert _held(app, TenderKind.BALANCE) == [3_000] * 3
    with app.app_context():
        assert balances(db.session, balance_code(shopper.id), "payment_holds") == [1_000, 9_000]
        assert_books_balance(db.session)
