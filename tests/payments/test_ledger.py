"""The double-entry ledger: every entry balances, holders' accounts never go negative, no double spend."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.payments.errors import InsufficientFunds, UnbalancedEntry
from marketplace.payments.ledger import account, balance, post
from marketplace.payments.models import AccountKind, JournalEntry, JournalLine, LedgerAccount
from tests.concurrency import race


def _topped_up(session, code: str, amount: int) -> LedgerAccount:
    wallet = account(session, code, AccountKind.CUSTOMER_BALANCE)
    gateway = account(session, "gateway:clearing", AccountKind.GATEWAY_CLEARING)
    post(session, kind="topup", lines=[(wallet, amount), (gateway, -amount)])
    return wallet


def test_a_hold_capture_and_release_move_money_between_accounts(session):
    wallet = _topped_up(session, "user:1:balance", 10_000)
    holds = account(session, "payments:holds", AccountKind.PAYMENT_HOLDS)
    shop = account(session, "merchant:1:payable", AccountKind.MERCHANT_PAYABLE)

    post(session, kind="hold", lines=[(wallet, -3_000), (holds, 3_000)], payment_id=1)
    post(session, kind="capture", lines=[(holds, -2_000), (shop, 2_000)], payment_id=1)
    post(session, kind="release", lines=[(holds, -1_000), (wallet, 1_000)], payment_id=1)
    session.commit()

    assert [balance(session, c) for c in ("user:1:balance", "payments:holds", "merchant:1:payable")] == [
        8_000,
        0,
        2_000,
    ]
    assert balance(session, "gateway:clearing") == -10_000


def test_an_unbalanced_entry_is_refused_and_changes_nothing(session):
    wallet = _topped_up(session, "user:2:balance", 500)
    holds = account(session, "payments:holds", AccountKind.PAYMENT_HOLDS)
    session.commit()

    with pytest.raises(UnbalancedEntry):
        post(session, kind="hold", lines=[(wallet, -300), (holds, 200)])
    session.rollback()

    assert balance(session, "user:2:balance") == 500
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == 1


def test_spending_more_than_the_balance_is_refused_and_changes_nothing(session):
    wallet = _topped_up(session, "user:3:balance", 500)
    holds = account(session, "payments:holds", AccountKind.PAYMENT_HOLDS)
    session.commit()

    with pytest.raises(InsufficientFunds) as refused:
        post(session, kind="hold", lines=[(wallet, -501), (holds, 501)])
    session.rollback()

    assert refused.value.facts == {"account": "user:3:balance"}
    assert (balance(session, "user:3:balance"), balance(session, "payments:holds")) == (500, 0)


def test_concurrent_payments_cannot_spend_one_balance_twice(app, postgres_only):
    """10 payments of 30 race for a balance of 100 on separate connections: exactly 3 are paid."""
    with app.app_context(), acting_as(SYSTEM):
        _topped_up(db.session, "user:9:balance", 100)
        account(db.session, "payments:holds", AccountKind.PAYMENT_HOLDS)
        db.session.commit()

    def pay(payment_id: int) -> None:
        wallet = account(db.session, "user:9:balance", AccountKind.CUSTOMER_BALANCE)
        holds = account(db.session, "payments:holds", AccountKind.PAYMENT_HOLDS)
        post(db.session, kind="hold", lines=[(wallet, -30), (holds, 30)], payment_id=payment_id)

    outcomes = race(app, 10, pay, InsufficientFunds)

    assert sorted(outcomes) == ["refused"] * 7 + ["won"] * 3
    with app.app_context():
        assert (balance(db.session, "user:9:balance"), balance(db.session, "payments:holds")) == (10, 90)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(["topup", "hold", "capture", "release"]), st.integers(1, 5_000)),
        max_size=12,
    )
)
def test_the_books_always_balance(session, steps):
    """Whatever sequence of movements succeeds or is refused, every entry and the whole ledger sum to zero."""
    wallet = account(session, "user:42:balance", AccountKind.CUSTOMER_BALANCE)
    gateway = account(session, "gateway:clearing", AccountKind.GATEWAY_CLEARING)
    holds = account(session, "payments:holds", AccountKind.PAYMENT_HOLDS)
    shop = account(session, "merchant:7:payable", AccountKind.MERCHANT_PAYABLE)
    moves = {
        "topup": lambda n: [(wallet, n), (gateway, -n)],
        "hold": lambda n: [(wallet, -n), (holds, n)],
        "capture": lambda n: [(holds, -n), (shop, n)],
        "release": lambda n: [(holds, -n), (wallet, n)],
    }
    for kind, amount in steps:
        try:
            with session.begin_nested():
                post(session, kind=kind, lines=moves[kind](amount))
        except InsufficientFunds:
            pass

    per_entry = session.execute(
        select(JournalLine.entry_id, func.sum(JournalLine.amount)).group_by(JournalLine.entry_id)
    )
    assert all(total == 0 for _entry, total in per_entry)
    assert session.scalar(select(func.sum(LedgerAccount.balance))) == 0
    for ledger_account in session.scalars(select(LedgerAccount)):
        lines = session.scalar(
            select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
                JournalLine.account_id == ledger_account.id
            )
        )
        assert ledger_account.balance == lines
        assert ledger_account.allow_negative or ledger_account.balance >= 0
    session.rollback()
